"""Bulk actions on the tickets list in a real browser with a real worker: tick tickets, then
all matching the filter, give them to a colleague in the background with the progress page,
then change the status of two ticked ones. The list with the bulk bar and the job's page at
1366×768 and 390×844 in Russian and English: no CSP violation, no script error, axe clean,
nothing wider than the screen."""

from __future__ import annotations

import uuid
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


def test_tick_tickets_and_assign_them_in_the_background(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import BulkJob
    from service.models import Ticket
    from tenants.models import Membership, User

    made = committed_companies("Окна Кирилла")
    olga = User.objects.create_user(
        email="olga@example.com", password="Member-Pass-991", full_name="Ольга Смирнова"
    )
    Membership.objects.create(user=olga, company=made.company, role="manager")
    with made:
        Ticket.objects.bulk_create(
            Ticket(
                number=n,
                subject=f"{'Не пришла доставка' if n % 2 else 'Вопрос по счёту'} {n}",
                source="manual",
                priority="high" if n % 2 else "normal",
                requester_email=f"client{n}@example.com",
            )
            for n in range(1, 41)
        )
    env = child_env(MEDIA_ROOT=str(tmp_path / "media"))
    base = start_web(run_process, env, tmp_path / "web.log")
    run_process(
        [
            "-m",
            "celery",
            "-A",
            "relata",
            "worker",
            "--pool",
            "solo",
            "-Q",
            "celery",
            "-l",
            "warning",
        ],
        env=env,
        log=tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log",
    )
    host = f"http://{made.host}:{base.rsplit(':', 1)[1]}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()
    problems: dict[str, list[str]] = {}

    def check(where: str) -> None:
        page.wait_for_load_state("networkidle")
        save_screenshot(page, f"service-bulk-{where}")
        found = watch.take() + serious_accessibility_problems(page)
        if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"):
            found.append("wider than the screen")
        if found:
            problems[where] = found

    # The 20 high-priority tickets: tick two, then the page, then all matching the filter.
    page.goto(f"{host}/tickets/?status=all&priority=high")
    page.locator(".bulk-row").nth(0).check()
    page.locator(".bulk-row").nth(1).check()
    assert "2" in page.inner_text("#bulk-selected")
    page.check("#bulk-page")
    page.click("#bulk-all-button")
    page.wait_for_function(
        "() => document.querySelector('#bulk-selected').innerText.includes('20')"
    )
    page.select_option("#id_bulk-action", "ticket_assign")
    assert page.is_visible("#id_bulk-assignee")
    assert not page.is_visible("#id_bulk-status")
    page.select_option("#id_bulk-assignee", str(olga.pk))
    check("assign-1366x768-ru")
    page.click("#bulk-go")
    page.wait_for_selector("#bulk-progress progress")
    page.wait_for_selector("#bulk-done", timeout=60_000)
    check("done-1366x768-ru")
    with made:
        assert Ticket.objects.filter(assignee_id=olga.pk).count() == 20
        assert set(
            Ticket.objects.filter(priority="high").values_list("assignee_id", flat=True)
        ) == {olga.pk}
        assert not Ticket.objects.filter(priority="normal", assignee_id=olga.pk).exists()

    # Two ticked tickets solved, from the list again.
    page.goto(f"{host}/tickets/?status=all&priority=normal")
    numbers = [int(page.locator(".bulk-row").nth(n).get_attribute("value") or 0) for n in range(2)]
    for n in range(2):
        page.locator(".bulk-row").nth(n).check()
    page.select_option("#id_bulk-action", "ticket_status")
    page.select_option("#id_bulk-status", "solved")
    page.click("#bulk-go")
    page.wait_for_selector("#bulk-done", timeout=60_000)
    with made:
        assert set(Ticket.objects.filter(status="solved").values_list("pk", flat=True)) == set(
            numbers
        )
        assert BulkJob.objects.count() == 2
        job = BulkJob.objects.order_by("pk").first()
        assert job is not None

    # Both screens at both sizes in both languages, with a row ticked and an action chosen.
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"{host}/tickets/?status=all")
            page.locator(".bulk-row").nth(0).check()
            page.select_option("#id_bulk-action", "ticket_queue")
            check(f"list-{size}-{language}")
            page.goto(f"{host}/bulk/{job.pk}/")
            check(f"job-{size}-{language}")
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
