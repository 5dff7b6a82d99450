"""Tasks from the product: reminders from every task form, tasks on clients, contact persons
or nothing, who sees them, editing, reassigning, postponing, comments, done/undo, repeats,
meetings on the calendar grid — and a second company that never sees any of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm_core.models import Client, Contact, Notification, Task, TaskComment
from crm_core.services.deals import create_deal
from crm_core.services.reminders import send_due
from crm_core.services.tasks import (
    comment_task,
    complete_task,
    create_task,
    next_occurrence,
    postpone_task,
    postponed_deadline,
    recurrence_rule,
    repeat_of,
    update_task,
)
from tests.test_isolation import login_on_host

MOSCOW = ZoneInfo("Europe/Moscow")


def _local(moment: datetime) -> str:
    """A datetime-local field's value in the company's time zone (Moscow)."""
    return moment.astimezone(MOSCOW).strftime("%Y-%m-%dT%H:%M")


def _form(title: str, deadline: datetime, **extra: Any) -> dict[str, Any]:
    return {"title": title, "kind": "call", "deadline": _local(deadline), **extra}


def test_a_reminder_set_on_the_new_task_form_fires_at_its_moment(crm: Any) -> None:
    from crm_core.tasks import send_company_reminders

    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    deadline = (timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0)
    response = browser.post(
        "/tasks/new/",
        _form("Позвонить Орлову", deadline, remind="1h", assignee=crm.manager.user_id),
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with crm.a:
        task = Task.objects.get(title="Позвонить Орлову")
        assert task.is_personal
        assert task.deadline == deadline
        assert task.remind_at == deadline - timedelta(hours=1)
        moment = task.remind_at
        assert send_due(crm.a.company, moment - timedelta(seconds=1)) == (0, 0)  # not yet
        assert send_due(crm.a.company, moment) == (1, 0)  # at its moment, once
        assert send_due(crm.a.company, moment + timedelta(minutes=5)) == (0, 0)
        notice = Notification.objects.get(user_id=crm.manager.user_id)
        assert "Позвонить Орлову" in notice.text
        assert notice.url == f"/tasks/{task.pk}/"
    # The beat's per-company task sends a reminder that is due now (15 minutes before a task
    # due in 10 minutes), and only in the company whose schema it runs in.
    browser.post(
        "/tasks/new/",
        _form("Срочно", timezone.now() + timedelta(minutes=10), remind="15m"),
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        send_company_reminders.apply()
        assert Notification.objects.filter(text__contains="Срочно").count() == 1
    with crm.b:
        assert not Notification.objects.exists()


def test_reminder_at_a_chosen_time_and_bad_choices_get_clear_errors(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    deadline = timezone.now() + timedelta(days=2)
    at = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    browser.post(
        "/tasks/new/",
        _form("Замер", deadline, remind="time", remind_time=_local(at)),
        HTTP_HOST=crm.a.host,
    )
    missing = browser.post(
        "/tasks/new/", _form("Без времени", deadline, remind="time"), HTTP_HOST=crm.a.host
    )
    assert missing.status_code == 200
    assert "Choose when to remind" in missing.content.decode() or "Выберите, когда напомнить" in (
        missing.content.decode()
    )
    weekly = browser.post(
        "/tasks/new/", _form("Без дней", deadline, repeat="weekly"), HTTP_HOST=crm.a.host
    )
    assert weekly.status_code == 200
    with crm.a:
        task = Task.objects.get(title="Замер")
        assert task.remind_at == at
        assert task.remind_before_minutes is None
        assert not Task.objects.filter(title__in=["Без времени", "Без дней"]).exists()


def test_every_card_composer_offers_the_reminder_and_the_contact_card_makes_tasks(
    crm: Any,
) -> None:
    with crm.a:
        client = Client.objects.create(name="ООО Ромашка", responsible=crm.manager.user)
        contact = Contact.objects.create(client=client, last_name="Орлов", first_name="Георгий")
        deal = create_deal(
            membership=crm.manager, title="Окна", pipeline=crm.pipeline, client=client
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    for page in (f"/deals/{deal.pk}/", f"/clients/{client.pk}/", f"/contacts/{contact.pk}/card/"):
        html = browser.get(page, HTTP_HOST=crm.a.host).content.decode()
        assert 'name="task-remind"' in html, page
        assert 'value="1d"' in html, page
    assert 'name="remind"' in browser.get("/tasks/", HTTP_HOST=crm.a.host).content.decode()
    response = browser.post(
        f"/contacts/{contact.pk}/card/task/",
        {
            "task-title": "Поздравить",
            "task-due": "tomorrow",
            "task-kind": "call",
            "task-remind": "1d",
        },
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    response = browser.post(
        f"/deals/{deal.pk}/card/task/",
        {
            "task-title": "Выставить счёт",
            "task-due": "tomorrow",
            "task-kind": "call",
            "task-remind": "at_due",
        },
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        on_contact = Task.objects.get(title="Поздравить")
        assert on_contact.contact == contact
        assert on_contact.client == client  # counts for the contact's client too
        assert on_contact.remind_at == on_contact.deadline - timedelta(days=1)
        on_deal = Task.objects.get(title="Выставить счёт")
        assert on_deal.remind_at == on_deal.deadline
    card = browser.get(f"/contacts/{contact.pk}/card/", HTTP_HOST=crm.a.host).content.decode()
    assert "Поздравить" in card
    assert f"/tasks/{on_contact.pk}/" in card


def test_who_sees_personal_and_record_tasks(crm: Any) -> None:
    soon = timezone.now() + timedelta(days=1)
    with crm.a:
        client = Client.objects.create(name="Клиент менеджера", responsible=crm.manager.user)
        mine = create_task(membership=crm.manager, title="Личное", deadline=soon)
        given = create_task(
            membership=crm.manager,
            title="Коллеге лично",
            deadline=soon,
            assignee=crm.colleague.user,
        )
        on_client = create_task(
            membership=crm.manager, title="По клиенту", deadline=soon, client=client
        )
    seen = {
        "manager": (crm.manager, {mine.pk: 200, given.pk: 200, on_client.pk: 200}),
        "colleague": (crm.colleague, {mine.pk: 404, given.pk: 200, on_client.pk: 404}),
        "owner": (crm.owner, {mine.pk: 404, given.pk: 404, on_client.pk: 200}),
        "head": (crm.head, {mine.pk: 404, given.pk: 404, on_client.pk: 200}),
    }
    for name, (member, expected) in seen.items():
        browser = login_on_host(member.user, crm.a.company, crm.a.host)
        for task_id, status in expected.items():
            got = browser.get(f"/tasks/{task_id}/", HTTP_HOST=crm.a.host).status_code
            assert got == status, (name, task_id, got)
    # The colleague got a notice of the task given to her.
    with crm.a:
        assert Notification.objects.filter(
            user_id=crm.colleague.user_id, text__contains="Коллеге лично"
        ).exists()
    # A member of company B sees none of A's tasks by id, on its own host.
    outsider = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    for task_id in (mine.pk, given.pk, on_client.pk):
        assert outsider.get(f"/tasks/{task_id}/", HTTP_HOST=crm.b.host).status_code == 404
        assert (
            outsider.post(
                f"/tasks/{task_id}/comments/", {"text": "x"}, HTTP_HOST=crm.b.host
            ).status_code
            == 404
        )


def test_edit_reassign_postpone_comment_done_and_undo_from_the_task_page(crm: Any) -> None:
    soon = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    with crm.a:
        task = create_task(membership=crm.manager, title="Позвонить", deadline=soon, remind="15m")
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get(f"/tasks/{task.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'value="Позвонить"' in page
    assert 'id="postpone-monday"' in page
    later = soon + timedelta(days=2)
    response = browser.post(
        f"/tasks/{task.pk}/",
        _form(
            "Позвонить ещё раз",
            later,
            kind="meeting",
            duration_minutes="90",
            assignee=crm.colleague.user_id,
            remind="1h",
            description="Взять образцы; договор",
        ),
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    with crm.a:
        task.refresh_from_db()
        assert (task.title, task.kind, task.duration_minutes) == (
            "Позвонить ещё раз",
            "meeting",
            90,
        )
        assert task.assignee_id == crm.colleague.user_id
        assert task.remind_at == later - timedelta(hours=1)
        assert Notification.objects.filter(
            user_id=crm.colleague.user_id, url=f"/tasks/{task.pk}/"
        ).exists()
    # Postponed by a week: the reminder moves with it and may fire again.
    browser.post(f"/tasks/{task.pk}/postpone/", {"postpone": "1w"}, HTTP_HOST=crm.a.host)
    with crm.a:
        task.refresh_from_db()
        assert task.deadline == later + timedelta(weeks=1)
        assert task.remind_at == task.deadline - timedelta(hours=1)
    past = browser.post(
        f"/tasks/{task.pk}/postpone/",
        {"postpone": "date", "on": _local(timezone.now() - timedelta(days=1))},
        HTTP_HOST=crm.a.host,
        follow=True,
    )
    assert "Срок уже прошёл." in past.content.decode()
    browser.post(f"/tasks/{task.pk}/comments/", {"text": "Не дозвонился"}, HTTP_HOST=crm.a.host)
    empty = browser.post(
        f"/tasks/{task.pk}/comments/", {"text": "  "}, HTTP_HOST=crm.a.host, follow=True
    )
    assert empty.status_code == 200
    page = browser.get(f"/tasks/{task.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "Не дозвонился" in page
    browser.post(f"/tasks/{task.pk}/done/", {"next": f"/tasks/{task.pk}/"}, HTTP_HOST=crm.a.host)
    with crm.a:
        task.refresh_from_db()
        assert task.done_at is not None
        assert TaskComment.objects.filter(task=task).count() == 1
    browser.post(f"/tasks/{task.pk}/reopen/", HTTP_HOST=crm.a.host)
    with crm.a:
        task.refresh_from_db()
        assert task.done_at is None
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    viewer.post(f"/tasks/{task.pk}/postpone/", {"postpone": "1h"}, HTTP_HOST=crm.a.host)
    with crm.a:
        task.refresh_from_db()
        assert task.deadline == later + timedelta(weeks=1)  # read-only changes nothing


def test_quick_postpone_choices() -> None:
    zone = MOSCOW
    now = datetime(2026, 12, 2, 15, 0, tzinfo=zone)  # a Wednesday
    task = Task(deadline=datetime(2026, 12, 2, 11, 30, tzinfo=zone))  # overdue since 11:30
    assert postponed_deadline(task, "1h", zone, now) == now + timedelta(hours=1)
    assert postponed_deadline(task, "tomorrow", zone, now) == datetime(
        2026, 12, 3, 11, 30, tzinfo=zone
    )
    assert postponed_deadline(task, "monday", zone, now) == datetime(
        2026, 12, 7, 11, 30, tzinfo=zone
    )
    assert postponed_deadline(task, "1w", zone, now) == now + timedelta(weeks=1)
    future = Task(deadline=datetime(2026, 12, 10, 9, 0, tzinfo=zone))
    assert postponed_deadline(future, "1w", zone, now) == datetime(2026, 12, 17, 9, 0, tzinfo=zone)
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=zone)
    assert postponed_deadline(future, "monday", zone, monday) == datetime(
        2026, 12, 14, 9, 0, tzinfo=zone
    )
    with pytest.raises(ValidationError):
        postponed_deadline(task, "someday", zone, now)


def test_repeat_rules_and_their_next_occurrence() -> None:
    zone = MOSCOW
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=zone)
    early = datetime(2026, 12, 1, 9, 0, tzinfo=zone)
    assert next_occurrence(recurrence_rule("daily"), friday, zone, early) == friday + timedelta(
        days=1
    )
    weekdays = recurrence_rule("weekdays")
    assert next_occurrence(weekdays, friday, zone, early) == datetime(
        2026, 12, 7, 10, 0, tzinfo=zone
    )
    weekly = recurrence_rule("weekly", ["TH", "TU"])
    assert weekly == "FREQ=WEEKLY;BYDAY=TU,TH"
    assert repeat_of(weekly) == ("weekly", ["TU", "TH"])
    assert repeat_of(weekdays) == ("weekdays", ["MO", "TU", "WE", "TH", "FR"])
    assert next_occurrence(weekly, friday, zone, early) == datetime(2026, 12, 8, 10, 0, tzinfo=zone)
    assert next_occurrence(recurrence_rule("monthly"), friday, zone, early) == datetime(
        2027, 1, 4, 10, 0, tzinfo=zone
    )
    # Done three days late: the next one is the first still ahead, not one already overdue.
    late = datetime(2026, 12, 7, 12, 0, tzinfo=zone)
    assert next_occurrence(recurrence_rule("daily"), friday, zone, late) == datetime(
        2026, 12, 8, 10, 0, tzinfo=zone
    )
    with pytest.raises(ValidationError):
        recurrence_rule("weekly", [])


def test_a_done_repeating_task_makes_the_next_once(crm: Any) -> None:
    deadline = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    with crm.a:
        client = Client.objects.create(name="Клиент", responsible=crm.manager.user)
        task = create_task(
            membership=crm.manager,
            title="Планёрка",
            deadline=deadline,
            client=client,
            kind="meeting",
            duration_minutes=30,
            remind="15m",
            recurrence=recurrence_rule("daily"),
        )
        complete_task(membership=crm.manager, task=task)
        complete_task(membership=crm.manager, task=task)  # twice: still one next
        following = Task.objects.get(title="Планёрка", done_at__isnull=True)
        assert following.deadline == deadline + timedelta(days=1)
        assert following.remind_at == following.deadline - timedelta(minutes=15)
        assert (following.client, following.kind, following.duration_minutes) == (
            client,
            "meeting",
            30,
        )
        assert following.recurrence == "FREQ=DAILY"
        assert Task.objects.filter(title="Планёрка").count() == 2
    with crm.b:
        assert not Task.objects.exists()


def test_services_refuse_what_they_should(crm: Any) -> None:
    soon = timezone.now() + timedelta(days=1)
    with crm.a:
        task = create_task(membership=crm.manager, title="Встреча", deadline=soon, kind="meeting")
        assert task.duration_minutes == 60  # a meeting has a length by default
        with pytest.raises(ValidationError):
            update_task(
                membership=crm.manager,
                task=task,
                title="Встреча",
                kind="meeting",
                deadline=soon,
                assignee=crm.b.owner,  # not a member of A
            )
        with pytest.raises(ValidationError):
            create_task(
                membership=crm.manager,
                title="Длинная",
                deadline=soon,
                kind="meeting",
                duration_minutes=2,
            )
        with pytest.raises(ValidationError):
            comment_task(membership=crm.manager, task=task, text=" ")
        with pytest.raises(ValidationError):
            postpone_task(membership=crm.manager, task=task, choice="date", on=None)


def test_calendar_week_grid_day_and_month_views(crm: Any) -> None:
    zone = MOSCOW
    today = timezone.now().astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    next_monday = monday + timedelta(days=7)
    start = datetime.combine(next_monday, datetime.min.time(), zone).replace(hour=10)
    with crm.a:
        create_task(
            membership=crm.manager,
            title="Встреча с Орловым",
            deadline=start,
            kind="meeting",
            duration_minutes=90,
        )
        create_task(membership=crm.manager, title="Звонок рано", deadline=start.replace(hour=6))
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    week = browser.get(
        f"/tasks/calendar/?view=week&date={next_monday.isoformat()}", HTTP_HOST=crm.a.host
    ).content.decode()
    # 10:00 is the 7th half-hour row from 07:00; 90 minutes span 3 rows.
    assert "cal-item r-7 s-3 l-0 solo kind-meeting" in week
    assert "10:00–11:30" in week
    assert "Звонок рано" in week  # before the grid: listed above it
    assert f"date={(next_monday - timedelta(days=7)).isoformat()}" in week  # previous week
    assert f"date={(next_monday + timedelta(days=7)).isoformat()}" in week
    assert f"/tasks/new/?date={next_monday.isoformat()}&amp;hour=10" in week
    day = browser.get(
        f"/tasks/calendar/?view=day&date={next_monday.isoformat()}", HTTP_HOST=crm.a.host
    ).content.decode()
    assert "days-1" in day
    assert "Встреча с Орловым" in day
    month = browser.get(
        f"/tasks/calendar/?view=month&date={next_monday.isoformat()}", HTTP_HOST=crm.a.host
    ).content.decode()
    assert "Встреча с Орловым" in month
    assert "cal-more" not in month
    # A busy day: the month cell lists four, the rest is one link to that day.
    with crm.a:
        for n in range(6):
            create_task(
                membership=crm.manager, title=f"Обзвон {n}", deadline=start.replace(hour=12 + n)
            )
    month = browser.get(
        f"/tasks/calendar/?view=month&date={next_monday.isoformat()}", HTTP_HOST=crm.a.host
    ).content.decode()
    assert "Обзвон 1" in month  # 06:00, 10:00, 12:00, 13:00 shown
    assert "Обзвон 2" not in month
    assert f'href="?view=day&amp;date={next_monday.isoformat()}">+ ещё 4</a>' in month
    day = browser.get(
        f"/tasks/calendar/?view=day&date={next_monday.isoformat()}", HTTP_HOST=crm.a.host
    ).content.decode()
    assert all(f"Обзвон {n}" in day for n in range(6))
    old = browser.get(f"/tasks/calendar/?month={next_monday:%Y-%m}", HTTP_HOST=crm.a.host)
    assert "Встреча с Орловым" in old.content.decode()
    bad = browser.get("/tasks/calendar/?view=week&date=2026-13-45", HTTP_HOST=crm.a.host)
    assert bad.status_code == 200
    new = browser.get(
        f"/tasks/new/?date={next_monday.isoformat()}&hour=14", HTTP_HOST=crm.a.host
    ).content.decode()
    assert f'value="{next_monday.isoformat()}T14:00"' in new
    # Someone else's personal meeting is not on the calendar even with "everyone I see".
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    everyone = owner.get(
        f"/tasks/calendar/?view=week&date={next_monday.isoformat()}&who=all", HTTP_HOST=crm.a.host
    ).content.decode()
    assert "Встреча с Орловым" not in everyone
    outsider = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    other = outsider.get(
        f"/tasks/calendar/?view=week&date={next_monday.isoformat()}&who=all", HTTP_HOST=crm.b.host
    ).content.decode()
    assert "Встреча с Орловым" not in other


def test_overlapping_items_share_lanes_and_a_lone_one_takes_the_width() -> None:
    from crm_core.queries.calendar_grid import GridItem, _lanes

    at = datetime(2026, 12, 7, 10, 0, tzinfo=MOSCOW)

    def item(minutes_from_ten: int, length: int) -> GridItem:
        start = at + timedelta(minutes=minutes_from_ten)
        return GridItem(Task(), start, start + timedelta(minutes=length), 1, 1)

    long, short, third, fourth, alone = (
        item(0, 120),
        item(30, 30),
        item(45, 30),
        item(50, 10),
        item(300, 60),
    )
    assert _lanes([long, short, third, fourth, alone]) == 3
    assert (long.lane, short.lane, third.lane) == (0, 1, 2)
    assert fourth.lane == 2  # beyond three lanes they share the last
    assert alone.alone
    assert not long.alone
