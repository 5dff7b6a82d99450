"""An owner sets up a team in a real browser: from Settings to "Teams and heads", creates a
team with a head, moves a colleague into it — then the screens are looked at at both sizes in
both languages (CSP, script errors, axe-core, screenshots)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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


def _colleagues(made: Any) -> dict[str, Any]:
    from crm_core.models import Client
    from tenants.models import Membership, User

    slug = made.company.slug
    people = {}
    for key, name, role in (
        ("olga", "Ольга Смирнова", "head"),
        ("anna", "Анна Ким", "manager"),
        ("boris", "Борис Орлов", "manager"),
    ):
        user = User.objects.create_user(email=f"{key}-{slug}@example.com", full_name=name)
        people[key] = Membership.objects.create(user=user, company=made.company, role=role)
    anna = people["anna"].user_id
    with made:
        Client.objects.create(name="ООО Стеклозавод", relationship="supplier", responsible_id=anna)
        Client.objects.create(name="Монтаж-Партнёр", relationship="partner", responsible_id=anna)
        Client.objects.create(name="ООО СтройДом", responsible_id=anna)
    return people


def test_owner_creates_a_team_names_its_head_and_moves_a_colleague(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Employee, Team

    made = committed_companies("Окна Кирилла")
    people = _colleagues(made)
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    host = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")

    # Settings → Teams and heads: empty at first, with the way to the first team.
    page.click("#nav-settings")
    page.click("#nav-teams")
    page.wait_for_selector("#teams-title")
    assert page.locator('[data-empty="teams"]').is_visible()
    save_screenshot(page, "teams-empty-laptop-ru")

    page.fill("#id_name", "Продажи")
    page.select_option("#id_head", str(people["olga"].user_id))
    page.click("#team-create")
    card = page.locator('[data-team="Продажи"]')
    card.wait_for()
    assert "Ольга Смирнова" in card.locator("[data-head]").inner_text()

    # Анна into the team, from the "who is in which team" table.
    row = page.locator(f'[data-person="{people["anna"].user.email}"]')
    row.locator("select").select_option(label="Продажи")
    row.locator("button").click()
    page.locator(f'[data-team="Продажи"] [data-member="{people["anna"].user.email}"]').wait_for()
    # A second team headed by Анна, who stays a member of the first.
    page.fill("#id_name", "Сервис")
    page.select_option("#id_head", str(people["anna"].user_id))
    page.click("#team-create")
    page.locator('[data-team="Сервис"]').wait_for()
    watch.assert_clean("the teams screen")

    with made:
        from crm_core.models import Client

        supplier = Client.objects.get(name="ООО Стеклозавод")
        sales = Team.objects.get(name="Продажи")
        assert sales.head_id == people["olga"].user_id
        assert Employee.objects.get(user_id=people["anna"].user_id).team_id == sales.pk
        assert Team.objects.get(name="Сервис").head_id == people["anna"].user_id

    # The team's own page: Борис added there.
    page.click('[data-team="Продажи"] [data-team-edit]')
    page.wait_for_selector("#team-edit-title")
    page.select_option("#team-add-person", str(people["boris"].user_id))
    page.click("#team-add")
    page.locator(f'#team-members [data-member="{people["boris"].user.email}"]').wait_for()
    with made:
        assert Employee.objects.get(user_id=people["boris"].user_id).team_id == sales.pk

    screens = {
        "teams": "/settings/teams/",
        "team": f"/settings/teams/{sales.pk}/",
        "clients-suppliers": "/clients/?relationship=supplier",
        "supplier-card": f"/clients/{supplier.pk}/",
        "report-clients": f"/reports/clients/?team={sales.pk}",
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
                assert response.status == 200, where
                page.wait_for_load_state("networkidle")
                save_screenshot(page, f"teams-{where}")
                found = watch.take() + serious_accessibility_problems(page)
                if found:
                    problems[where] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
