"""Bulk actions on the tickets list, through crm_core's bulk machinery: tick tickets (or all
matching the filters) and assign them to a person or a queue, change their status or priority
— only the tickets the person sees, each with its audit entry; bad input makes no job; a
read-only member gets no bulk bar; company B's people reach none of A's tickets."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.models import AuditEntry, BulkJob, Notification
from crm_core.services import bulk
from service.models import Queue, Ticket
from service.services import tickets as service
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def _open(crm: Any, subject: str, **values: Any) -> Ticket:
    with crm.a:
        return service.open_ticket(
            company=crm.a.company,
            subject=subject,
            text="Текст",
            source="manual",
            requester=service.Requester("lena@romashka.ru", "Лена"),
            **values,
        )


def test_tick_tickets_and_assign_them_within_what_the_manager_sees(crm: Any) -> None:
    mine = _open(crm, "Моё", assignee_id=crm.manager.user_id)
    nobodys = _open(crm, "Ничьё")
    theirs = _open(crm, "Чужое", assignee_id=crm.colleague.user_id)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/tickets/?status=all", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="bulk-form"' in page
    assert f'<input type="checkbox" name="ids" value="{mine.pk}" form="bulk-form"' in page
    assert 'value="ticket_assign"' in page
    assert 'data-actions="ticket_assign"' in page
    started = browser.post(
        "/lists/tickets/bulk/",
        {
            "bulk-action": "ticket_assign",
            "bulk-assignee": crm.head.user_id,
            "bulk-query": "status=all",
            "ids": [mine.pk, nobodys.pk, theirs.pk],
            "current": "status=all",
        },
        HTTP_HOST=crm.a.host,
    )
    assert started.status_code == 302, started.content.decode()[:2000]
    with crm.a:
        job = BulkJob.objects.get()
        assert started["Location"] == f"/bulk/{job.pk}/"
        assert job.entity == "tickets"
        assert job.total == 2  # the colleague's ticket is not the manager's to see
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assignees = dict(Ticket.objects.values_list("pk", "assignee_id"))
        assert assignees[mine.pk] == crm.head.user_id
        assert assignees[nobodys.pk] == crm.head.user_id
        assert assignees[theirs.pk] == crm.colleague.user_id
        entries = AuditEntry.objects.filter(object_type="ticket", changes__has_key="assignee")
        assert sorted(entries.values_list("object_id", flat=True)) == sorted([mine.pk, nobodys.pk])
        assert Notification.objects.filter(user_id=crm.head.user_id).count() >= 2
        # Delivered again (at-least-once): nothing happens twice.
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert entries.count() == 2
    progress = browser.get(f"/bulk/{job.pk}/", HTTP_HOST=crm.a.host)
    assert progress.status_code == 200
    assert 'href="/tickets/?status=all"' in progress.content.decode()


def test_all_matching_the_filter_status_priority_and_queue(crm: Any) -> None:
    from crm_core.models import Team

    urgent = [_open(crm, f"Срочно {n}", priority="urgent") for n in range(3)]
    calm = _open(crm, "Не срочно", priority="low")
    with crm.a:
        queue = Queue.objects.create(team=Team.objects.get(name="Sales"))
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    count = browser.get("/lists/tickets/bulk/count/?priority=urgent", HTTP_HOST=crm.a.host)
    assert "3" in count.content.decode()
    for action, field, value, query in (
        ("ticket_status", "status", "solved", "priority=urgent"),
        # Solved now: the list's default (open tickets) has them no more.
        ("ticket_priority", "priority", "high", "status=all&priority=urgent"),
        ("ticket_queue", "queue", queue.pk, "status=solved&q=Срочно"),
    ):
        started = browser.post(
            "/lists/tickets/bulk/",
            {
                "bulk-action": action,
                f"bulk-{field}": value,
                "bulk-query": query,
                "bulk-all_matching": "on",
                "current": "",
            },
            HTTP_HOST=crm.a.host,
        )
        assert started.status_code == 302, (action, started.content.decode()[:2000])
        with crm.a:
            job = BulkJob.objects.order_by("-pk").first()
            assert job is not None
            assert job.total == 3
            bulk.run_bulk_job(job.pk, company=crm.a.company)
    with crm.a:
        for ticket in urgent:
            ticket.refresh_from_db()
            assert (ticket.status, ticket.priority, ticket.queue_id) == ("solved", "high", queue.pk)
            assert ticket.solved_at is not None
        calm.refresh_from_db()
        assert (calm.status, calm.priority, calm.queue_id) == ("new", "low", None)
        changed = AuditEntry.objects.filter(object_type="ticket", object_id=urgent[0].pk)
        assert {k for e in changed for k in e.changes} >= {"status", "priority", "queue"}


def test_bad_input_makes_no_job_and_read_only_members_get_no_bulk_bar(crm: Any) -> None:
    ticket = _open(crm, "Вопрос")
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    for form in (
        {"bulk-action": "ticket_assign", "ids": [ticket.pk]},  # whom to?
        {"bulk-action": "ticket_status", "bulk-status": "lost", "ids": [ticket.pk]},
        {"bulk-action": "ticket_priority", "bulk-priority": "high"},  # nothing ticked
        {"bulk-action": "stage", "ids": [ticket.pk]},  # a deals' action
    ):
        answer = browser.post(
            "/lists/tickets/bulk/", {**form, "bulk-query": "", "current": ""}, HTTP_HOST=crm.a.host
        )
        assert answer.status_code == 302
        assert answer["Location"].startswith("/tickets/")
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    page = viewer.get("/tickets/?status=all", HTTP_HOST=crm.a.host).content.decode()
    assert "Вопрос" in page
    assert 'id="bulk-form"' not in page
    viewer.post(
        "/lists/tickets/bulk/",
        {
            "bulk-action": "ticket_priority",
            "bulk-priority": "high",
            "ids": [ticket.pk],
            "bulk-query": "",
        },
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        assert not BulkJob.objects.exists()
        ticket.refresh_from_db()
        assert ticket.priority == "normal"


def test_company_b_reaches_none_of_as_tickets_by_bulk(crm: Any) -> None:
    ticket = _open(crm, "Вопрос A")
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    answer = other.post(
        "/lists/tickets/bulk/",
        {
            "bulk-action": "ticket_priority",
            "bulk-priority": "urgent",
            "ids": [ticket.pk],
            "bulk-query": "",
            "current": "",
        },
        HTTP_HOST=crm.b.host,
    )
    assert answer.status_code == 302
    everything = other.post(
        "/lists/tickets/bulk/",
        {
            "bulk-action": "ticket_priority",
            "bulk-priority": "urgent",
            "bulk-all_matching": "on",
            "bulk-query": "",
            "current": "",
        },
        HTTP_HOST=crm.b.host,
    )
    assert everything.status_code == 302
    count = other.get("/lists/tickets/bulk/count/", HTTP_HOST=crm.b.host).content.decode()
    assert "0" in count
    with crm.b:
        assert not BulkJob.objects.exists()
    with crm.a:
        assert not BulkJob.objects.exists()
        ticket.refresh_from_db()
        assert ticket.priority == "normal"
    # A's owner on B's host is no member there.
    a_owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    crossed = a_owner.post(
        "/lists/tickets/bulk/",
        {"bulk-action": "ticket_priority", "bulk-priority": "urgent", "ids": [ticket.pk]},
        HTTP_HOST=crm.b.host,
    )
    assert crossed.status_code in {302, 403, 404}
    with crm.b:
        assert not BulkJob.objects.exists()
