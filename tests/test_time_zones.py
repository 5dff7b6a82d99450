"""Per-person time zones (issue #19): a person chooses a zone in their profile (default: the
company's); their pages, reminders and calendar read in it. A manager in Yekaterinburg and one
in Moscow see the same task's due time each in their own zone."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from crm_core.models import CalendarFeed, Notification, Task
from crm_core.services.reminders import send_due
from tenants.models import User
from tests.test_isolation import login_on_host


def _due(page: str) -> str:
    match = re.search(r'id="task-status">.*?<strong>(.*?)</strong>', page, re.S)
    assert match, "no due time on the task page"
    return match.group(1)


def test_two_managers_see_one_due_time_each_in_their_own_zone(crm: Any) -> None:
    # 09:00 UTC tomorrow: 12:00 in Moscow (the company's zone), 14:00 in Yekaterinburg.
    tomorrow = timezone.now().date() + dt.timedelta(days=1)
    deadline = dt.datetime.combine(tomorrow, dt.time(9, 0), dt.UTC)
    with crm.a:
        task = Task.objects.create(
            title="Созвон с заводом",
            assignee=crm.manager.user,
            created_by=crm.colleague.user,
            deadline=deadline,
            remind_at=deadline - dt.timedelta(hours=1),
            remind_before_minutes=60,
        )
    assert crm.a.company.time_zone == "Europe/Moscow"

    # The manager in Yekaterinburg sets her zone in her profile (the link in the page's head).
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    home = manager.get("/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="nav-profile"' in home
    page = manager.get("/profile/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="en")
    assert "As the company: Europe/Moscow" in page.content.decode()
    saved = manager.post(
        "/profile/",
        {"full_name": "Анна Уральская", "time_zone": "Asia/Yekaterinburg"},
        HTTP_HOST=crm.a.host,
    )
    assert saved.status_code == 302
    assert User.objects.get(pk=crm.manager.user_id).time_zone == "Asia/Yekaterinburg"
    # Bad input: an unknown zone is refused with a message, nothing changes.
    refused = manager.post(
        "/profile/",
        {"full_name": "x", "time_zone": "Mars/Olympus"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert User.objects.get(pk=crm.manager.user_id).full_name == "Анна Уральская"

    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    mine = manager.get(f"/tasks/{task.pk}/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru")
    theirs = colleague.get(f"/tasks/{task.pk}/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru")
    assert _due(mine.content.decode()).endswith("14:00")
    assert _due(theirs.content.decode()).endswith("12:00")

    # The calendar's day view: the manager's 14:00, the colleague's 12:00.
    day = f"/tasks/calendar/?view=day&date={tomorrow:%Y-%m-%d}&who=all"
    assert "14:00" in manager.get(day, HTTP_HOST=crm.a.host).content.decode()
    assert "12:00" in colleague.get(day, HTTP_HOST=crm.a.host).content.decode()

    # The "1 hour before" reminder names the due time in the assignee's zone.
    with crm.a:
        assert send_due(crm.a.company, now=deadline - dt.timedelta(minutes=30))[0] == 1
        notice = Notification.objects.get(user_id=crm.manager.user_id, text__contains="Созвон")
        assert "14:00" in notice.text

        # The calendar feed gives absolute times (UTC): each calendar shows its own zone.
        feed = CalendarFeed.objects.create(user=crm.manager.user)
    ics = manager.get(f"/calendar/{feed.token}.ics", HTTP_HOST=crm.a.host).content.decode()
    assert f"DTSTART:{tomorrow:%Y%m%d}T090000Z" in ics

    # Back to the company's zone: the profile's first choice.
    manager.post("/profile/", {"full_name": "Анна", "time_zone": ""}, HTTP_HOST=crm.a.host)
    again = manager.get(f"/tasks/{task.pk}/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru")
    assert _due(again.content.decode()).endswith("12:00")


def test_the_profile_is_a_members_own_and_another_company_gets_none(crm: Any) -> None:
    stranger = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    page = stranger.get("/profile/", HTTP_HOST=crm.b.host)
    assert page.status_code == 200
    stranger.post("/profile/", {"full_name": "B", "time_zone": "Asia/Omsk"}, HTTP_HOST=crm.b.host)
    # The zone is the person's (global), and only theirs.
    assert User.objects.get(pk=crm.b.owner.pk).time_zone == "Asia/Omsk"
    assert User.objects.get(pk=crm.a.owner.pk).time_zone == ""
    # B's owner on A's host is no member of A: no profile page there.
    assert stranger.get("/profile/", HTTP_HOST=crm.a.host).status_code in {302, 403, 404}
