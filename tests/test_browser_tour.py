"""The main screens as a customer sees them: two screen sizes, Russian and English.

Every page is opened at 1366×768 and 390×844 in both languages with real data; the browser must
report no Content-Security-Policy violation and no script error, axe-core must find no serious or
critical accessibility problem, and a screenshot of each is saved for a reviewer (CI keeps them as
the run's artefacts; see tests/browser.py).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import child_env
from tenants.services import handoff
from tests.browser import (
    SIZES,
    ConsoleWatch,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)

pytestmark = pytest.mark.browser


def _kirills_working_week(made: Any) -> dict[str, int]:
    """A window company a few weeks in: clients, deals on every stage, tasks, a request."""
    from crm_core.models import Lead, Pipeline
    from crm_core.services.clients import ClientInput, create_client
    from crm_core.services.deals import create_deal
    from crm_core.services.tasks import create_task
    from tenants.models import Membership

    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        pipeline = Pipeline.objects.get(is_default=True)
        stages = list(pipeline.stages.order_by("position"))
        clients = [
            create_client(
                membership=owner,
                company=made.company,
                data=ClientInput(
                    name=name, phones=[phone], contact_name=person, email=f"{n}@example.ru"
                ),
            )
            for n, (name, phone, person) in enumerate(
                [
                    ("ООО «СтройДом»", "+7 916 123-45-67", "Орлов Георгий"),
                    ("Иванова Мария", "+7 903 765-43-21", "Иванова Мария"),
                    ("ИП Васильков", "8 (495) 555-12-34", "Васильков Пётр"),
                ]
            )
        ]
        deals = []
        for n, stage in enumerate(stages):
            if stage.outcome == "lost":
                continue
            deals.append(
                create_deal(
                    membership=owner,
                    title=f"Окна ПВХ, объект {n + 1}",
                    pipeline=pipeline,
                    stage=stage,
                    client=clients[n % len(clients)],
                    amount=Decimal(74400 + 10000 * n),
                    source="site",
                )
            )
        create_task(
            membership=owner,
            title="Перезвонить по замеру",
            deadline=timezone.now() + timedelta(hours=3),
            deal=deals[0],
        )
        Lead.objects.create(name="Сергей", phone="+79161112233", message="Нужны окна на дачу")
    return {"deal": deals[0].pk, "client": clients[0].pk}


def test_main_screens_at_both_sizes_in_both_languages(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    made = committed_companies("Окна Кирилла")
    ids = _kirills_working_week(made)
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    host = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()

    screens = {
        "home": "/",
        "board": "/deals/",
        "deal": f"/deals/{ids['deal']}/",
        "deals-list": "/deals/list/",
        "clients": "/clients/",
        "client": f"/clients/{ids['client']}/",
        "contacts": "/contacts/",
        "requests": "/leads/",
        "my-day": "/tasks/",
        "calendar": "/tasks/calendar/",
        "reports": "/reports/",
        "products": "/products/",
        "automation": "/automation/",
        "settings": "/settings/",
        "search": "/search/?q=окна",
    }
    problems: dict[str, list[str]] = {}
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for name, path in screens.items():
                where = f"{name}-{size}-{language}"
                response = page.goto(f"{host}{path}")
                assert response is not None
                assert response.status == 200, f"{where}: {response.status}"
                page.wait_for_load_state("networkidle")
                assert page.evaluate("document.documentElement.lang") == language, where
                save_screenshot(page, f"tour-{where}")
                found = watch.take() + serious_accessibility_problems(page)
                if found:
                    problems[where] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
