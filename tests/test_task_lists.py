"""The task list shaped like the other lists (issue #19): saved views of tasks (filters,
columns, sort; personal or shared) and bulk actions on tasks (reassign, mark done, move the
due date, delete, export) in the background, within the person's visibility — with a second
company."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from crm_core.models import Activity, AuditEntry, BulkJob, Notification, SavedView, Task
from crm_core.services import bulk
from crm_core.services.saved_views import save_view
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


def _tasks(member: Any, n: int, title: str = "Позвонить", **fields: Any) -> list[int]:
    """``n`` tasks of ``member`` in one statement (the set-up, not what is tested)."""
    deadline = fields.pop("deadline", timezone.now() + dt.timedelta(days=2))
    made = Task.objects.bulk_create(
        Task(
            title=f"{title} {i}",
            assignee=member.user,
            created_by=member.user,
            deadline=deadline,
            **fields,
        )
        for i in range(n)
    )
    return [t.pk for t in made]


def test_the_task_list_filters_shows_chosen_columns_and_keeps_views(crm: Any) -> None:
    with crm.a:
        _tasks(crm.manager, 2, "Замер")
        _tasks(crm.manager, 1, "Просрочено", deadline=timezone.now() - dt.timedelta(hours=3))
        _tasks(crm.colleague, 1, "Личное коллеги")
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    day = browser.get("/tasks/", HTTP_HOST=crm.a.host).content.decode()
    assert 'href="/tasks/list/"' in day
    page = browser.get("/tasks/list/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Замер 0" in text
    assert "Просрочено 0" in text
    assert "Личное коллеги" not in text  # a colleague's personal task is not the manager's
    assert 'id="task-list"' in text
    assert 'id="bulk-form"' in text
    overdue = browser.get(
        "/tasks/list/?status=overdue&col=deadline&col=kind",
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Просрочено 0" in overdue
    assert "Замер 0" not in overdue
    assert "<th>Type</th>" in overdue
    assert "<th>Assignee</th>" not in overdue
    saved = browser.post(
        "/lists/tasks/views/",
        {"name": "Горящие", "query": "status=overdue", "columns": "deadline,kind"},
        HTTP_HOST=crm.a.host,
    )
    assert saved.status_code == 302
    with crm.a:
        view = SavedView.objects.get(name="Горящие")
        assert (view.entity, view.shared, view.owner_id) == ("tasks", False, crm.manager.user_id)
    opened = browser.get(saved["Location"], HTTP_HOST=crm.a.host).content.decode()
    assert "Замер 0" not in opened
    assert "Просрочено 0" in opened
    # Personal: the colleague does not see it; a view the owner shares, everyone does.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert "Горящие" not in colleague.get("/tasks/list/", HTTP_HOST=crm.a.host).content.decode()
    with crm.a:
        save_view(
            membership=crm.owner,
            entity="tasks",
            name="Все мои звонки",
            query="kind=call",
            columns=[],
            shared=True,
        )
    assert "Все мои звонки" in colleague.get("/tasks/list/", HTTP_HOST=crm.a.host).content.decode()
    # Another company's member cannot open or change the view by its id.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    for do in ("rename", "delete", "default"):
        refused = other.post(
            f"/lists/views/{view.pk}/", {"do": do, "name": "x"}, HTTP_HOST=crm.b.host
        )
        assert refused.status_code == 404
    assert "Горящие" not in other.get("/tasks/list/", HTTP_HOST=crm.b.host).content.decode()


def test_bulk_reassign_and_done_within_visibility(crm: Any) -> None:
    with crm.a:
        mine = _tasks(crm.manager, 3)
        repeating = _tasks(crm.manager, 1, "Еженедельный отчёт", recurrence="FREQ=WEEKLY")[0]
        theirs = _tasks(crm.colleague, 1, "Чужое")[0]
        job = bulk.start_bulk_job(
            membership=crm.manager,
            entity="tasks",
            action="reassign",
            query="",
            ids=[mine[0], mine[1], theirs],
            all_matching=False,
            params={"responsible": crm.colleague.user_id},
        )
        assert job.total == 2  # the colleague's own task is not the manager's to hand on
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert set(
            Task.objects.filter(assignee_id=crm.colleague.user_id).values_list("pk", flat=True)
        ) == {mine[0], mine[1], theirs}
        assert AuditEntry.objects.filter(object_type="task", action="update").count() == 2
        assert Notification.objects.filter(user_id=crm.colleague.user_id).count() == 2

        done = bulk.start_bulk_job(
            membership=crm.manager,
            entity="tasks",
            action="done",
            query="",
            ids=[mine[2], repeating],
            all_matching=False,
        )
        bulk.run_bulk_job(done.pk, company=crm.a.company)
        assert Task.objects.filter(pk__in=[mine[2], repeating], done_at__isnull=False).count() == 2
        # As the task's own "Done": the next one of a repeating task, the audit entry.
        assert Task.objects.filter(title="Еженедельный отчёт 0", done_at__isnull=True).count() == 1
        assert AuditEntry.objects.filter(object_type="task", action="done").count() == 2
        assert Activity.objects.filter(kind="task_done").count() == 2


def test_bulk_postpone_of_thousands_runs_in_chunks_and_moves_reminders(crm: Any) -> None:
    deadline = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    with crm.a:
        ids = _tasks(
            crm.manager,
            bulk.CHUNK + 200,
            deadline=deadline,
            remind_at=deadline - dt.timedelta(hours=1),
            remind_before_minutes=60,
            reminder_sent_at=timezone.now(),
        )
        done_one = ids[0]
        Task.objects.filter(pk=done_one).update(done_at=timezone.now())
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    started = browser.post(
        "/lists/tasks/bulk/",
        {
            "bulk-action": "postpone",
            "bulk-all_matching": "on",
            "bulk-query": "",
            "bulk-shift_days": "3",
        },
        HTTP_HOST=crm.a.host,
    )
    assert started.status_code == 302
    with crm.a:
        job = BulkJob.objects.get()
        assert (job.entity, job.total) == ("tasks", bulk.CHUNK + 199)  # open tasks only
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        job.refresh_from_db()
        assert (job.status, job.done, job.last_id) == ("done", bulk.CHUNK + 199, ids[-1])
        moved = Task.objects.get(pk=ids[5])
        assert moved.deadline == deadline + dt.timedelta(days=3)
        assert moved.remind_at == deadline + dt.timedelta(days=3) - dt.timedelta(hours=1)
        assert moved.reminder_sent_at is None
        assert Task.objects.get(pk=done_one).deadline == deadline  # a done task stays
    progress = browser.get(f"/bulk/{job.pk}/", HTTP_HOST=crm.a.host, HTTP_HX_REQUEST="true")
    assert 'data-status="done"' in progress.content.decode()
    # Bad input: no number of days — a message, no job.
    browser.post(
        "/lists/tasks/bulk/",
        {"bulk-action": "postpone", "bulk-all_matching": "on", "bulk-query": ""},
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        assert BulkJob.objects.count() == 1


def test_bulk_delete_and_export_of_tasks_and_a_second_company(crm: Any) -> None:
    with crm.a:
        ids = _tasks(crm.manager, 4)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    form = {"bulk-action": "delete", "ids": ids[:2], "bulk-query": ""}
    confirm = browser.post("/lists/tasks/bulk/", form, HTTP_HOST=crm.a.host)
    assert 'id="bulk-delete-confirm"' in confirm.content.decode()
    browser.post("/lists/tasks/bulk/", {**form, "bulk-confirm": "True"}, HTTP_HOST=crm.a.host)
    with crm.a:
        job = BulkJob.objects.get()
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert set(Task.objects.values_list("pk", flat=True)) == set(ids[2:])
        assert AuditEntry.objects.filter(action="delete", object_type="task").count() == 2
        export = bulk.start_bulk_job(
            membership=crm.manager,
            entity="tasks",
            action="export",
            query="",
            ids=[],
            all_matching=True,
        )
        bulk.run_bulk_job(export.pk, company=crm.a.company)
        export.refresh_from_db()
        assert (export.status, export.done) == ("done", 2)
    assert browser.get(f"/bulk/{export.pk}/file/", HTTP_HOST=crm.a.host).status_code == 200
    # Company B: A's tasks are not in its list, its bulk action finds none of A's ids, and
    # A's jobs are not there.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    page = other.get("/tasks/list/", HTTP_HOST=crm.b.host).content.decode()
    assert "Позвонить" not in page
    other.post(
        "/lists/tasks/bulk/",
        {"bulk-action": "done", "ids": ids[2:], "bulk-query": ""},
        HTTP_HOST=crm.b.host,
    )
    with crm.b:
        assert not BulkJob.objects.exists()
    assert other.get(f"/bulk/{export.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    with crm.a:
        assert Task.objects.filter(done_at__isnull=True).count() == 2


def test_create_a_task_for_each_is_set_based(crm: Any) -> None:
    """The bulk "create a task for each" costs the same queries for 10 deals as for 300."""
    from decimal import Decimal

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm_core.models import Client, Deal

    deadline = timezone.now() + dt.timedelta(days=1)

    def run(n: int) -> tuple[int, list[int]]:
        with crm.a:
            client = Client.objects.create(name=f"Клиент {n}", responsible=crm.manager.user)
            stage = crm.pipeline.stages.order_by("position").first()
            deals = Deal.objects.bulk_create(
                Deal(
                    title=f"Сделка {n}-{i}",
                    pipeline=crm.pipeline,
                    stage=stage,
                    client=client,
                    # Every third has nobody responsible: the task is the starter's.
                    responsible=crm.manager.user if i % 3 else None,
                    created_by=crm.owner.user,
                    amount=Decimal(1),
                )
                for i in range(n)
            )
            ids = [d.pk for d in deals]
            job = bulk.start_bulk_job(
                membership=crm.owner,
                entity="deals",
                action="task",
                query="",
                ids=ids,
                all_matching=False,
                params={"title": "Позвонить по акции", "deadline": deadline},
            )
            with CaptureQueriesContext(connection) as captured:
                bulk.run_bulk_job(job.pk, company=crm.a.company)
        return len(captured.captured_queries), ids

    few, _ = run(10)
    many, ids = run(300)
    assert many == few
    with crm.a:
        made = Task.objects.filter(deal_id__in=ids, title="Позвонить по акции")
        assert made.count() == 300
        assert made.filter(assignee_id=crm.owner.user_id).count() == 100
        assert made.filter(client_id__isnull=True).count() == 0  # counts for the client too
        assert (
            AuditEntry.objects.filter(
                object_type="task", action="create", object_id__in=made.values("pk")
            ).count()
            == 300
        )
        assert Notification.objects.filter(user_id=crm.manager.user_id).count() == 2 * 10 // 3 + 200
