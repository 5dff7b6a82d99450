"""Lists people shape (issue #19): saved views, bulk actions in the background, merging
contact persons and deals — with roles, visibility and a second company."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from crm_core.models import (
    Activity,
    AuditEntry,
    BulkJob,
    Client,
    Contact,
    Deal,
    DealItem,
    Notification,
    Phone,
    SavedView,
    Stage,
    StageChange,
    Task,
)
from crm_core.queries.lists import saved_views, view_for
from crm_core.services import bulk
from crm_core.services.deals import create_deal
from crm_core.services.merge import merge_contacts, merge_deals
from crm_core.services.saved_views import delete_view, save_view, set_default, update_view
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


def _deals(crm: Any, membership: Any, n: int, title: str = "Сделка") -> list[int]:
    """``n`` deals of ``membership`` in one statement (the set-up, not what is tested)."""
    stage = crm.pipeline.stages.order_by("position").first()
    made = Deal.objects.bulk_create(
        Deal(
            title=f"{title} {i}",
            pipeline=crm.pipeline,
            stage=stage,
            responsible=membership.user,
            created_by=membership.user,
            amount=Decimal(1000 + i),
        )
        for i in range(n)
    )
    return [d.pk for d in made]


# Saved views


def test_anyone_saves_a_personal_view_and_only_admins_share(crm: Any) -> None:
    with crm.a:
        mine = save_view(
            membership=crm.manager,
            entity="deals",
            name="Крупные",
            query="sort=amount&page=3&col=stage",
            columns=["stage", "amount"],
        )
        assert mine.query == "sort=amount"  # the page and the columns are not filters
        assert mine.columns == ["stage", "amount"]
        with pytest.raises(PermissionDenied):
            save_view(
                membership=crm.manager, entity="deals", name="x", query="", columns=[], shared=True
            )
        with pytest.raises(PermissionDenied):
            update_view(membership=crm.manager, view=mine, shared=True)
        company_wide = save_view(
            membership=crm.owner,
            entity="deals",
            name="Все открытые",
            query="",
            columns=[],
            shared=True,
        )
        # The colleague sees the shared view, not the manager's personal one.
        assert [v.name for v in saved_views(crm.colleague, "deals")] == ["Все открытые"]
        assert {v.pk for v in saved_views(crm.manager, "deals")} == {mine.pk, company_wide.pk}
        with pytest.raises(Http404):
            view_for(crm.colleague, mine.pk)
        with pytest.raises(Http404):
            view_for(crm.colleague, company_wide.pk, to_change=True)
        with pytest.raises(PermissionDenied):
            delete_view(membership=crm.colleague, view=company_wide)
        # Defaults are each person's own.
        set_default(membership=crm.colleague, view=company_wide, entity="deals")
        set_default(membership=crm.manager, view=mine, entity="deals")
        set_default(membership=crm.manager, view=company_wide, entity="deals")
        company_wide.refresh_from_db()
        mine.refresh_from_db()
        assert sorted(company_wide.default_for) == sorted(
            [crm.colleague.user_id, crm.manager.user_id]
        )
        assert mine.default_for == []
        update_view(membership=crm.manager, view=mine, name="Самые крупные")
        assert AuditEntry.objects.filter(object_type="savedview", object_id=mine.pk).count() == 2


def test_saving_opening_and_the_default_view_through_the_pages(crm: Any) -> None:
    with crm.a:
        _deals(crm, crm.manager, 3)
        Deal.objects.filter(title="Сделка 1").update(source="Авито")
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/list/?source=Авито&col=source&col=amount", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert "Сделка 1" in page.content.decode()
    assert "Сделка 2" not in page.content.decode()
    answer = browser.post(
        "/lists/deals/views/",
        {"name": "Авито", "query": "source=Авито", "columns": "source,amount"},
        HTTP_HOST=crm.a.host,
    )
    assert answer.status_code == 302
    with crm.a:
        view = SavedView.objects.get(name="Авито")
    assert f"view={view.pk}" in answer["Location"]
    opened = browser.get(answer["Location"], HTTP_HOST=crm.a.host).content.decode()
    assert 'aria-current="page" data-view' in opened or "current" in opened
    assert "Сделка 2" not in opened
    # Chosen columns only: the source is shown, the expected close is not.
    assert "<th>Источник</th>" in opened or "<th>Source</th>" in opened
    assert "<th>Ожидаемое закрытие</th>" not in opened
    assert "<th>Expected close</th>" not in opened
    # As the default, it opens when the plain list is opened; "All" shows everything.
    browser.post(f"/lists/views/{view.pk}/", {"do": "default"}, HTTP_HOST=crm.a.host)
    plain = browser.get("/deals/list/", HTTP_HOST=crm.a.host)
    assert plain.status_code == 302
    assert f"view={view.pk}" in plain["Location"]
    everything = browser.get("/deals/list/?view=all", HTTP_HOST=crm.a.host).content.decode()
    assert "Сделка 2" in everything
    # Bad input: a view without a name is refused with a message, nothing saved.
    browser.post("/lists/deals/views/", {"name": "  ", "query": ""}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert SavedView.objects.count() == 1
    # Another company's member cannot open, change or delete it by its id.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    for do in ("rename", "delete", "default"):
        refused = other.post(
            f"/lists/views/{view.pk}/", {"do": do, "name": "x"}, HTTP_HOST=crm.b.host
        )
        assert refused.status_code == 404
    with crm.a:
        assert SavedView.objects.get(pk=view.pk).name == "Авито"


def test_the_folded_filters_come_from_the_right_company_only(two_companies: Any) -> None:
    a, b = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    assert browser.get("/lists/deals/filters/", HTTP_HOST=a.host).status_code == 200
    assert browser.get("/lists/nothing/filters/", HTTP_HOST=a.host).status_code == 404
    # A's session means nothing on B's host.
    assert browser.get("/lists/deals/filters/", HTTP_HOST=b.host).status_code in (302, 404)


def test_column_chooser_on_clients_and_contacts(crm: Any) -> None:
    with crm.a:
        client = Client.objects.create(
            name="ООО Берег", industry="Стройка", responsible=crm.manager.user
        )
        Contact.objects.create(
            client=client, last_name="Орлова", position="Директор", responsible=crm.manager.user
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    clients = browser.get("/clients/?col=industry", HTTP_HOST=crm.a.host).content.decode()
    assert "Стройка" in clients
    # Folded (no filter typed), the form comes when the person opens it, with the columns ticked.
    assert 'id="column-chooser"' not in clients
    assert 'hx-get="/lists/clients/filters/?col=industry"' in clients
    chooser = browser.get("/lists/clients/filters/?col=industry", HTTP_HOST=crm.a.host)
    assert 'id="column-chooser"' in chooser.content.decode()
    assert 'value="industry" checked' in chooser.content.decode()
    filtered = browser.get("/clients/?col=industry&q=Бер", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="column-chooser"' in filtered  # a filtered list shows its filters open
    contacts = browser.get("/contacts/?col=created&q=Орл", HTTP_HOST=crm.a.host).content.decode()
    assert "Орлова" in contacts
    assert "Директор" not in contacts


# Bulk actions


def test_bulk_reassign_of_thousands_touches_only_what_the_manager_may_change(crm: Any) -> None:
    with crm.a:
        mine = _deals(crm, crm.manager, 2500)
        theirs = _deals(crm, crm.colleague, 30, title="Чужая")
        job = bulk.start_bulk_job(
            membership=crm.manager,
            entity="deals",
            action="reassign",
            query="",
            ids=[],
            all_matching=True,
            params={"responsible": crm.colleague.user_id},
        )
        assert job.total == 2500
        # The manager loses three deals before the job runs: the task re-checks visibility.
        Deal.objects.filter(pk__in=mine[:3]).update(responsible=crm.head.user)
        done = bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert done is not None
        assert done.status == "done"
        assert Deal.objects.filter(responsible=crm.colleague.user).count() == 2497 + 30
        assert Deal.objects.filter(pk__in=mine[:3], responsible=crm.head.user).count() == 3
        assert set(Deal.objects.filter(pk__in=theirs).values_list("responsible_id", flat=True)) == {
            crm.colleague.user_id
        }
        assert AuditEntry.objects.filter(object_type="deal", action="update").count() == 2497
        assert Notification.objects.filter(user_id=crm.manager.user_id).exists()
        # Delivered again (at-least-once): nothing happens twice.
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert AuditEntry.objects.filter(object_type="deal", action="update").count() == 2497


def test_bulk_job_resumes_after_its_checkpoint(crm: Any) -> None:
    with crm.a:
        ids = _deals(crm, crm.manager, 1200)
        job = bulk.start_bulk_job(
            membership=crm.manager,
            entity="deals",
            action="tag_add",
            query="",
            ids=[],
            all_matching=True,
            params={"tag": "опт"},
        )
        # A worker died after the first chunk: the job says running, its heartbeat is old.
        bulk._claim(job.pk)
        bulk._chunk(job.pk, crm.manager)
        BulkJob.objects.filter(pk=job.pk).update(
            heartbeat_at=timezone.now() - dt.timedelta(hours=1)
        )
        first = set(Deal.objects.filter(tags__contains=["опт"]).values_list("pk", flat=True))
        assert first == set(ids[: bulk.CHUNK])
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        job.refresh_from_db()
        assert job.status == "done"
        assert job.done == 1200
        assert Deal.objects.filter(tags__contains=["опт"]).count() == 1200
        assert AuditEntry.objects.filter(action="update", object_type="deal").count() == 1200
        assert all(t.count("опт") == 1 for t in Deal.objects.values_list("tags", flat=True))


def test_bulk_stage_change_goes_through_the_single_move(crm: Any) -> None:
    from crm_core.automation.models import RuleAction, StageRule

    with crm.a:
        stages = list(crm.pipeline.stages.order_by("position"))
        target = stages[2]
        rule = StageRule.objects.create(
            stage=target, trigger=StageRule.Trigger.ENTERS, name="call", is_active=True
        )
        RuleAction.objects.create(
            rule=rule, kind=RuleAction.Kind.TASK, title="Позвонить после смены этапа"
        )
        deals = [
            create_deal(membership=crm.manager, title=f"Окна {i}", pipeline=crm.pipeline)
            for i in range(4)
        ]
        job = bulk.start_bulk_job(
            membership=crm.manager,
            entity="deals",
            action="stage",
            query="",
            ids=[d.pk for d in deals[:3]],
            all_matching=False,
            params={"stage": target},
        )
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        moved = Deal.objects.filter(stage=target)
        assert moved.count() == 3
        assert StageChange.objects.filter(to_stage=target).count() == 3
        assert Activity.objects.filter(kind="stage", deal__in=moved).count() == 3
        assert Task.objects.filter(title="Позвонить после смены этапа").count() == 3
        assert AuditEntry.objects.filter(object_type="deal", action="move").count() == 3
        lost = next(s for s in stages if s.outcome == Stage.Outcome.LOST)
        with pytest.raises(ValidationError):
            bulk.start_bulk_job(
                membership=crm.manager,
                entity="deals",
                action="stage",
                query="",
                ids=[deals[3].pk],
                all_matching=False,
                params={"stage": lost},
            )


def test_read_only_cannot_start_a_change_and_export_works(crm: Any) -> None:
    with crm.a:
        _deals(crm, crm.manager, 40)
        with pytest.raises(PermissionDenied):
            bulk.start_bulk_job(
                membership=crm.viewer,
                entity="deals",
                action="delete",
                query="",
                ids=[],
                all_matching=True,
            )
        job = bulk.start_bulk_job(
            membership=crm.viewer,
            entity="deals",
            action="export",
            query="",
            ids=[],
            all_matching=True,
        )
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        job.refresh_from_db()
        assert job.status == "done"
        sheet = openpyxl.load_workbook(io.BytesIO(job.file.read())).active
        assert sheet.max_row == 41


def test_bulk_through_the_pages_with_delete_confirmation_and_isolation(crm: Any) -> None:
    with crm.a:
        ids = _deals(crm, crm.manager, 5)
        colleague_deal = _deals(crm, crm.colleague, 1, title="Чужая")[0]
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    list_page = browser.get("/deals/list/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="bulk-form"' in list_page
    assert 'class="bulk-row"' in list_page
    form = {"bulk-action": "delete", "ids": [ids[0], ids[1], colleague_deal], "bulk-query": ""}
    confirm = browser.post("/lists/deals/bulk/", form, HTTP_HOST=crm.a.host)
    assert confirm.status_code == 200
    assert 'id="bulk-delete-confirm"' in confirm.content.decode()
    with crm.a:
        assert Deal.objects.count() == 6  # nothing deleted before the confirmation
    started = browser.post(
        "/lists/deals/bulk/", {**form, "bulk-confirm": "True"}, HTTP_HOST=crm.a.host
    )
    assert started.status_code == 302
    with crm.a:
        job = BulkJob.objects.get()
        assert job.total == 2  # the colleague's deal is not the manager's to delete
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert set(Deal.objects.values_list("pk", flat=True)) == {*ids[2:], colleague_deal}
        assert AuditEntry.objects.filter(action="delete", object_type="deal").count() == 2
    progress = browser.get(f"/bulk/{job.pk}/", HTTP_HOST=crm.a.host, HTTP_HX_REQUEST="true")
    assert 'data-status="done"' in progress.content.decode()
    # Bad input: no action, or nothing ticked — a message, no job.
    browser.post(
        "/lists/deals/bulk/", {"bulk-action": "reassign", "bulk-query": ""}, HTTP_HOST=crm.a.host
    )
    # The job's page and file are its starter's: not a colleague's, not another company's.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert colleague.get(f"/bulk/{job.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert other.get(f"/bulk/{job.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    assert other.get(f"/bulk/{job.pk}/file/", HTTP_HOST=crm.b.host).status_code == 404
    count = browser.get("/lists/deals/bulk/count/", HTTP_HOST=crm.a.host).content.decode()
    assert "3" in count  # the manager's three left
    with crm.a:
        assert BulkJob.objects.count() == 1


def test_a_job_of_company_a_run_in_company_b_finds_nothing(crm: Any) -> None:
    with crm.a:
        _deals(crm, crm.manager, 3)
        job = bulk.start_bulk_job(
            membership=crm.manager,
            entity="deals",
            action="tag_add",
            query="",
            ids=[],
            all_matching=True,
            params={"tag": "x"},
        )
    with crm.b:
        # The same id in B is another row (or none); the starter is no member of B either.
        assert (
            bulk.run_bulk_job(job.pk, company=crm.b.company) is None
            or Deal.objects.filter(tags__contains=["x"]).count() == 0
        )
    with crm.a:
        assert BulkJob.objects.get(pk=job.pk).status == "pending"


# Merging


def test_merge_two_contact_persons_keeps_everything(crm: Any) -> None:
    with crm.a:
        client = Client.objects.create(name="ООО Берег", responsible=crm.manager.user)
        keep = Contact.objects.create(
            client=client,
            last_name="Орлова",
            first_name="Анна",
            emails=["a@bereg.ru"],
            responsible=crm.manager.user,
        )
        other = Contact.objects.create(
            client=client,
            last_name="Орлова",
            first_name="Анна",
            position="Директор",
            emails=["anna@bereg.ru"],
            responsible=crm.manager.user,
        )
        Phone.objects.create(contact=keep, e164="+79160000001", raw="1")
        Phone.objects.create(contact=other, e164="+79160000001", raw="1")
        Phone.objects.create(contact=other, e164="+79160000002", raw="2")
        deal = create_deal(
            membership=crm.manager, title="Окна", pipeline=crm.pipeline, client=client
        )
        deal.contacts.add(other)
        Activity.objects.create(kind="call", contact=other, client=client, summary="Звонок")
        theirs = Contact.objects.create(last_name="Чужая", responsible=crm.colleague.user)
        with pytest.raises(PermissionDenied):
            merge_contacts(membership=crm.manager, keep=keep, other=theirs)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    card = browser.get(f"/contacts/{keep.pk}/card/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/contacts/{keep.pk}/merge/" in card
    pick = browser.get(f"/contacts/{keep.pk}/merge/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/contacts/{keep.pk}/merge/{other.pk}/" in pick
    page = browser.post(
        f"/contacts/{keep.pk}/merge/{other.pk}/", {"position": "other"}, HTTP_HOST=crm.a.host
    )
    assert page.status_code == 302
    with crm.a:
        keep.refresh_from_db()
        assert not Contact.objects.filter(pk=other.pk).exists()
        assert keep.position == "Директор"
        assert keep.emails == ["a@bereg.ru", "anna@bereg.ru"]
        assert sorted(keep.phones.values_list("e164", flat=True)) == [
            "+79160000001",
            "+79160000002",
        ]
        assert list(deal.contacts.all()) == [keep]
        assert Activity.objects.filter(contact=keep, summary="Звонок").exists()
        assert AuditEntry.objects.filter(
            object_type="contact", object_id=keep.pk, action="merge"
        ).exists()
        assert AuditEntry.objects.filter(
            object_type="contact", object_id=other.pk, action="delete"
        ).exists()
    # Another company's member cannot reach the merge of A's records.
    outsider = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert (
        outsider.get(f"/contacts/{keep.pk}/merge/{theirs.pk}/", HTTP_HOST=crm.b.host).status_code
        == 404
    )


def test_merge_two_deals_moves_history_tasks_and_products(crm: Any) -> None:
    with crm.a:
        stages = list(crm.pipeline.stages.order_by("position"))
        keep = create_deal(
            membership=crm.manager, title="Окна", pipeline=crm.pipeline, amount=Decimal(100)
        )
        other = create_deal(
            membership=crm.manager, title="Окна (дубль)", pipeline=crm.pipeline, amount=Decimal(900)
        )
        from crm_core.services.deals import move_deal

        move_deal(membership=crm.manager, deal=other, stage=stages[1])
        DealItem.objects.create(deal=other, name="Окно", price=900)
        Task.objects.create(
            title="Замер", deal=other, deadline=timezone.now(), assignee=crm.manager.user
        )
        merged = merge_deals(membership=crm.manager, keep=keep, other=other, take_other={"amount"})
        assert merged.amount == Decimal(900)
        assert merged.title == "Окна"
        assert StageChange.objects.filter(deal=merged).count() == 3
        assert merged.items.count() == 1
        assert merged.tasks.count() == 1
        assert not Deal.objects.filter(pk=other.pk).exists()
        assert AuditEntry.objects.filter(
            object_type="deal", object_id=merged.pk, action="merge"
        ).exists()
        colleague_deal = create_deal(membership=crm.colleague, title="Чужая", pipeline=crm.pipeline)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert (
        browser.get(
            f"/deals/{keep.pk}/merge/{colleague_deal.pk}/", HTTP_HOST=crm.a.host
        ).status_code
        == 404
    )
    # From the bulk selection of exactly two.
    chosen = browser.post(
        "/lists/deals/bulk/",
        {"bulk-action": "merge", "ids": [keep.pk, keep.pk + 999999], "bulk-query": ""},
        HTTP_HOST=crm.a.host,
    )
    assert chosen.status_code == 302
    assert f"/deals/{keep.pk}/merge/" in chosen["Location"]


def test_saved_views_go_into_the_archive_and_back(make_company: Any) -> None:
    from onboarding.services.exports import build_export, request_export
    from onboarding.tests.helpers import run_import
    from tenants.models import Membership

    a = make_company("Alpha")
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        view = save_view(
            membership=owner,
            entity="clients",
            name="VIP",
            query="tag=vip",
            columns=["tags"],
            shared=True,
        )
        set_default(membership=owner, view=view, entity="clients")
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    b = make_company("Beta")
    with b:
        run_import(b.company, b.owner, data, "export.zip")
        restored = SavedView.objects.get()
        assert (restored.name, restored.query, restored.columns, restored.shared) == (
            "VIP",
            "tag=vip",
            ["tags"],
            True,
        )
        assert restored.owner_id == b.owner.pk or restored.owner_id is None
        assert restored.default_for == []


def test_bulk_move_to_won_closes_the_open_tasks_when_asked_within_visibility(crm: Any) -> None:
    """The lists' "Move to a stage" offers to close the deals' open tasks, as the card and the
    board do: set-based, only for the deals the person may change, timers stopped."""
    from crm_core.automation.models import Timer
    from crm_core.services.tasks import create_task

    now = timezone.now()
    with crm.a:
        won = crm.pipeline.stages.get(outcome=Stage.Outcome.WON)
        mine = [
            create_deal(membership=crm.manager, title=f"Окна {i}", pipeline=crm.pipeline)
            for i in range(3)
        ]
        theirs = create_deal(membership=crm.colleague, title="Чужая", pipeline=crm.pipeline)
        tasks = [
            create_task(
                membership=crm.owner,
                title="Перезвонить",
                deadline=now + dt.timedelta(days=1),
                deal=deal,
                assignee=deal.responsible,
            )
            for deal in [*mine, theirs]
        ]
        Timer.objects.create(
            kind=Timer.Kind.SLA_OVERDUE, due_at=now + dt.timedelta(hours=1), task=tasks[0]
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/list/", HTTP_HOST=crm.a.host).content.decode()
    assert 'name="bulk-close_tasks"' in page
    form = {
        "bulk-action": "stage",
        "bulk-stage": won.pk,
        "bulk-close_tasks": "on",
        "bulk-query": "",
        "ids": [mine[0].pk, mine[1].pk, theirs.pk],
    }
    assert browser.post("/lists/deals/bulk/", form, HTTP_HOST=crm.a.host).status_code == 302
    with crm.a:
        job = BulkJob.objects.get()
        assert job.params["close_tasks"] is True
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert set(Deal.objects.filter(stage=won).values_list("pk", flat=True)) == {
            mine[0].pk,
            mine[1].pk,
        }
        done = set(Task.objects.filter(done_at__isnull=False).values_list("pk", flat=True))
        assert done == {tasks[0].pk, tasks[1].pk}  # not the colleague's deal's, nor the third
        assert AuditEntry.objects.filter(object_type="task", action="done").count() == 2
        assert not Timer.objects.filter(task=tasks[0], fired_at__isnull=True).exists()
    # Not ticked: the deals are won, their tasks stay open.
    form = {**form, "ids": [mine[2].pk]}
    del form["bulk-close_tasks"]
    browser.post("/lists/deals/bulk/", form, HTTP_HOST=crm.a.host)
    with crm.a:
        job = BulkJob.objects.latest("pk")
        bulk.run_bulk_job(job.pk, company=crm.a.company)
        assert Deal.objects.get(pk=mine[2].pk).stage_id == won.pk
        assert Task.objects.get(pk=tasks[2].pk).done_at is None
