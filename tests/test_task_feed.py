"""The per-person iCalendar feed: a secret address that calendars subscribe to without a
login, that only ever holds that person's open tasks of that company, and that dies when
revoked or made anew. The task comments go into the company archive and come back."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.test import Client as HttpClient
from django.utils import timezone
from icalendar import Calendar

from crm_core.models import CalendarFeed, Task, TaskComment
from crm_core.services.tasks import comment_task, complete_task, create_task
from tests.test_isolation import login_on_host


def _feed_path(crm: Any, member: Any) -> str:
    with crm.a:
        return f"/calendar/{CalendarFeed.objects.get(user_id=member.user_id).token}.ics"


def test_feed_is_a_valid_calendar_of_the_persons_open_tasks(crm: Any) -> None:
    soon = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    with crm.a:
        meeting = create_task(
            membership=crm.manager,
            title="Встреча; замер, окна\nэтаж 2",
            deadline=soon,
            kind="meeting",
            duration_minutes=90,
            description="Взять образцы, договор",
        )
        create_task(membership=crm.manager, title="Позвонить", deadline=soon)
        done = create_task(membership=crm.manager, title="Уже сделано", deadline=soon)
        complete_task(membership=crm.manager, task=done)
        create_task(membership=crm.colleague, title="Чужая задача", deadline=soon)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/tasks/calendar/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="feed-renew"' in page
    browser.post("/tasks/calendar/feed/renew/", HTTP_HOST=crm.a.host)
    path = _feed_path(crm, crm.manager)
    assert path in browser.get("/tasks/calendar/", HTTP_HOST=crm.a.host).content.decode()

    response = HttpClient().get(path, HTTP_HOST=crm.a.host)  # no login: a calendar app
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert b"\r\n" in body  # RFC 5545 line endings
    calendar = Calendar.from_ical(body)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Встреча; замер, окна\nэтаж 2", "Позвонить"}
    event = events["Встреча; замер, окна\nэтаж 2"]
    assert str(event["uid"]) == f"task-{meeting.pk}@{crm.a.company.schema_name}.relata"
    assert event.decoded("dtstart") == soon
    assert event.decoded("dtend") == soon + timedelta(minutes=90)
    assert "DTSTAMP" in event
    assert str(event["description"]) == "Взять образцы, договор"
    text = body.decode()
    assert "SUMMARY:Встреча\\; замер\\, окна\\nэтаж 2" in text  # escaped
    assert f"DTSTART:{soon.astimezone(UTC):%Y%m%dT%H%M%S}Z" in text.replace("\r\n ", "")
    # The same task keeps its UID: a second fetch updates, not duplicates, the event.
    again = Calendar.from_ical(HttpClient().get(path, HTTP_HOST=crm.a.host).content)
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == {
        str(e["uid"]) for e in calendar.walk("VEVENT")
    }


def test_revoked_renewed_guessed_and_other_company_tokens_answer_404(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    browser.post("/tasks/calendar/feed/renew/", HTTP_HOST=crm.a.host)
    old = _feed_path(crm, crm.manager)
    anonymous = HttpClient()
    assert anonymous.get(old, HTTP_HOST=crm.a.host).status_code == 200
    # The same token at company B's host, and at the public host: nothing.
    assert anonymous.get(old, HTTP_HOST=crm.b.host).status_code == 404
    assert anonymous.get(old, HTTP_HOST="localhost").status_code == 404
    # B's own feed, fetched at A's host with a guess: nothing.
    b_owner = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    b_owner.post("/tasks/calendar/feed/renew/", HTTP_HOST=crm.b.host)
    with crm.b:
        create_task(
            membership=crm.b.company.memberships.get(user=crm.b.owner),
            title="Задача компании Б",
            deadline=timezone.now() + timedelta(days=1),
        )
        b_token = CalendarFeed.objects.get().token
    assert anonymous.get(f"/calendar/{b_token}.ics", HTTP_HOST=crm.a.host).status_code == 404
    b_feed = anonymous.get(f"/calendar/{b_token}.ics", HTTP_HOST=crm.b.host)
    assert b_feed.status_code == 200
    assert "Задача компании Б".encode() in b_feed.content
    assert anonymous.get("/calendar/" + "x" * 43 + ".ics", HTTP_HOST=crm.a.host).status_code == 404
    # Made anew: the old address dies, the new one works.
    browser.post("/tasks/calendar/feed/renew/", HTTP_HOST=crm.a.host)
    new = _feed_path(crm, crm.manager)
    assert new != old
    assert anonymous.get(old, HTTP_HOST=crm.a.host).status_code == 404
    assert anonymous.get(new, HTTP_HOST=crm.a.host).status_code == 200
    # Turned off: 404.
    browser.post("/tasks/calendar/feed/revoke/", HTTP_HOST=crm.a.host)
    assert anonymous.get(new, HTTP_HOST=crm.a.host).status_code == 404
    # A member who leaves the company: their address dies with the membership.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    colleague.post("/tasks/calendar/feed/renew/", HTTP_HOST=crm.a.host)
    path = _feed_path(crm, crm.colleague)
    crm.colleague.is_active = False
    crm.colleague.save(update_fields=["is_active"])
    assert anonymous.get(path, HTTP_HOST=crm.a.host).status_code == 404


def test_task_comments_go_into_the_archive_and_come_back(
    make_company: Any, media_root: Any
) -> None:
    from onboarding.services.exports import build_export, request_export
    from onboarding.tests.helpers import run_import
    from tenants.models import Membership

    a = make_company("Alpha")
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        task = create_task(
            membership=owner,
            title="Замер",
            deadline=timezone.now() + timedelta(days=1),
            kind="meeting",
            duration_minutes=45,
            remind="1h",
            recurrence="FREQ=WEEKLY;BYDAY=MO",
        )
        comment_task(membership=owner, task=task, text="Клиент просил после обеда")
        CalendarFeed.objects.create(user_id=a.owner.pk)
        job = build_export(request_export(user_id=a.owner.pk), company=a.company)
        data = job.file.read()
    assert job.counts["task_comments"] == 1
    b = make_company("Beta")
    with b:
        run_import(b.company, b.owner, data, "export.zip")
        restored = Task.objects.get(title="Замер")
        assert (restored.duration_minutes, restored.recurrence, restored.remind_before_minutes) == (
            45,
            "FREQ=WEEKLY;BYDAY=MO",
            60,
        )
        assert list(TaskComment.objects.values_list("task__title", "text")) == [
            ("Замер", "Клиент просил после обеда")
        ]
        # A live secret address is not carried into another company.
        assert not CalendarFeed.objects.exists()
