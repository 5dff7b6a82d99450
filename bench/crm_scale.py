"""Search, board and client list with 1,000,000 contacts and 200,000 deals in one company.

    .venv/bin/python bench/crm_scale.py [--contacts 1000000] [--deals 200000] [--samples 40]

Generates the data set with COPY (once; reused while its size matches), then measures the
search box (name with a typo, e-mail, INN, phone fragments), the deal board and the client list
for an owner (sees everything) and a manager (own records), single user and 20 concurrent users.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from typing import Any

from common import configure, machine, percentile, write_section

LAST = [
    "Иванов",
    "Петров",
    "Сидоров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Алексеев",
    "Егоров",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
]
FIRST = [
    "Иван",
    "Пётр",
    "Анна",
    "Мария",
    "Сергей",
    "Ольга",
    "Дмитрий",
    "Елена",
    "Алексей",
    "Наталья",
]
WORDS = [
    "Ромашка",
    "Север",
    "Вектор",
    "Альфа",
    "Строй",
    "Торг",
    "Сервис",
    "Окна",
    "Двери",
    "Мебель",
    "Техно",
    "Групп",
]


def generate(
    schema: str, contacts: int, deals: int, users: list[int], stage_ids: list[int], pipeline_id: int
) -> None:
    import psycopg
    from stdnum.ru import inn as ru_inn

    from tenants.services.schema_migrations import _dsn

    rng = random.Random(42)
    clients = contacts // 10

    def inn_for(n: int) -> str:
        base = f"77{n:07d}"
        for check in range(10):
            if ru_inn.is_valid(base + str(check)):
                return base + str(check)
        return ""

    with psycopg.connect(_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}", public')
        # From empty, numbered from 1 (the rows below point at ids 1..N): a run that failed
        # half-way rolled its rows back but not its sequences. The trigger-kept totals go too.
        cur.execute(
            "TRUNCATE crm_core_client, crm_core_contact, crm_core_phone, crm_core_deal, "
            "crm_core_dealtotal, crm_core_contactname RESTART IDENTITY CASCADE"
        )
        with cur.copy(
            "COPY crm_core_client (kind, name, full_name, inn, inn_status, kpp, legal_address, postal_address, bank_name, bik, bank_account, correspondent_account, website, industry, tags, source, responsible_id, custom, created_at, updated_at, version) FROM STDIN"
        ) as copy:
            for n in range(1, clients + 1):
                name = f"ООО {rng.choice(WORDS)}-{rng.choice(WORDS)} {n}"
                copy.write_row(
                    (
                        "legal",
                        name,
                        "",
                        inn_for(n),
                        "valid",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "{}",
                        "import",
                        rng.choice(users),
                        "{}",
                        "2026-01-01",
                        "2026-01-01",
                        1,
                    )
                )
        with cur.copy(
            "COPY crm_core_contact (client_id, last_name, first_name, middle_name, position, emails, messengers, responsible_id, custom, created_at, updated_at, version) FROM STDIN"
        ) as copy:
            for n in range(1, contacts + 1):
                copy.write_row(
                    (
                        rng.randint(1, clients),
                        rng.choice(LAST),
                        rng.choice(FIRST),
                        "",
                        "",
                        "{" + f"c{n}@example.ru" + "}",
                        "{}",
                        rng.choice(users),
                        "{}",
                        "2026-01-01",
                        "2026-01-01",
                        1,
                    )
                )
        with cur.copy(
            "COPY crm_core_phone (contact_id, e164, extension, raw, kind) FROM STDIN"
        ) as copy:
            for n in range(1, contacts + 1):
                number = f"+79{rng.randint(0, 999999999):09d}"
                copy.write_row((n, number, "", number, "mobile"))
        with cur.copy(
            "COPY crm_core_deal (title, client_id, amount, currency, pipeline_id, stage_id, stage_entered_at, responsible_id, source, custom, created_at, updated_at, version, lost_reason, tags) FROM STDIN"
        ) as copy:
            for n in range(1, deals + 1):
                copy.write_row(
                    (
                        f"Заказ {n}: {rng.choice(WORDS)}",
                        rng.randint(1, clients),
                        rng.randint(1000, 500000),
                        "RUB",
                        pipeline_id,
                        rng.choice(stage_ids),
                        "2026-01-01",
                        rng.choice(users),
                        "site",
                        "{}",
                        f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
                        "2026-01-01",
                        1,
                        "",
                        "{}",
                    )
                )
        for table in ("crm_core_client", "crm_core_contact", "crm_core_phone", "crm_core_deal"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.commit()
    # What autovacuum does in a running system after a bulk load: statistics, and the GIN
    # indexes' pending lists merged (a fresh COPY leaves megabytes of them, and every e-mail or
    # trigram look-up scans the pending list first: 48 ms instead of 0.1 ms for one e-mail).
    vacuumed = ("crm_core_client", "crm_core_contact", "crm_core_phone", "crm_core_deal")
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        for table in (*vacuumed, "crm_core_contactname"):
            conn.execute(f'VACUUM (ANALYZE) "{schema}".{table}')


def furnish(schema: str, company: Any, managers: list[Any]) -> None:
    """What a company's day runs on besides the base: the deals' expected and actual close
    dates, a task history (one done call a deal) and the work ahead (an open call or meeting on
    every tenth open deal, due from three weeks ago to a month ahead, and a task on every
    fiftieth client: ~30 a day for each of the ten people), two teams with their heads, a month's sales targets, three administrators, a
    catalogue of 500 products with a dealer price list. Idempotent: done once per data set.
    The pages of bench/load.py (home, calendar, tasks, board cards' next task, forecast) read
    these; without them they measure empty tables."""
    import psycopg

    from crm_core.models import Employee, PriceList, Product, ProductPrice, SalesTarget, Team
    from tenants.models import Membership, User
    from tenants.services.schema_migrations import _dsn

    with psycopg.connect(_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}", public')
        cur.execute("TRUNCATE crm_core_task RESTART IDENTITY CASCADE")
        # Spread over a year around the benchmark's date; closed deals closed after creation.
        cur.execute(
            """UPDATE crm_core_deal d SET
                 expected_close = date_trunc('month', now())::date - 90 + (d.id * 37 % 270)::int,
                 closed_at = CASE WHEN s.outcome <> 'open'
                                  THEN d.created_at + (d.id % 60) * interval '1 day' END
               FROM crm_core_stage s WHERE s.id = d.stage_id"""
        )
        cur.execute(
            """INSERT INTO crm_core_task (title, kind, deadline, description, done_at, created_at,
                   assignee_id, created_by_id, deal_id, recurrence)
               SELECT 'Позвонить: ' || d.title, 'call', d.created_at + interval '2 days', '',
                      d.created_at + interval '2 days', d.created_at, d.responsible_id,
                      d.responsible_id, d.id, ''
               FROM crm_core_deal d"""
        )
        cur.execute(
            """INSERT INTO crm_core_task (title, kind, deadline, duration_minutes, description,
                   created_at, assignee_id, created_by_id, deal_id, recurrence)
               SELECT CASE WHEN d.id % 4 = 0 THEN 'Встреча: ' ELSE 'Перезвонить: ' END
                          || d.title,
                      CASE WHEN d.id % 4 = 0 THEN 'meeting' ELSE 'call' END,
                      date_trunc('day', now()) + ((d.id * 7919) % 51 - 20) * interval '1 day'
                          + (9 + d.id % 9) * interval '1 hour',
                      CASE WHEN d.id % 4 = 0 THEN 60 END, '', d.created_at,
                      d.responsible_id, d.responsible_id, d.id, ''
               FROM crm_core_deal d JOIN crm_core_stage s ON s.id = d.stage_id
               WHERE s.outcome = 'open' AND d.id % 10 = 0"""
        )
        cur.execute(
            """INSERT INTO crm_core_task (title, kind, deadline, description, created_at,
                   assignee_id, created_by_id, client_id, recurrence)
               SELECT 'Сверка с ' || c.name, 'other',
                      date_trunc('day', now()) + ((c.id * 31) % 41 - 10) * interval '1 day'
                          + interval '11 hours', '', c.created_at, c.responsible_id,
                      c.responsible_id, c.id, ''
               FROM crm_core_client c WHERE c.id % 50 = 0"""
        )
        conn.commit()
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute(f'VACUUM (ANALYZE) "{schema}".crm_core_task')
        conn.execute(f'VACUUM (ANALYZE) "{schema}".crm_core_deal')
    for n in range(3):
        user = User.objects.filter(
            email=f"big-a{n}@example.com"
        ).first() or User.objects.create_user(email=f"big-a{n}@example.com", password=None)
        Membership.objects.get_or_create(company=company, user=user, defaults={"role": "admin"})
    with company:
        month = time.strftime("%Y-%m-01")
        for name, people in (("Отдел продаж 1", managers[:5]), ("Отдел продаж 2", managers[5:])):
            team = Team.objects.get_or_create(name=name, defaults={"head_id": people[0].user_id})[0]
            for member in people:
                Employee.objects.update_or_create(user_id=member.user_id, defaults={"team": team})
            SalesTarget.objects.get_or_create(
                month=month, kind="amount", team=team, defaults={"value": 30_000_000}
            )
            for member in people:
                SalesTarget.objects.get_or_create(
                    month=month,
                    kind="amount",
                    user_id=member.user_id,
                    defaults={"value": 6_000_000},
                )
        if not Product.objects.exists():
            rng = random.Random(7)
            Product.objects.bulk_create(
                Product(
                    name=f"{rng.choice(WORDS)} {rng.choice(['окно', 'дверь', 'профиль', 'стеклопакет'])} {n}",
                    sku=f"SKU-{n:05d}",
                    price=rng.randint(1_000, 90_000),
                    vat_rate=rng.choice(["22", "10", "0", "none"]),
                )
                for n in range(1, 501)
            )
            dealer = PriceList.objects.get_or_create(name="Дилерский")[0]
            ProductPrice.objects.bulk_create(
                ProductPrice(price_list=dealer, product=product, price=product.price * 85 / 100)
                for product in Product.objects.all()
            )


def timed(fn: Any, samples: int) -> list[float]:
    values = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        values.append(time.perf_counter() - started)
    return values


def concurrent(fn: Any, users: int, per_user: int) -> list[float]:
    from django.db import connections

    values: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        mine = timed(fn, per_user)
        connections.close_all()
        with lock:
            values.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return values


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} / {percentile(values, 95) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    configure(fresh=False)

    from django.core.management import call_command
    from django.test import Client as HttpClient
    from django.test.utils import setup_test_environment

    from crm_core.models import Contact, Deal, Pipeline
    from crm_core.queries.search import search
    from tenants.models import Company, Membership, User
    from tenants.services import handoff
    from tenants.services.provisioning import create_company

    setup_test_environment()
    call_command("migrate_companies", parallel=2, verbosity=0)
    company = Company.objects.filter(slug="bigco").first()
    if company is None:
        company = create_company(
            name="Big Co",
            slug="bigco",
            owner_email="big-owner@example.com",
            owner_password="Correct-Horse-42",
        ).company
    owner = Membership.objects.get(company=company, role="owner")
    managers = []
    for n in range(9):
        user = User.objects.filter(
            email=f"big-m{n}@example.com"
        ).first() or User.objects.create_user(email=f"big-m{n}@example.com", password=None)
        managers.append(
            Membership.objects.get_or_create(
                company=company, user=user, defaults={"role": "manager"}
            )[0]
        )
    users = [owner.user_id] + [m.user_id for m in managers]
    with company:
        have = Contact.objects.count()
        if have != args.contacts:
            print("generating…", flush=True)
            started = time.perf_counter()
            pipeline = Pipeline.objects.get(is_default=True)
            from crm_core.models import Client, Phone

            Deal.objects.all().delete()
            Phone.objects.all().delete()
            Contact.objects.all().delete()
            Client.objects.all().delete()
            generate(
                company.schema_name,
                args.contacts,
                args.deals,
                users,
                list(pipeline.stages.values_list("id", flat=True)),
                pipeline.pk,
            )
            print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
        from crm_core.models import Task

        if not Task.objects.exists():
            print("furnishing…", flush=True)
            furnish(company.schema_name, company, managers)
        sample_contact = Contact.objects.order_by("?").select_related("client").first()
        assert sample_contact is not None
        phone = sample_contact.phones.first()
        assert phone is not None
    manager = managers[0]
    typo_name = sample_contact.last_name.replace("о", "а", 1)
    queries = {
        "name with a typo": typo_name,
        "e-mail": sample_contact.emails[0],
        "INN": sample_contact.client.inn if sample_contact.client else "",
        "4 phone digits": phone.e164[-4:],
        "7 phone digits": phone.e164[-7:],
        "deal title": "Заказ 12345",
    }
    search_rows = []
    for label, q in queries.items():

        def run(q: str = q) -> None:
            with company:
                search(owner, q)

        search_rows.append(f"| search: {label} (`{q}`) | {fmt(timed(run, args.samples))} |")

    def page(member: Membership, path: str) -> Any:
        host = "bigco.localhost"
        browser = HttpClient()
        token = handoff.issue(user=member.user, company=company)
        browser.get(f"/handoff/{token}/", HTTP_HOST=host)

        def run() -> None:
            response = browser.get(path, HTTP_HOST=host)
            assert response.status_code == 200, response.status_code

        return run

    page_rows = []
    for label, member, path in [
        (f"deal board, owner (all {args.deals:,} deals)", owner, "/deals/"),
        ("deal board, manager (own deals)", manager, "/deals/"),
        ("deal board, owner, filtered by source", owner, "/deals/?source=site"),
        ("deal list page, owner", owner, "/deals/list/"),
        ("client list page, owner", owner, "/clients/"),
        ("client list page, manager", manager, "/clients/"),
        ("contact list page, owner", owner, "/contacts/"),
        ("contact list page, manager", manager, "/contacts/"),
        ("search page, owner", owner, f"/search/?q={typo_name}"),
    ]:
        single = timed(page(member, path), args.samples)
        loaded = concurrent(page(member, path), users=20, per_user=max(3, args.samples // 10))
        page_rows.append(f"| {label} | {fmt(single)} | {fmt(loaded)} |")

    body = f"""
## CRM at {args.contacts:,} contacts and {args.deals:,} deals in one company

Command: `.venv/bin/python bench/crm_scale.py --contacts {args.contacts} --deals {args.deals} --samples {args.samples}`
Machine: {machine()}. Data: {args.contacts // 10} clients, {args.contacts} contact persons with one phone and
e-mail each, {args.deals} deals over 7 stages, 13 members; the work of `furnish` (tasks, close
dates, teams, targets, a catalogue). Times are median / p95 server time
(Django's full stack through the test client, no network).

| query | median / p95 |
|---|---|
{chr(10).join(search_rows)}

| page | one user | 20 concurrent users |
|---|---|---|
{chr(10).join(page_rows)}
"""
    print(body)
    write_section("crm_scale", body)


if __name__ == "__main__":
    main()
