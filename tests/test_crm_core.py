"""The CRM inside a company: clients, the board, deals, tasks, visibility and isolation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_core.models import (
    Activity,
    Deal,
    Phone,
    Pipeline,
    Stage,
    StageChange,
    Task,
)
from crm_core.normalise import clean_inn, parse_phone
from crm_core.queries.deals import board
from crm_core.queries.tasks import my_day
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import StaleRecordError, create_deal, move_deal
from crm_core.services.tasks import complete_task, create_task
from tenants.models import Membership
from tests.test_isolation import login_on_host


# --- Normalisation ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7707083893", ("7707083893", "valid")),  # legal entity (10 digits)
        ("500100732259", ("500100732259", "valid")),  # person / sole trader (12 digits)
        ("77 07 083 893", ("7707083893", "valid")),
        ("", ("", "")),
    ],
)
def test_inn_is_checksum_validated(raw: str, expected: tuple[str, str]) -> None:
    assert clean_inn(raw) == expected


def test_inn_with_the_leading_zero_excel_dropped_is_restored() -> None:
    # A valid 10-digit INN starting with 0, as Excel shows it after treating it as a number.
    from stdnum.ru import inn

    candidates = (f"0{n:09d}" for n in range(100000000, 100001000))
    valid = next(c for c in candidates if inn.is_valid(c))
    assert clean_inn(valid.lstrip("0")) == (valid, "valid")


@pytest.mark.parametrize("raw", ["7707083894", "12345", "abcdefghij"])
def test_bad_inn_is_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(ValidationError) as error:
        clean_inn(raw)
    assert error.value.code == "invalid_inn"


def test_foreign_tax_id_is_kept_and_flagged() -> None:
    assert clean_inn("DE123456789", foreign=True) == ("DE123456789", "foreign")


@pytest.mark.parametrize(
    ("raw", "e164", "ext"),
    [
        ("8 (916) 123-45-67", "+79161234567", ""),
        ("+7 916 123 45 67 доб. 123", "+79161234567", "123"),
        ("89161234567", "+79161234567", ""),
        ("+7 727 258 24 24", "+77272582424", ""),  # Almaty, Kazakhstan
    ],
)
def test_phones_are_normalised_to_e164(raw: str, e164: str, ext: str) -> None:
    phone = parse_phone(raw)
    assert (phone.e164, phone.extension, phone.raw) == (e164, ext, raw)


@pytest.mark.parametrize("raw", ["12", "not a phone", "+7 000 000"])
def test_impossible_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_phone(raw)


def test_a_new_company_starts_with_kirills_pipeline(crm: Any) -> None:
    with crm.a:
        names = list(crm.pipeline.stages.order_by("position").values_list("name", flat=True))
        outcomes = set(crm.pipeline.stages.values_list("outcome", flat=True))
    assert len(names) == 7
    assert names[0] == "Первый звонок"  # the company's language is Russian
    assert outcomes == {"open", "won", "lost"}


def test_create_client_with_phone_and_contact(crm: Any) -> None:
    with crm.a:
        client = create_client(
            membership=crm.manager,
            company=crm.a.company,
            data=ClientInput(
                name="ООО Ромашка",
                inn="7707083893",
                phones=["8 916 123-45-67"],
                contact_name="Петров Иван",
                email="Ivan@Romashka.ru",
            ),
        )
        contact = client.contacts.get()
        assert (contact.last_name, contact.first_name, contact.emails) == (
            "Петров",
            "Иван",
            ["ivan@romashka.ru"],
        )
        assert Phone.objects.get(contact=contact).e164 == "+79161234567"
        with pytest.raises(ValidationError) as error:
            create_client(
                membership=crm.manager,
                company=crm.a.company,
                data=ClientInput(name="Bad", inn="7707083894", phones=["12"]),
            )
        assert set(error.value.error_dict) == {"inn", "phones"}


def test_moving_a_deal_records_history_and_refuses_bad_moves(crm: Any) -> None:
    with crm.a:
        first, measurement = crm.pipeline.stages.order_by("position")[:2]
        deal = create_deal(membership=crm.manager, title="Окна на дачу", pipeline=crm.pipeline)
        assert deal.stage == first
        Deal.objects.filter(pk=deal.pk).update(
            stage_entered_at=timezone.now() - timedelta(minutes=7)
        )
        moved = move_deal(
            membership=crm.manager, deal=deal, stage=measurement, version=deal.version
        )
        change = StageChange.objects.filter(deal=deal, from_stage=first).get()
        assert change.seconds_in_previous >= 7 * 60
        assert moved.version == deal.version + 1
        assert Activity.objects.filter(deal=deal, kind="stage").exists()

        with pytest.raises(StaleRecordError):  # someone saw the deal before this move
            move_deal(membership=crm.colleague, deal=deal, stage=first, version=deal.version)
        other = Pipeline.objects.create(name="Service")
        foreign = Stage.objects.create(pipeline=other, name="Elsewhere")
        with pytest.raises(ValidationError) as error:
            move_deal(membership=crm.manager, deal=moved, stage=foreign)
        assert error.value.code == "wrong_pipeline"
        with pytest.raises(PermissionDenied):
            move_deal(membership=crm.viewer, deal=moved, stage=first)


def test_tasks_in_my_day_and_completion(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Замер", pipeline=crm.pipeline)
        with pytest.raises(ValidationError):
            create_task(
                membership=crm.manager, title="late", deadline=timezone.now() - timedelta(hours=1)
            )
        soon = create_task(
            membership=crm.manager,
            title="Call back",
            deadline=timezone.now() + timedelta(minutes=15),
            deal=deal,
        )
        later = create_task(
            membership=crm.manager,
            title="Measure",
            deadline=timezone.now() + timedelta(days=3),
            kind="measurement",
            deal=deal,
        )
        overdue = Task.objects.create(
            title="Forgot", assignee=crm.manager.user, deadline=timezone.now() - timedelta(hours=2)
        )
        day = my_day(crm.manager, crm.a.company)
        assert [t.pk for t in day.overdue] == [overdue.pk]
        assert later.pk in [t.pk for t in day.upcoming]
        assert soon.pk in [t.pk for t in day.today + day.upcoming]
        complete_task(membership=crm.manager, task=soon)
        assert Task.objects.get(pk=soon.pk).done_at is not None
        assert soon.pk not in [t.pk for t in my_day(crm.manager, crm.a.company).today]


def test_my_day_lists_the_first_of_a_long_pile_and_links_to_the_rest(crm: Any) -> None:
    """Sixty overdue calls neither bury today's task nor fill the page: each list shows its
    first 50 with the true count and a link to the rest in the task list."""
    from crm_core.queries.tasks import MY_DAY_SHOWN

    now = timezone.now()
    with crm.a:
        Task.objects.bulk_create(
            Task(title=f"Старый звонок {n}", assignee=crm.manager.user,
                 deadline=now - timedelta(days=30, minutes=n))
            for n in range(MY_DAY_SHOWN + 10)
        )  # fmt: skip
        today = Task.objects.create(
            title="Сегодняшний замер",
            assignee=crm.manager.user,
            deadline=now + timedelta(minutes=5),
        )
        day = my_day(crm.manager, crm.a.company)
    assert (len(day.overdue), day.overdue_count) == (MY_DAY_SHOWN, MY_DAY_SHOWN + 10)
    assert [t.pk for t in day.today + day.upcoming][:1] == [today.pk]
    page = login_on_host(crm.manager.user, crm.a.company, crm.a.host).get(
        "/tasks/", HTTP_HOST=crm.a.host
    )
    text = page.content.decode()
    assert "Сегодняшний замер" in text
    assert text.count("Старый звонок") == MY_DAY_SHOWN
    assert f"({MY_DAY_SHOWN + 10})" in text
    assert (
        f'href="/tasks/list/?status=overdue&amp;assignee={crm.manager.user_id}" id="more-overdue"'
        in text
    )
    assert "more-today" not in text


def test_visibility_own_team_all_on_every_page(crm: Any) -> None:
    with crm.a:
        mine = create_deal(
            membership=crm.manager,
            title="Deal of manager one",
            pipeline=crm.pipeline,
            amount=Decimal(100),
        )
        theirs = create_deal(
            membership=crm.colleague,
            title="Deal of manager two",
            pipeline=crm.pipeline,
            amount=Decimal(50),
        )

    def titles(member: Membership) -> set[str]:
        with crm.a:
            return {d.title for col in board(member, crm.pipeline) for d in col.deals}

    assert titles(crm.manager) == {"Deal of manager one"}
    assert titles(crm.colleague) == {"Deal of manager two"}
    assert titles(crm.head) == {"Deal of manager one"}  # the head's team
    assert titles(crm.owner) == titles(crm.viewer) == {"Deal of manager one", "Deal of manager two"}
    with crm.a:
        counts = {
            col.stage.name: (col.count, col.total) for col in board(crm.manager, crm.pipeline)
        }
    assert counts["Первый звонок"] == (1, Decimal(100))  # counts and sums obey visibility too

    browser = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    board_page = browser.get("/deals/", HTTP_HOST=crm.a.host).content.decode()
    assert "Deal of manager one" not in board_page
    assert "Deal of manager two" in board_page
    assert browser.get(f"/deals/{mine.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    with crm.a:
        stage = crm.pipeline.stages.order_by("position")[1]
    assert (
        browser.post(
            f"/deals/{mine.pk}/move/", {"stage": stage.pk}, HTTP_HOST=crm.a.host
        ).status_code
        == 404
    )
    assert browser.get(f"/deals/{theirs.pk}/", HTTP_HOST=crm.a.host).status_code == 200

    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    refused = viewer.post(
        f"/deals/{mine.pk}/move/",
        {"stage": stage.pk},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code == 403


def test_board_moves_by_json_and_reports_conflicts(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Drag me", pipeline=crm.pipeline)
        _first, second, third = crm.pipeline.stages.order_by("position")[:3]
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    ok = browser.post(
        f"/deals/{deal.pk}/move/",
        {"stage": second.pk, "version": deal.version},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert ok.status_code == 200
    assert ok.json() == {"ok": True, "version": deal.version + 1, "stage": second.pk}
    stale = browser.post(
        f"/deals/{deal.pk}/move/",
        {"stage": third.pk, "version": deal.version},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["ok"] is False
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).stage_id == second.pk


def test_board_queries_do_not_grow_with_the_number_of_deals(crm: Any) -> None:
    def count_queries() -> int:
        with crm.a, CaptureQueriesContext(django_connection) as queries:
            columns = board(crm.owner, crm.pipeline)
            for column in columns:
                for card in column.deals:
                    assert card.client_name.startswith("C")
        return len([q for q in queries.captured_queries if not q["sql"].startswith("SET ")])

    with crm.a:
        for n in range(3):
            client = create_client(
                membership=crm.manager, company=crm.a.company, data=ClientInput(name=f"C{n}")
            )
            create_deal(membership=crm.manager, title=f"D{n}", pipeline=crm.pipeline, client=client)
    few = count_queries()
    with crm.a:
        for n in range(3, 30):
            client = create_client(
                membership=crm.manager, company=crm.a.company, data=ClientInput(name=f"C{n}")
            )
            create_deal(membership=crm.manager, title=f"D{n}", pipeline=crm.pipeline, client=client)
    # stages, today's rates, kept totals, the newest cards of every stage, their next tasks,
    # their marks (the payment by invoices, one grouped query)
    assert count_queries() == few == 6


def test_column_heads_kept_by_the_database_match_a_live_count(crm: Any) -> None:
    """The trigger-kept totals after creating, moving, re-amounting, reassigning, deleting and
    a bulk update — for the owner, a head and a manager, with and without filters."""
    from crm_core.models import DealTotal
    from crm_core.queries.deals import _counted, _in_base, visible_deals
    from crm_core.queries.rates import rates_today

    with crm.a:
        stages = list(crm.pipeline.stages.order_by("position"))
        deals = [
            create_deal(
                membership=member,
                title=f"D{n}",
                pipeline=crm.pipeline,
                amount=Decimal(100 * n),
            )
            for n, member in enumerate([crm.manager, crm.colleague, crm.owner] * 4)
        ]
        move_deal(membership=crm.manager, deal=deals[0], stage=stages[1], version=1)
        Deal.objects.filter(pk=deals[1].pk).update(amount=Decimal("12.34"))
        Deal.objects.filter(pk=deals[2].pk).update(responsible=crm.manager.user)
        Deal.objects.filter(pk=deals[3].pk).delete()
        Deal.objects.filter(title__in=["D4", "D5", "D6"]).update(stage=stages[2])
        Deal.objects.filter(pk=deals[7].pk).update(responsible=None)
        assert DealTotal.objects.exists()
        for member in (crm.owner, crm.head, crm.manager, crm.colleague):
            live = _in_base(
                _counted(visible_deals(member).filter(pipeline=crm.pipeline)), rates_today()
            )
            kept = {c.stage.pk: (c.count, c.total) for c in board(member, crm.pipeline) if c.count}
            assert kept == live, member.role
        # A filter counts live, and still within visibility.
        filtered = board(crm.manager, crm.pipeline, {"source": "nowhere"})
        assert all(c.count == 0 and not c.deals for c in filtered)


def test_company_b_cannot_reach_company_a_records_by_id(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.owner, title="A's secret deal", pipeline=crm.pipeline)
    intruder = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    # B's owner on B's host, asking for A's deal id: B's schema has no such deal.
    response = intruder.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.b.host)
    assert response.status_code == 404
    assert b"A's secret deal" not in response.content


def test_a_deal_is_lost_only_with_a_reason(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Дорого", pipeline=crm.pipeline)
        lost = crm.pipeline.stages.get(outcome="lost")
        with pytest.raises(ValidationError) as error:
            move_deal(membership=crm.manager, deal=deal, stage=lost)
        assert error.value.code == "lost_reason"
        moved = move_deal(
            membership=crm.manager, deal=deal, stage=lost, lost_reason="Дорого для клиента"
        )
        assert moved.lost_reason == "Дорого для клиента"
        assert moved.closed_at is not None
        won = crm.pipeline.stages.get(outcome="won")
        reopened = move_deal(membership=crm.manager, deal=moved, stage=won)
        assert reopened.lost_reason == ""
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    with crm.a:
        other = create_deal(
            membership=crm.manager, title="Ушли к конкурентам", pipeline=crm.pipeline
        )
    refused = browser.post(
        f"/deals/{other.pk}/move/",
        {"stage": lost.pk},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code == 400


def test_audit_log_records_changes_is_append_only_and_admin_only(crm: Any) -> None:
    from django.db import DatabaseError, transaction

    from crm_core.models import AuditEntry

    with crm.a:
        deal = create_deal(membership=crm.manager, title="Аудит", pipeline=crm.pipeline)
        second = crm.pipeline.stages.order_by("position")[1]
        move_deal(membership=crm.manager, deal=deal, stage=second)
        moves = AuditEntry.objects.filter(object_type="deal", object_id=deal.pk, action="move")
        (entry,) = moves
        assert entry.changes == {"stage": ["Первый звонок", second.name]}
        assert entry.actor_id == crm.manager.user_id
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = admin.get("/audit/", HTTP_HOST=crm.a.host).content.decode()
    assert "Первый звонок" in page
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/audit/", HTTP_HOST=crm.a.host).status_code == 404


def test_duplicates_are_found_while_typing_and_on_save(crm: Any) -> None:
    with crm.a:
        create_client(
            membership=crm.manager,
            company=crm.a.company,
            data=ClientInput(
                name="ООО Ромашка",
                inn="7707083893",
                phones=["+7 916 123-45-67"],
                email="a@romashka.ru",
                contact_name="Петров",
            ),
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    for query in ({"inn": "7707083893"}, {"phone": "8 916 123 45 67"}, {"email": "A@Romashka.ru"}):
        found = browser.get("/clients/duplicates/", query, HTTP_HOST=crm.a.host).content.decode()
        assert "ООО Ромашка" in found, query
    assert (
        "Ромашка"
        not in browser.get(
            "/clients/duplicates/", {"inn": "500100732259"}, HTTP_HOST=crm.a.host
        ).content.decode()
    )
    # A colleague who cannot see the record is told it exists, not whose or what it is.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    hint = colleague.get(
        "/clients/duplicates/",
        {"inn": "7707083893"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Ромашка" not in hint
    assert "colleague" in hint
    # Saving the same INN again asks first; "create anyway" creates.
    form = {"name": "Ромашка (дубль)", "inn": "7707083893"}
    again = browser.post("/", form, HTTP_HOST=crm.a.host)
    assert again.status_code == 200, again

    with crm.a:
        from crm_core.models import Client

        assert not Client.objects.filter(name="Ромашка (дубль)").exists()
    assert (
        browser.post("/", {**form, "create_anyway": "on"}, HTTP_HOST=crm.a.host).status_code == 302
    )
    with crm.a:
        assert Client.objects.filter(name="Ромашка (дубль)").exists()


def test_the_second_of_two_concurrent_edits_is_told_the_deal_changed(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    first = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    second = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    form = {
        "edit-title": "Окна и двери",
        "edit-amount": "120000",
        "edit-source": "site",
        "edit-version": deal.version,
    }
    assert first.post(f"/deals/{deal.pk}/edit/", form, HTTP_HOST=crm.a.host).status_code == 302
    page = second.post(
        f"/deals/{deal.pk}/edit/",
        {**form, "edit-title": "Только окна", "edit-amount": "90000"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    ).content.decode()
    assert "changed by someone else" in page
    with crm.a:
        saved = Deal.objects.get(pk=deal.pk)
        assert (saved.title, saved.amount) == ("Окна и двери", Decimal(120000))
        from crm_core.models import AuditEntry

        assert AuditEntry.objects.filter(object_id=deal.pk, action="update").count() == 1


def test_deal_list_filters_sorts_pages_and_obeys_visibility(crm: Any) -> None:
    with crm.a:
        for n in range(55):
            create_deal(
                membership=crm.manager,
                title=f"M{n:02d}",
                pipeline=crm.pipeline,
                amount=Decimal(n),
                source="site" if n % 2 else "call",
            )
        create_deal(
            membership=crm.colleague,
            title="Colleague's",
            pipeline=crm.pipeline,
            amount=Decimal(1000),
        )
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    first = owner.get("/deals/list/", {"sort": "amount"}, HTTP_HOST=crm.a.host)
    assert first.status_code == 200
    body = first.content.decode()
    assert body.index("Colleague&#x27;s") < body.index("M54")  # the largest amount first
    assert "M04" not in body  # page 1 holds 50 rows of 56
    second = owner.get(
        "/deals/list/", {"sort": "amount", "page": "2"}, HTTP_HOST=crm.a.host
    ).content.decode()
    assert "M04" in second
    only_site = owner.get("/deals/list/", {"source": "site"}, HTTP_HOST=crm.a.host).content.decode()
    assert "M01" in only_site
    assert "M02" not in only_site
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    mine = manager.get("/deals/list/", {"sort": "amount"}, HTTP_HOST=crm.a.host).content.decode()
    assert "Colleague" not in mine
    with crm.a, CaptureQueriesContext(django_connection) as queries:
        manager.get("/deals/list/", HTTP_HOST=crm.a.host)
    selects = [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) < 15  # constant: no query per row


def test_malformed_moves_get_a_clear_answer(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="x", pipeline=crm.pipeline)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    for bad in ({"stage": "abc"}, {"stage": ""}, {"stage": "1", "version": "v2"}):
        response = browser.post(
            f"/deals/{deal.pk}/move/", bad, HTTP_HOST=crm.a.host, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 400, bad
        assert response.json()["ok"] is False
    assert (
        browser.post(
            f"/deals/{deal.pk}/move/", {"stage": "999999"}, HTTP_HOST=crm.a.host
        ).status_code
        == 404
    )


def test_read_only_members_are_told_why_in_their_language(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    for path, data in (
        (f"/deals/{deal.pk}/log/", {"log-kind": "call", "log-result": "x"}),
        (f"/deals/{deal.pk}/items/", {"item-name": "x", "item-quantity": "1", "item-price": "1"}),
    ):
        page = viewer.post(path, data, HTTP_HOST=crm.a.host, follow=True).content.decode()
        assert "Ваша роль позволяет только просматривать." in page, path
    with crm.a:
        assert not Activity.objects.filter(deal=deal, kind="call").exists()


def test_board_cards_carry_their_links_and_amounts_as_people_and_scripts_read_them(
    crm: Any,
) -> None:
    from django.urls import reverse

    with crm.a:
        deal = create_deal(
            membership=crm.manager,
            title="Окна на дачу",
            pipeline=crm.pipeline,
            amount=Decimal("1234567.50"),
        )
        round_deal = create_deal(
            membership=crm.manager, title="Балкон", pipeline=crm.pipeline, amount=Decimal(90000)
        )
        detail, move = reverse("deal_detail", args=[deal.pk]), reverse("deal_move", args=[deal.pk])
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    # The script reads the plain number; people read it grouped with the language's separators.
    assert f'data-deal="{deal.pk}"' in page
    assert 'data-amount="1234567.50"' in page
    assert f'data-move-url="{move}"' in page
    assert f'href="{detail}"' in page
    # The deal's currency sign stays on the line of its number.
    assert "1\xa0234\xa0567,50\xa0₽" in page
    assert "90\xa0000\xa0₽" in page
    assert f'href="/deals/{round_deal.pk}/"' in page
    english = browser.get("/deals/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="en").content
    assert "1,234,567.50\xa0₽" in english.decode()
