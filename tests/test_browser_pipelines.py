"""The pipeline editor and the sales targets grid in a real browser, reached the way an owner
reaches them (settings page, the board's gear): a drag of a stage by its handle, the arrows
that do the same from a keyboard, a new stage, a stage with deals deleted after choosing where
they go, and a month of targets typed into the grid — at 1366×768 and 390×844, in Russian and
English, with no CSP or JavaScript error and no serious accessibility finding."""

from __future__ import annotations

import re
from decimal import Decimal
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


def _seed(made: Any) -> dict[str, Any]:
    from crm_core.models import Pipeline
    from crm_core.services.deals import create_deal
    from tenants.models import Membership, User

    made.owner.full_name = "Кирилл Смирнов"
    made.owner.save()
    anna = User.objects.create_user(email="anna@example.com", password="Member-Pass-991")
    anna.full_name = "Анна Петрова"
    anna.save()
    Membership.objects.create(user=anna, company=made.company, role="manager")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        pipeline = Pipeline.objects.get(is_default=True)
        stages = list(pipeline.stages.order_by("position"))
        for title, amount, stage in [
            ("Окна в квартиру", 85000, 0),
            ("Балкон под ключ", 120000, 1),
            ("Остекление дачи", 64000, 1),
        ]:
            create_deal(
                membership=owner,
                title=title,
                pipeline=pipeline,
                amount=Decimal(amount),
                stage=stages[stage],
            )
    return {"pipeline": pipeline.pk, "stages": [s.pk for s in stages], "anna": anna.pk}


def _order(made: Any, pipeline_id: int) -> list[int]:
    from crm_core.models import Stage

    with made:
        return list(
            Stage.objects.filter(pipeline_id=pipeline_id, is_archived=False)
            .order_by("position", "id")
            .values_list("pk", flat=True)
        )


def test_pipeline_editor_and_targets_grid_in_a_browser(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Deal, SalesTarget, Stage

    made = committed_companies("Окна Кирилла")
    seeded = _seed(made)
    stages = seeded["stages"]
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    host = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": host}])

    # From the settings page to the pipeline's editor.
    page.goto(f"{host}/settings/")
    page.click("#nav-pipelines")
    page.wait_for_selector("#pipelines")
    page.get_by_role("link", name=re.compile("^(Продажи|Sales)$")).click()
    page.wait_for_selector("[data-stage-editor]")
    watch.take()

    # A mouse drag: the third stage by its handle, above the first.
    grip = page.locator(f'[data-stage-id="{stages[2]}"] [data-grip]')
    first = page.locator(f'[data-stage-id="{stages[0]}"]')
    # Both on screen, as a person would have them before dragging (the menu above may wrap).
    grip.scroll_into_view_if_needed()
    first.scroll_into_view_if_needed()
    box, goal = grip.bounding_box(), first.bounding_box()
    with page.expect_response(re.compile(r"/order/$")) as saved:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(goal["x"] + 40, goal["y"] + 5, steps=10)
        page.mouse.up()
    assert saved.value.status == 200
    assert _order(made, seeded["pipeline"])[:3] == [stages[2], stages[0], stages[1]]
    rows = page.locator("[data-stage-id]")
    assert rows.first.get_attribute("data-stage-id") == str(stages[2])
    # The arrows do the same without a mouse: the moved stage goes back down.
    page.locator(f'[data-stage-id="{stages[2]}"] button[value=right]').focus()
    with page.expect_navigation():  # the form posts and the page loads again
        page.keyboard.press("Enter")
    page.wait_for_selector("[data-stage-editor]")
    assert _order(made, seeded["pipeline"])[:3] == [stages[0], stages[2], stages[1]]

    # A new stage, with a colour and a probability.
    page.fill("#id_new-name", "Договор")
    page.fill("#id_new-probability", "60")
    page.fill("#id_new-color", "#aa3377")
    with page.expect_navigation():
        page.click("#stage-add")
    page.wait_for_selector("[data-stage-editor]")
    with made:
        added = Stage.objects.get(name="Договор")
        assert (added.probability, added.color, added.outcome) == (60, "#aa3377", "open")
    border = page.locator(f'[data-stage-id="{added.pk}"]').evaluate(
        "el => getComputedStyle(el).borderLeftColor"
    )
    assert border == "rgb(170, 51, 119)"
    save_screenshot(page, "pipeline-editor-laptop-ru")
    found = watch.take() + serious_accessibility_problems(page)
    assert not found, found

    # Deleting «Замер» with two deals: the page asks where they go.
    page.locator(f'[data-stage-id="{stages[1]}"] a.danger-link').click()
    page.wait_for_selector("#stage-delete-form")
    save_screenshot(page, "stage-delete-laptop-ru")
    page.select_option("#id_move_to", str(added.pk))
    page.click("#stage-delete")
    page.wait_for_selector("[data-stage-editor]")
    with made:
        assert Deal.objects.filter(stage_id=added.pk).count() == 2
        assert Stage.objects.get(pk=stages[1]).is_archived

    # The board's gear leads back to the editor.
    page.goto(f"{host}/deals/")
    page.click("#pipeline-settings")
    page.wait_for_selector("[data-stage-editor]")

    # The targets grid: from the settings page, Anna's March revenue target.
    page.goto(f"{host}/settings/")
    page.click("#nav-targets")
    page.wait_for_selector("#targets-form")
    year = page.locator("h1").inner_text().split()[-1]
    cell = f'input[name="u{seeded["anna"]}-{year}-03"]'
    page.fill(cell, "много")
    page.click("#targets-save")
    page.wait_for_selector(f"{cell}.invalid")
    page.fill(cell, "250 000")
    page.click("#targets-save")
    page.wait_for_selector(".messages")
    with made:
        target = SalesTarget.objects.get(user_id=seeded["anna"])
        assert target.value == Decimal(250000)
    save_screenshot(page, "targets-laptop-ru")
    found = watch.take() + serious_accessibility_problems(page)
    assert not found, found
    # The company's target for this month, and its progress on the owner's home page.
    this_month = page.evaluate(
        "() => { const d = new Date(); return d.getFullYear() + '-' + "
        "String(d.getMonth() + 1).padStart(2, '0'); }"
    )
    page.fill(f'input[name="c-{this_month}"]', "1000000")
    page.click("#targets-save")
    page.wait_for_selector(".messages")
    page.goto(f"{host}/")
    assert page.locator('#home-targets [data-target-scope="company"]').count() == 1
    assert page.locator("#home-targets [data-target-percent]").inner_text() == "0 %"

    # Every screen at both sizes in both languages.
    screens = {
        "pipelines": "/settings/pipelines/",
        "pipeline-editor": f"/settings/pipelines/{seeded['pipeline']}/",
        "stage-delete": f"/settings/stages/{stages[0]}/delete/",
        "targets": "/settings/targets/",
        "forecast": "/reports/forecast/",
        "board": "/deals/",
        "home": "/",
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
                save_screenshot(page, where)
                found = watch.take() + serious_accessibility_problems(page)
                if found:
                    problems[where] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
