"""Sign-up to usable workspace, with N companies present: Relata's pool vs running migrations.

    .venv/bin/python bench/signup.py [--companies 1000] [--samples 30] [--fresh]

Both paths go through the same HTTP requests a browser makes (POST /signup/, the handoff
redirect, GET / on the company host) and differ only in where the schema comes from: a
pre-migrated spare renamed (Relata), or a new schema built by running the migrations
(django-tenants' default create_schema path). Samples alternate between the two paths.
"""

from __future__ import annotations

import argparse
import time
import uuid

from common import configure, machine, populate, summary, write_section


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    args = parser.parse_args()
    configure(fresh=args.fresh)

    from django.test import Client as HttpClient
    from django.test.utils import setup_test_environment

    from tenants.models import Company
    from tenants.services import schema_pool

    setup_test_environment()  # in-memory e-mail; the requests themselves are real
    populate_seconds = populate(args.companies)
    print(f"{Company.objects.count()} companies present (set-up {populate_seconds:.0f} s)")
    built = schema_pool.refill(args.samples + 2)
    print(f"pool: built {built}, {schema_pool.ready_count()} ready")

    real_claim = schema_pool.claim

    def sign_up(use_pool: bool) -> tuple[float, float]:
        schema_pool.claim = real_claim if use_pool else (lambda target: False)  # type: ignore[assignment]
        slug = f"b-{uuid.uuid4().hex[:10]}"
        form = {
            "company_name": "Окна Кирилла",
            "slug": slug,
            "email": f"{slug}@example.com",
            "password": "Correct-Horse-42",
            "signup_key": str(uuid.uuid4()),
        }
        public, company_host = HttpClient(), HttpClient()
        started = time.perf_counter()
        response = public.post("/signup/", form)
        provisioned = time.perf_counter()
        location = response["Location"]
        host = f"{slug}.localhost"
        assert response.status_code == 302, response.status_code
        assert company_host.get(location.split(host, 1)[1], HTTP_HOST=host).status_code == 302
        workspace = company_host.get("/", HTTP_HOST=host)
        finished = time.perf_counter()
        assert workspace.status_code == 200
        return finished - started, provisioned - started

    from django.db import transaction

    def schema_only(use_pool: bool) -> float:
        """The provisioning step alone, rolled back (the spare returns to the pool)."""
        schema_pool.claim = real_claim if use_pool else (lambda target: False)  # type: ignore[assignment]
        with transaction.atomic():
            started = time.perf_counter()
            schema_pool.build_schema(f"c_probe_{uuid.uuid4().hex[:10]}")
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed

    pool_schema = [schema_only(True) for _ in range(args.samples)]
    migrate_schema = [schema_only(False) for _ in range(args.samples)]

    pool_total, pool_post, migrate_total, migrate_post = [], [], [], []
    sign_up(True)  # warm caches and imports on both paths before measuring
    sign_up(False)
    for _ in range(args.samples):
        total, post = sign_up(True)
        pool_total.append(total)
        pool_post.append(post)
        total, post = sign_up(False)
        migrate_total.append(total)
        migrate_post.append(post)
    schema_pool.claim = real_claim

    import statistics

    ratio = statistics.median(migrate_total) / statistics.median(pool_total)
    schema_ratio = statistics.median(migrate_schema) / statistics.median(pool_schema)
    body = f"""
## Sign-up to a usable workspace

Command: `.venv/bin/python bench/signup.py --companies {args.companies} --samples {args.samples}`
Machine: {machine()}. {Company.objects.count() - 2 * (args.samples + 1)} companies present before
the first sample. Each sample is the browser's three requests (POST /signup/, the handoff, GET /
on the company host) through Django's full stack, including Argon2 hashing of the password.

| path | sign-up to usable workspace | POST /signup/ alone |
|---|---|---|
| Relata: claim a pre-migrated spare schema (rename) | {summary(pool_total)} | {summary(pool_post)} |
| django-tenants default: run migrations for the new schema | {summary(migrate_total)} | {summary(migrate_post)} |

The whole sign-up is **{ratio:.1f}×** faster (medians, measured alternately in one run).

The provisioning step alone (the new company's schema made ready, inside a transaction that is
then rolled back):

| path | schema ready |
|---|---|
| Relata: rename a spare | {summary(pool_schema)} |
| django-tenants default: migrations | {summary(migrate_schema)} |

Provisioning is **{schema_ratio:.0f}×** faster.
"""
    print(body)
    write_section("signup", body)


if __name__ == "__main__":
    main()
