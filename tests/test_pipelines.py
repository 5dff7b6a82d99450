"""The pipeline editor: services and pages, only for owners and admins, each company its own;
and a deal's history and timers survive every operation (rename, reorder, deleting its stage,
archiving its pipeline)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm_core.automation.models import RuleAction, StageRule, Timer
from crm_core.automation.services import setup, timers
from crm_core.models import Deal, Notification, Pipeline, Stage, StageChange, Task
from crm_core.queries.deals import board
from crm_core.services import pipelines as service
from crm_core.services.deals import create_deal, move_deal
from tests.test_isolation import login_on_host


def _stages(pipeline: Pipeline) -> list[Stage]:
    return list(service.live_stages(pipeline))


def _history(deal: Deal) -> list[tuple[str | None, str]]:
    return [
        (change.from_stage.name if change.from_stage else None, change.to_stage.name)
        for change in StageChange.objects.filter(deal=deal).select_related("from_stage", "to_stage")
    ]


def _stays_rule(stage: Stage, owner: Any, minutes: int = 60) -> StageRule:
    rule = StageRule.objects.create(
        stage=stage,
        name="stale",
        trigger=StageRule.Trigger.STAYS,
        stays_minutes=minutes,
        is_active=True,
    )
    setup.add_action(
        membership=owner, rule=rule, action=RuleAction(kind="notify", text="{deal} застряла")
    )
    return rule


def test_only_owners_and_admins_change_pipelines(crm: Any) -> None:
    with crm.a:
        first = _stages(crm.pipeline)[0]
        for member in (crm.manager, crm.head, crm.viewer):
            with pytest.raises(PermissionDenied):
                service.add_pipeline(membership=member, company=crm.a.company, name="X")
            with pytest.raises(PermissionDenied):
                service.change_stage(
                    membership=member,
                    stage=first,
                    name="Hacked",
                    color="#000000",
                    probability=1,
                    outcome="open",
                )
            with pytest.raises(PermissionDenied):
                service.reorder_stages(
                    membership=member,
                    pipeline=crm.pipeline,
                    stage_ids=[s.pk for s in reversed(_stages(crm.pipeline))],
                )
        assert Stage.objects.get(pk=first.pk).name != "Hacked"
        assert Pipeline.objects.count() == 1


def test_add_stage_goes_before_won_and_lost_and_validates(crm: Any) -> None:
    with crm.a:
        stage = service.add_stage(
            membership=crm.owner, pipeline=crm.pipeline, name="Договор", probability=60
        )
        names = [s.name for s in _stages(crm.pipeline)]
        assert names.index("Договор") == len(names) - 3
        assert [s.position for s in _stages(crm.pipeline)] == list(range(len(names)))
        assert stage.probability == 60
        with pytest.raises(ValidationError) as bad:
            service.add_stage(
                membership=crm.owner, pipeline=crm.pipeline, name=" ", color="red", probability=101
            )
        assert set(bad.value.message_dict) == {"name"}
        with pytest.raises(ValidationError) as bad:
            service.add_stage(
                membership=crm.owner, pipeline=crm.pipeline, name="A", color="red", probability=101
            )
        assert set(bad.value.message_dict) == {"color", "probability"}
        # Won counts 100 %, lost 0 %, whatever is typed.
        won = service.add_stage(
            membership=crm.owner, pipeline=crm.pipeline, name="Оплачено", outcome="won"
        )
        assert won.probability == 100


def test_rename_and_reorder_keep_history_rules_and_timers(crm: Any) -> None:
    with crm.a:
        first, second = _stages(crm.pipeline)[:2]
        rule = _stays_rule(first, crm.owner)
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
        timer = Timer.objects.get(deal=deal, rule=rule)
        service.change_stage(
            membership=crm.owner,
            stage=first,
            name="Новый звонок",
            color="#123456",
            probability=15,
            outcome="open",
        )
        ids = [s.pk for s in _stages(crm.pipeline)]
        ids[0], ids[1] = ids[1], ids[0]
        service.reorder_stages(membership=crm.owner, pipeline=crm.pipeline, stage_ids=ids)
        assert [s.pk for s in _stages(crm.pipeline)][:2] == [second.pk, first.pk]
        # The deal, its history and its timer follow the same stage row.
        assert _history(deal) == [(None, "Новый звонок")]
        assert Deal.objects.get(pk=deal.pk).stage_id == first.pk
        Timer.objects.filter(pk=timer.pk).update(due_at=timezone.now() - timedelta(seconds=1))
        assert timers.fire_due(crm.a.company) == 1
        assert "застряла" in Timer.objects.get(pk=timer.pk).outcome
        assert Notification.objects.filter(text="Окна застряла").exists()
        # The board shows the new order and the new colour's stylesheet follows.
        columns = board(crm.owner, crm.pipeline)
        assert [c.stage.pk for c in columns][:2] == [second.pk, first.pk]
        with pytest.raises(ValidationError):
            service.reorder_stages(membership=crm.owner, pipeline=crm.pipeline, stage_ids=ids[1:])


def test_deleting_a_stage_with_deals_moves_them_and_keeps_the_old_name(crm: Any) -> None:
    with crm.a:
        first, second = _stages(crm.pipeline)[:2]
        old_rule = _stays_rule(first, crm.owner)
        new_rule = _stays_rule(second, crm.owner, minutes=30)
        deal = create_deal(
            membership=crm.manager, title="Балкон", pipeline=crm.pipeline, amount=Decimal(500)
        )
        old_timer = Timer.objects.get(deal=deal, rule=old_rule)
        # A call-back task with its SLA deadline: the stage's removal must not touch it.
        task = Task.objects.create(
            title="Перезвонить", deal=deal, deadline=timezone.now(), assignee=crm.manager.user
        )
        sla = timers.start_sla(crm.a.company, task)
        with pytest.raises(ValidationError) as asked:
            service.delete_stage(membership=crm.owner, stage=first)
        assert "move_to" in asked.value.message_dict
        lost = next(s for s in _stages(crm.pipeline) if s.outcome == "lost")
        with pytest.raises(ValidationError) as why:
            service.delete_stage(membership=crm.owner, stage=first, move_to=lost)
        assert "lost_reason" in why.value.message_dict
        deleted = service.delete_stage(membership=crm.owner, stage=first, move_to=second)
        assert deleted is False  # history points at it: archived, not deleted
        first.refresh_from_db()
        assert first.is_archived
        assert first.pk not in [s.pk for s in _stages(crm.pipeline)]
        deal.refresh_from_db()
        assert deal.stage_id == second.pk
        assert _history(deal) == [(None, first.name), (first.name, second.name)]
        # The old stage's timer goes stale; the new stage's rule started its own.
        assert Timer.objects.filter(deal=deal, rule=new_rule, fired_at=None).exists()
        Timer.objects.update(due_at=timezone.now() - timedelta(seconds=1))
        timers.fire_due(crm.a.company)
        assert Timer.objects.get(pk=old_timer.pk).outcome == "deal moved on"
        assert Timer.objects.get(pk=sla.pk).fired_at is not None
        assert Notification.objects.filter(
            user=crm.manager.user, text__contains="Перезвонить"
        ).exists()
        assert "застряла" in Timer.objects.get(deal=deal, rule=new_rule).outcome
        # The board's heads (trigger-kept totals) moved with the deal.
        heads = {c.stage.pk: (c.count, c.total) for c in board(crm.owner, crm.pipeline)}
        assert heads[second.pk] == (1, Decimal(500))
        # No deal enters the archived stage again, and new deals start at the first live one.
        with pytest.raises(ValidationError):
            move_deal(membership=crm.owner, deal=deal, stage=first)
        fresh = create_deal(membership=crm.manager, title="Новая", pipeline=crm.pipeline)
        assert fresh.stage_id == second.pk
        # A stage nothing ever pointed at is simply deleted.
        spare = service.add_stage(membership=crm.owner, pipeline=crm.pipeline, name="Лишняя")
        assert service.delete_stage(membership=crm.owner, stage=spare) is True
        assert not Stage.objects.filter(pk=spare.pk).exists()


def test_the_last_stage_in_progress_stays(crm: Any) -> None:
    with crm.a:
        pipeline = service.add_pipeline(membership=crm.owner, company=crm.a.company, name="B2B")
        only = _stages(pipeline)[0]
        with pytest.raises(ValidationError):
            service.delete_stage(membership=crm.owner, stage=only)
        with pytest.raises(ValidationError):
            service.change_stage(
                membership=crm.owner,
                stage=only,
                name=only.name,
                color=only.color,
                probability=10,
                outcome="won",
            )


def test_outcome_of_a_stage_with_deals_does_not_change(crm: Any) -> None:
    with crm.a:
        first, second = _stages(crm.pipeline)[:2]
        create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
        with pytest.raises(ValidationError) as refused:
            service.change_stage(
                membership=crm.owner,
                stage=first,
                name=first.name,
                color=first.color,
                probability=100,
                outcome="won",
            )
        assert "outcome" in refused.value.message_dict
        service.change_stage(
            membership=crm.owner,
            stage=second,
            name=second.name,
            color=second.color,
            probability=0,
            outcome="lost",
        )
        assert Stage.objects.get(pk=second.pk).outcome == "lost"


def test_archiving_a_pipeline_keeps_its_deals_history_and_timers(crm: Any) -> None:
    with crm.a:
        other = service.add_pipeline(membership=crm.owner, company=crm.a.company, name="Дилеры")
        assert other.is_default is False
        first = _stages(other)[0]
        rule = _stays_rule(first, crm.owner)
        deal = create_deal(membership=crm.manager, title="Дилер", pipeline=other)
        with pytest.raises(ValidationError):
            service.archive_pipeline(membership=crm.owner, pipeline=crm.pipeline)
        service.archive_pipeline(membership=crm.owner, pipeline=other)
        assert Pipeline.objects.get(pk=other.pk).is_archived
        with pytest.raises(ValidationError):
            service.set_default_pipeline(membership=crm.owner, pipeline=other)
        assert Deal.objects.get(pk=deal.pk).pipeline_id == other.pk
        assert _history(deal) == [(None, first.name)]
        Timer.objects.filter(deal=deal).update(due_at=timezone.now() - timedelta(seconds=1))
        timers.fire_due(crm.a.company)
        assert "застряла" in Timer.objects.get(deal=deal, rule=rule).outcome
        service.archive_pipeline(membership=crm.owner, pipeline=other, archived=False)
        service.set_default_pipeline(membership=crm.owner, pipeline=other)
        assert list(Pipeline.objects.filter(is_default=True)) == [other]


def test_editor_pages_for_admins_only_and_each_company_its_own(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    with crm.a:
        stage = _stages(crm.pipeline)[0]
    assert owner.get("/settings/", HTTP_HOST=crm.a.host).content.count(b"/settings/pipelines/")
    page = owner.get("/settings/pipelines/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    edit = owner.get(f"/settings/pipelines/{crm.pipeline.pk}/", HTTP_HOST=crm.a.host)
    assert stage.name in edit.content.decode()
    board_page = owner.get(f"/deals/pipeline/{crm.pipeline.pk}/", HTTP_HOST=crm.a.host)
    assert f"/settings/pipelines/{crm.pipeline.pk}/" in board_page.content.decode()
    assert b"pipeline-settings" not in manager.get("/deals/", HTTP_HOST=crm.a.host).content
    for url in (
        "/settings/pipelines/",
        f"/settings/pipelines/{crm.pipeline.pk}/",
        f"/settings/stages/{stage.pk}/delete/",
    ):
        assert manager.get(url, HTTP_HOST=crm.a.host).status_code == 404
    assert (
        manager.post(
            f"/settings/pipelines/{crm.pipeline.pk}/order/",
            data=json.dumps({"order": []}),
            content_type="application/json",
            HTTP_HOST=crm.a.host,
        ).status_code
        == 404
    )
    # Company B's owner cannot reach A's pipeline or stage by id.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert (
        other.get(f"/settings/pipelines/{crm.pipeline.pk}/", HTTP_HOST=crm.b.host).status_code
        in (404,)
        or crm.pipeline.name
        not in other.get(
            f"/settings/pipelines/{crm.pipeline.pk}/", HTTP_HOST=crm.b.host
        ).content.decode()
    )
    # A stage only A has (schemas number their rows alike, so B may have a stage with the
    # same id: then B sees its own stage, never A's, and A's stays).
    with crm.a:
        own = service.add_stage(
            membership=crm.owner, pipeline=crm.pipeline, name="Только у компании A"
        )
    response = other.post(f"/settings/stages/{own.pk}/delete/", HTTP_HOST=crm.b.host, data={})
    with crm.a:
        assert Stage.objects.filter(pk=own.pk, is_archived=False).exists()
    assert response.status_code in (200, 400, 404)
    assert "Только у компании A" not in response.content.decode()


def test_editor_forms_save_and_refuse_bad_input(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    url = f"/settings/pipelines/{crm.pipeline.pk}/"
    with crm.a:
        first = _stages(crm.pipeline)[0]
    prefix = f"stage-{first.pk}"
    bad = owner.post(
        url,
        {
            "action": "stage",
            "stage": first.pk,
            f"{prefix}-name": "Звонок",
            f"{prefix}-color": "красный",
            f"{prefix}-probability": "150",
            f"{prefix}-outcome": "open",
        },
        HTTP_HOST=crm.a.host,
    )
    assert bad.status_code == 400
    assert "#2457d6" in bad.content.decode()  # the colour's error names an example
    ok = owner.post(
        url,
        {
            "action": "stage",
            "stage": first.pk,
            f"{prefix}-name": "Звонок",
            f"{prefix}-color": "#aa0000",
            f"{prefix}-probability": "20",
            f"{prefix}-outcome": "open",
        },
        HTTP_HOST=crm.a.host,
    )
    assert ok.status_code == 302
    css = owner.get(f"/deals/pipeline/{crm.pipeline.pk}/stage-colours.css", HTTP_HOST=crm.a.host)
    with crm.a:
        assert Stage.objects.get(pk=first.pk).name == "Звонок"
    assert f".stage-{first.pk} {{ --stage: #aa0000; }}" in css.content.decode()
    with crm.a:
        ids = [s.pk for s in _stages(crm.pipeline)]
    reordered = owner.post(
        f"{url}order/",
        data=json.dumps({"order": list(reversed(ids))}),
        content_type="application/json",
        HTTP_HOST=crm.a.host,
    )
    assert reordered.status_code == 200
    assert (
        owner.post(
            f"{url}order/", data="nonsense", content_type="application/json", HTTP_HOST=crm.a.host
        ).status_code
        == 400
    )
    owner.post(url, {"action": "left", "stage": ids[0]}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert [s.pk for s in _stages(crm.pipeline)][-2:] == [ids[0], ids[1]]
    added = owner.post("/settings/pipelines/", {"name": "Опт"}, HTTP_HOST=crm.a.host)
    assert added.status_code == 302
    with crm.a:
        wholesale = Pipeline.objects.get(name="Опт")
    owner.post(f"/settings/pipelines/{wholesale.pk}/", {"action": "archive"}, HTTP_HOST=crm.a.host)
    board_page = owner.get("/deals/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/deals/pipeline/{wholesale.pk}/" not in board_page
    # Its board stays reachable by its address.
    assert owner.get(f"/deals/pipeline/{wholesale.pk}/", HTTP_HOST=crm.a.host).status_code == 200
    # Each change is in the audit log, in words.
    owner.cookies["django_language"] = "en"
    audit = owner.get("/audit/", HTTP_HOST=crm.a.host).content.decode()
    assert "archived" in audit
    assert "stages reordered" in audit


def test_delete_page_asks_where_deals_go_and_the_colours_stay_cacheable(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    with crm.a:
        first, second = _stages(crm.pipeline)[:2]
        create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    url = f"/settings/stages/{first.pk}/delete/"
    asked = owner.get(url, HTTP_HOST=crm.a.host).content.decode()
    assert 'name="move_to"' in asked
    refused = owner.post(url, {"move_to": ""}, HTTP_HOST=crm.a.host)
    assert refused.status_code == 400
    with crm.a:
        assert Deal.objects.filter(stage=first).count() == 1
    done = owner.post(url, {"move_to": second.pk}, HTTP_HOST=crm.a.host)
    assert done.status_code == 302
    with crm.a:
        assert Deal.objects.filter(stage=second).count() == 1
    assert owner.get(url, HTTP_HOST=crm.a.host).status_code == 404  # gone from the editor
    board_page = owner.get("/deals/", HTTP_HOST=crm.a.host).content.decode()
    assert f"stage-{first.pk}" not in board_page
    css_url = re.search(r'href="([^"]*stage-colours\.css\?v=\w+)"', board_page)
    assert css_url is not None
    css = owner.get(css_url.group(1).replace("&amp;", "&"), HTTP_HOST=crm.a.host)
    assert "immutable" in css["Cache-Control"]
    assert f".stage-{first.pk} " not in css.content.decode()
