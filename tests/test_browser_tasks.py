"""The calendar and the task page in a real browser: a meeting on the week grid, a task made
from a free hour of the calendar with a reminder, postponed and commented on its page, edited;
the task list and the person's profile — at 1366×768 and 390×844, in Russian and English, with
no CSP or script error and no serious accessibility problem; screenshots for a reviewer."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
MOSCOW = ZoneInfo("Europe/Moscow")


def _a_week_with_a_meeting(made: Any) -> dict[str, Any]:
    from crm_core.models import Client
    from crm_core.services.tasks import comment_task, create_task
    from tenants.models import Membership

    tomorrow = timezone.now().astimezone(MOSCOW).date() + timedelta(days=1)
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        client = Client.objects.create(name="ООО «СтройДом»", responsible=made.owner)
        meeting = create_task(
            membership=owner,
            title="Встреча с Орловым: замер",
            deadline=datetime.combine(tomorrow, time(11, 0), MOSCOW),
            kind="meeting",
            duration_minutes=90,
            client=client,
            remind="1h",
        )
        create_task(
            membership=owner,
            title="Перезвонить Ивановой",
            deadline=datetime.combine(tomorrow, time(11, 30), MOSCOW),
            client=client,
        )
        create_task(
            membership=owner,
            title="Отправить КП",
            deadline=datetime.combine(tomorrow, time(16, 0), MOSCOW),
        )
        comment_task(membership=owner, task=meeting, text="Взять образцы профиля")
    return {"tomorrow": tomorrow, "meeting": meeting.pk}


def test_calendar_and_task_page_at_both_sizes_in_both_languages(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Task

    made = committed_companies("Окна Кирилла")
    ids = _a_week_with_a_meeting(made)
    day = ids["tomorrow"].isoformat()
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    host = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()
    problems: dict[str, list[str]] = {}

    def look(where: str) -> None:
        page.wait_for_load_state("networkidle")
        save_screenshot(page, f"tasks-{where}")
        found = watch.take() + serious_accessibility_problems(page)
        if found:
            problems[where] = found

    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            where = f"{size}-{language}"
            # The calendar from the nav, then the week with the meeting.
            page.goto(f"{host}/")
            page.locator(".crm-nav a[href='/tasks/calendar/']").click()
            page.wait_for_load_state()
            page.goto(f"{host}/tasks/calendar/?view=week&date={day}")
            meeting = page.locator(f"[data-task='{ids['meeting']}']")
            assert meeting.is_visible(), where
            box = meeting.bounding_box()
            assert box is not None
            if size == "laptop":
                # 90 minutes: three half-hour rows, taller than the half-hour call beside it.
                call = page.locator(".cal-item", has_text="Перезвонить Ивановой").bounding_box()
                assert call is not None
                assert box["height"] > 2.5 * call["height"], where
                assert abs(box["y"] - call["y"]) > 10 or box["x"] != call["x"], where
            else:
                # A phone gets a list of days, nothing wider than the screen.
                assert page.evaluate("document.documentElement.scrollWidth") <= 392, where
            look(f"week-{where}")
            page.goto(f"{host}/tasks/calendar/?view=day&date={day}")
            assert page.locator(f"[data-task='{ids['meeting']}']").is_visible()
            look(f"day-{where}")
            page.goto(f"{host}/tasks/calendar/?view=month&date={day}")
            look(f"month-{where}")
            page.goto(f"{host}/tasks/calendar/?view=week&date={day}")
            page.locator("#cal-next").click()
            page.wait_for_load_state()
            assert page.locator(f"[data-task='{ids['meeting']}']").count() == 0
            page.locator("#cal-today").click()
            page.wait_for_load_state()

            # A task from the calendar: a free hour on the grid (the day's "+ Task" on a phone).
            title = f"Замер у Петрова {where}"
            page.goto(f"{host}/tasks/calendar/?view=week&date={day}")
            if size == "laptop":
                page.locator(f"[data-day='{day}'] a.cal-slot-link[href*='hour=14']").click()
            else:
                page.locator(f"[data-day='{day}'] a.cal-add").click()
            page.wait_for_load_state()
            assert page.locator("#id_deadline").input_value().startswith(day), where
            page.fill("#id_title", title)
            page.select_option("#id_kind", "meeting")
            assert page.locator("#id_duration_minutes").is_visible()  # only for a meeting
            page.select_option("#id_duration_minutes", "60")
            page.select_option("#id_remind", "time")
            assert page.locator("#id_remind_time").is_visible()
            page.select_option("#id_remind", "1h")
            assert not page.locator("#id_remind_time").is_visible()
            page.select_option("#id_repeat", "weekly")
            page.locator("input[name=weekdays][value=TU]").check()
            look(f"new-task-{where}")
            page.locator("#task-create").click()
            page.wait_for_load_state()
            assert "/tasks/calendar/" in page.url, where  # back where it was made
            assert page.locator(".cal-item", has_text=title).is_visible(), where
            with made:
                task = Task.objects.get(title=title)
                assert task.remind_at == task.deadline - timedelta(hours=1)
                assert task.recurrence == "FREQ=WEEKLY;BYDAY=TU"
                deadline = task.deadline

            # Its page: postpone by an hour, comment, edit.
            page.locator(".cal-item", has_text=title).locator("a").click()
            page.wait_for_load_state()
            page.locator("#postpone-1h").click()
            page.wait_for_load_state()
            with made:
                task.refresh_from_db()
                assert task.deadline == deadline + timedelta(hours=1), where
            page.fill("#id_text", "Клиент просил после обеда")
            page.locator("#comment-add").click()
            page.wait_for_load_state()
            assert page.locator(".comment", has_text="после обеда").is_visible()
            page.fill("#id_title", title + " (перенесено)")
            page.locator("#task-save").click()
            page.wait_for_load_state()
            assert page.locator("h1", has_text="(перенесено)").is_visible(), where
            look(f"task-{where}")
            page.goto(f"{host}/tasks/{ids['meeting']}/")
            look(f"meeting-{where}")
            page.goto(f"{host}/tasks/")
            page.locator("#new-task summary").click()
            look(f"my-day-{where}")
            # Every task as a list (saved views, filters, bulk actions), from "my day".
            page.locator("#task-list-link").click()
            page.wait_for_load_state()
            assert "/tasks/list/" in page.url, where
            assert page.locator("table.list-table", has_text="Отправить КП").is_visible(), where
            look(f"list-{where}")
            # The person's own profile (language, time zone) from the top bar.
            page.locator("#nav-profile").click()
            page.wait_for_load_state()
            assert page.locator("#profile-form").is_visible(), where
            look(f"profile-{where}")
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
