"""SLA timers: overdue → the assignee, then the head; working hours; exactly once under
concurrent workers; the due-timer index that lets beat skip idle companies."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm_core.automation.models import Holiday, RequestForm, Timer, WorkingHours
from crm_core.automation.services import setup, timers
from crm_core.automation.services.capture import WEB_FORM, Inbound, receive
from crm_core.automation.services.clock import add_working_minutes
from crm_core.models import Notification, Task
from crm_core.services.tasks import complete_task
from relata.db import connection

MOSCOW = ZoneInfo("Europe/Moscow")


def _request(crm: Any) -> Task:
    setup.install_window_template(membership=crm.owner, company=crm.a.company)
    form = RequestForm.objects.create(name="Site", assignee=crm.manager.user)
    captured = receive(
        company=crm.a.company,
        form=form,
        channel=WEB_FORM,
        inbound=Inbound(values={"name": "Иван", "phone": "+79160001122"}),
    )
    return Task.objects.get(deal=captured.deal)


def _pass_time(minutes: int) -> None:
    """Move every pending deadline ``minutes`` earlier: as if that much time went by."""
    for timer in Timer.objects.filter(fired_at__isnull=True):
        timer.due_at -= timedelta(minutes=minutes)
        timer.save(update_fields=["due_at"])
    for task in Task.objects.all():
        task.deadline -= timedelta(minutes=minutes)
        task.save(update_fields=["deadline"])


def test_overdue_callback_notifies_the_manager_then_the_head(crm: Any) -> None:
    with crm.a:
        task = _request(crm)
        assert timers.fire_due(crm.a.company) == 0  # not yet due
        _pass_time(16)
        assert timers.fire_due(crm.a.company) == 1
        assert Notification.objects.filter(
            user=crm.manager.user, text__contains=task.title
        ).exists()
        assert not Notification.objects.filter(user=crm.head.user).exists()
        assert timers.fire_due(crm.a.company) == 0  # fired once only
        escalation = Timer.objects.get(kind=Timer.Kind.SLA_ESCALATE)
        assert escalation.fired_at is None
        _pass_time(16)
        assert timers.fire_due(crm.a.company) == 1
        head_notice = Notification.objects.get(user=crm.head.user)
        assert task.title in head_notice.text
        assert head_notice.url == f"/deals/{task.deal_id}/"


def test_a_task_done_in_time_stops_its_sla(crm: Any) -> None:
    with crm.a:
        task = _request(crm)
        complete_task(membership=crm.manager, task=task)
        _pass_time(60)
        assert timers.fire_due(crm.a.company) == 0
        assert not Notification.objects.filter(text__contains=task.title).exists()
        assert Timer.objects.get(task=task).outcome == "task done"


def test_without_a_head_the_owner_gets_the_escalation(crm: Any) -> None:
    with crm.a:
        task = _request(crm)
        Task.objects.filter(pk=task.pk).update(assignee=crm.colleague.user)  # not in a team
        _pass_time(16)
        timers.fire_due(crm.a.company)
        _pass_time(16)
        timers.fire_due(crm.a.company)
        assert Notification.objects.filter(user=crm.a.owner, text__contains=task.title).exists()


def test_working_hours_and_holidays_move_the_deadline(crm: Any) -> None:
    with crm.a:
        for day in range(5):
            WorkingHours.objects.create(weekday=day, opens=time(9), closes=time(18))
        friday_evening = datetime(2026, 11, 27, 17, 55, tzinfo=MOSCOW)
        due = add_working_minutes(crm.a.company, friday_evening, 15)
        assert due == datetime(2026, 11, 30, 9, 10, tzinfo=MOSCOW).astimezone(UTC)
        Holiday.objects.create(day=datetime(2026, 11, 30).date())
        due = add_working_minutes(crm.a.company, friday_evening, 15)
        assert due == datetime(2026, 12, 1, 9, 10, tzinfo=MOSCOW).astimezone(UTC)
        midday = datetime(2026, 11, 25, 12, 0, tzinfo=MOSCOW)
        assert add_working_minutes(crm.a.company, midday, 15) == midday + timedelta(minutes=15)
        WorkingHours.objects.all().delete()
        assert add_working_minutes(crm.a.company, friday_evening, 15) == (
            friday_evening + timedelta(minutes=15)
        )


def test_hours_page_refuses_bad_lines_and_keeps_the_old_hours(crm: Any) -> None:
    from tests.test_isolation import login_on_host

    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    ok = owner.post(
        "/automation/hours/",
        {"escalate_after_minutes": 20, "hours": "1 09:00-18:00\n2 09:00-18:00", "holidays": ""},
        HTTP_HOST=crm.a.host,
    )
    assert ok.status_code == 302
    bad = owner.post(
        "/automation/hours/",
        {"escalate_after_minutes": 20, "hours": "1 18:00-09:00", "holidays": "31.12"},
        HTTP_HOST=crm.a.host,
    )
    assert bad.status_code == 200
    assert "Line 1" in bad.content.decode() or "Строка 1" in bad.content.decode()
    with crm.a:
        assert WorkingHours.objects.count() == 2


def test_sla_panel_shows_countdown_then_breach_to_members_who_see_the_deal(crm: Any) -> None:
    from tests.test_isolation import login_on_host

    with crm.a:
        task = _request(crm)
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    url = f"/automation/deals/{task.deal_id}/sla/"
    assert b"sla-running" in manager.get(url, HTTP_HOST=crm.a.host).content
    with crm.a:
        _pass_time(16)
    assert b"sla-breached" in manager.get(url, HTTP_HOST=crm.a.host).content
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert colleague.get(url, HTTP_HOST=crm.a.host).status_code == 404  # not their deal


def test_index_lists_only_companies_with_something_due(
    crm: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with crm.a, django_capture_on_commit_callbacks(execute=True):
        task = _request(crm)
    schema_a = crm.a.company.schema_name
    assert schema_a not in timers.due_schemas()
    later = task.deadline + timedelta(seconds=1)
    assert timers.due_schemas(later) == [schema_a]
    assert timers.due_schemas(later) == []  # leased: not sent again at once
    with crm.a:
        _pass_time(16)
        timers.fire_due(crm.a.company)  # acts, then indexes the escalation
        escalation = Timer.objects.get(kind=Timer.Kind.SLA_ESCALATE, fired_at__isnull=True)
    assert timers.due_schemas(escalation.due_at + timedelta(seconds=1)) == [schema_a]


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_fire_the_same_deadline_twice(committed_companies: Any) -> None:
    from tenants.models import Membership, User

    a = committed_companies("Timers")
    user = User.objects.create_user(email=f"m-{a.company.slug}@example.com")
    Membership.objects.create(user=user, company=a.company, role="manager")
    past = timezone.now() - timedelta(minutes=1)
    with a:
        tasks = Task.objects.bulk_create(
            Task(title=f"Call {i}", assignee=user, deadline=past) for i in range(200)
        )
        Timer.objects.bulk_create(
            Timer(kind=Timer.Kind.SLA_OVERDUE, due_at=past, task=t) for t in tasks
        )
    counts: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            with a:
                barrier.wait()
                counts.append(timers.fire_due(a.company, batch=10))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(counts) == 200
    assert all(counts), counts  # both workers took a share
    with a:
        assert Notification.objects.filter(user=user).count() == 200
        assert Timer.objects.filter(kind=Timer.Kind.SLA_ESCALATE).count() == 200
        assert not Timer.objects.filter(kind=Timer.Kind.SLA_OVERDUE, fired_at__isnull=True).exists()


def test_beat_task_sends_due_companies_to_a_real_worker_which_acts_in_their_schema(
    committed_companies: Any, run_process: Any, tmp_path: Any, settings: Any
) -> None:
    """Beat's task reads the index, a worker process fires A's timer in A's schema; B, with
    nothing due, is not visited; the beat task run again sends nothing (it was leased/fired)."""
    import os

    from conftest import child_env, wait_for
    from crm_core.automation.tasks import fire_due_timers
    from tenants.models import Membership, User

    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    a = committed_companies("Worker timers A")
    b = committed_companies("Worker timers B")
    user = User.objects.create_user(email=f"w-{a.company.slug}@example.com")
    Membership.objects.create(user=user, company=a.company, role="manager")
    past = timezone.now() - timedelta(seconds=5)
    with a:
        task = Task.objects.create(title="Call A back", assignee=user, deadline=past)
        timers.start_sla(a.company, task)  # autocommit: the index is written at once
    with b:
        later = Task.objects.create(
            title="Call B back", assignee=user, deadline=past + timedelta(hours=1)
        )
        timers.start_sla(b.company, later)
    connection.set_schema_to_public()
    queue = f"timers-{a.company.slug}"
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "-Q", queue, "-l", "warning"],
        env=child_env(CACHE_KEY_PREFIX=prefix, REDIS_URL=os.environ.get("REDIS_URL", "")),
        log=tmp_path / "worker.log",
    )
    assert fire_due_timers(queue) == 1

    def fired() -> bool:
        with a:
            return Timer.objects.filter(task=task, fired_at__isnull=False).exists()

    try:
        wait_for(fired, timeout=60, what="A's timer fired by the worker")
    except AssertionError:
        print((tmp_path / "worker.log").read_text())  # noqa: T201
        raise
    with a:
        assert Notification.objects.filter(user=user, text__contains="Call A back").count() == 1
    with b:
        assert not Timer.objects.filter(fired_at__isnull=False).exists()
    connection.set_schema_to_public()
    assert fire_due_timers(queue) == 0
