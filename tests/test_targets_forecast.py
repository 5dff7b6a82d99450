"""Sales targets (set by admins on a month grid; progress on the home page and in the managers'
report) and the forecast (weighted pipeline by month of expected close) — with role checks and
a second company that must not leak."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from crm_core.models import Deal, SalesTarget, Stage, Team
from crm_core.queries.deals import board
from crm_core.queries.targets import progress_for
from crm_core.reports.queries import forecast, results, scope_for
from crm_core.services.deals import create_deal, move_deal
from crm_core.services.targets import TargetCell, save_targets
from tenants.models import Membership
from tests.clock import company_today
from tests.test_isolation import login_on_host


def _stage(crm: Any, outcome: str = "open", index: int = 0) -> Stage:
    return list(crm.pipeline.stages.filter(outcome=outcome).order_by("position"))[index]


def _month(crm: Any) -> date:
    return company_today(crm.a.company).replace(day=1)


def test_only_admins_set_targets_and_bad_cells_save_nothing(crm: Any) -> None:
    month = _month(crm)
    members = {crm.manager.user_id, crm.colleague.user_id}
    with crm.a:
        for member in (crm.manager, crm.head, crm.viewer):
            with pytest.raises(PermissionDenied):
                save_targets(
                    membership=member,
                    kind="amount",
                    cells=[TargetCell(month, Decimal(1), user_id=crm.manager.user_id)],
                    member_ids=members,
                )
        with pytest.raises(ValidationError):
            save_targets(
                membership=crm.owner,
                kind="won_deals",
                cells=[
                    TargetCell(month, Decimal(5), user_id=crm.manager.user_id),
                    TargetCell(month, Decimal("2.5"), user_id=crm.colleague.user_id),
                ],
                member_ids=members,
            )
        with pytest.raises(ValidationError):
            save_targets(
                membership=crm.owner,
                kind="amount",
                cells=[TargetCell(month, Decimal(5), user_id=crm.b.owner.pk)],
                member_ids=members,
            )
        assert not SalesTarget.objects.exists()
        changed = save_targets(
            membership=crm.owner,
            kind="amount",
            cells=[
                TargetCell(month, Decimal(100000), user_id=crm.manager.user_id),
                TargetCell(month, Decimal(500000)),
            ],
            member_ids=members,
        )
        assert changed == 2
        # Saving the same grid again changes nothing; an empty cell removes the target.
        assert (
            save_targets(
                membership=crm.owner,
                kind="amount",
                cells=[
                    TargetCell(month, Decimal(100000), user_id=crm.manager.user_id),
                    TargetCell(month, None),
                ],
                member_ids=members,
            )
            == 1
        )
        assert list(SalesTarget.objects.values_list("user_id", "value")) == [
            (crm.manager.user_id, Decimal(100000))
        ]
    with crm.b:
        assert not SalesTarget.objects.exists()


def test_progress_on_home_for_manager_head_and_admin(crm: Any) -> None:
    month = _month(crm)
    with crm.a:
        team = Team.objects.get()
        save_targets(
            membership=crm.owner,
            kind="amount",
            cells=[
                TargetCell(month, Decimal(1000), user_id=crm.manager.user_id),
                TargetCell(month, Decimal(4000), team_id=team.pk),
                TargetCell(month, Decimal(10000)),
            ],
            member_ids={crm.manager.user_id},
        )
        save_targets(
            membership=crm.owner,
            kind="won_deals",
            cells=[TargetCell(month, Decimal(4), user_id=crm.manager.user_id)],
            member_ids={crm.manager.user_id},
        )
        won = _stage(crm, "won")
        deal = create_deal(
            membership=crm.manager, title="A", pipeline=crm.pipeline, amount=Decimal(500)
        )
        move_deal(membership=crm.manager, deal=deal, stage=won)
        other = create_deal(
            membership=crm.colleague, title="B", pipeline=crm.pipeline, amount=Decimal(1500)
        )
        move_deal(membership=crm.colleague, deal=other, stage=won)
        today = company_today(crm.a.company)
        mine = {p.kind: p for p in progress_for(crm.manager, crm.a.company, today)}
        assert (mine["amount"].percent, mine["amount"].scope) == (50, "own")
        assert mine["won_deals"].percent == 25
        head = progress_for(crm.head, crm.a.company, today)
        assert [(p.scope, p.label, p.done) for p in head] == [("team", "Sales", Decimal(500))]
        company = progress_for(crm.owner, crm.a.company, today)
        assert [(p.scope, p.percent) for p in company] == [("company", 20)]
    page = login_on_host(crm.manager.user, crm.a.company, crm.a.host).get("/", HTTP_HOST=crm.a.host)
    assert "data-target-percent>50 %" in page.content.decode()
    with crm.b:
        assert progress_for(crm.owner, crm.b.company, timezone.localdate()) == []


def test_targets_page_grid_saves_refuses_and_is_for_admins(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    year = timezone.localdate().year
    page = owner.get("/settings/targets/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert b"/settings/targets/" in owner.get("/settings/", HTTP_HOST=crm.a.host).content
    name = f"u{crm.manager.user_id}-{year}-03"
    assert name in page.content.decode()
    bad = owner.post(
        f"/settings/targets/?year={year}&kind=amount",
        {name: "много", f"c-{year}-03": "1000"},
        HTTP_HOST=crm.a.host,
    )
    assert bad.status_code == 400
    assert "много" in bad.content.decode()  # what was typed is kept
    with crm.a:
        assert not SalesTarget.objects.exists()
    ok = owner.post(
        f"/settings/targets/?year={year}&kind=amount",
        {name: "150 000,50", f"c-{year}-03": "1000"},
        HTTP_HOST=crm.a.host,
    )
    assert ok.status_code == 302
    with crm.a:
        target = SalesTarget.objects.get(user_id=crm.manager.user_id)
        assert (target.month, target.value) == (date(year, 3, 1), Decimal("150000.50"))
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/targets/", HTTP_HOST=crm.a.host).status_code == 404
    assert manager.post("/settings/targets/", {name: "1"}, HTTP_HOST=crm.a.host).status_code == 404
    # Company B's grid has none of A's people or targets.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    grid = other.get(f"/settings/targets/?year={year}", HTTP_HOST=crm.b.host).content.decode()
    assert f"u{crm.manager.user_id}-" not in grid
    assert "150000.50" not in grid


def test_board_heads_weigh_won_at_100_and_lost_at_0(crm: Any) -> None:
    with crm.a:
        won, lost = _stage(crm, "won"), _stage(crm, "lost")
        Stage.objects.filter(pk=won.pk).update(probability=40)
        Stage.objects.filter(pk=lost.pk).update(probability=40)
        a = create_deal(
            membership=crm.manager, title="A", pipeline=crm.pipeline, amount=Decimal(100)
        )
        b = create_deal(
            membership=crm.manager, title="B", pipeline=crm.pipeline, amount=Decimal(200)
        )
        move_deal(membership=crm.manager, deal=a, stage=Stage.objects.get(pk=won.pk))
        move_deal(
            membership=crm.manager, deal=b, stage=Stage.objects.get(pk=lost.pk), lost_reason="x"
        )
        columns = {c.stage.pk: c for c in board(crm.owner, crm.pipeline)}
        assert columns[won.pk].weighted == Decimal("100.00")
        assert columns[lost.pk].weighted == Decimal("0.00")


def test_forecast_by_month_manager_and_team_with_totals(crm: Any) -> None:
    today = company_today(crm.a.company)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    with crm.a:
        first, measurement = _stage(crm, index=0), _stage(crm, index=1)  # 10 %, 30 %
        mine = create_deal(
            membership=crm.manager,
            title="M",
            pipeline=crm.pipeline,
            amount=Decimal(1000),
        )
        theirs = create_deal(
            membership=crm.colleague, title="C", pipeline=crm.pipeline, amount=Decimal(2000)
        )
        undated = create_deal(
            membership=crm.manager, title="U", pipeline=crm.pipeline, amount=Decimal(300)
        )
        won = create_deal(
            membership=crm.colleague, title="W", pipeline=crm.pipeline, amount=Decimal(700)
        )
        lost = create_deal(
            membership=crm.manager, title="L", pipeline=crm.pipeline, amount=Decimal(9000)
        )
        Deal.objects.filter(pk__in=[mine.pk, won.pk, lost.pk]).update(expected_close=next_month)
        Deal.objects.filter(pk=theirs.pk).update(expected_close=next_month + timedelta(days=3))
        move_deal(membership=crm.colleague, deal=theirs, stage=measurement)
        move_deal(membership=crm.colleague, deal=won, stage=_stage(crm, "won"))
        move_deal(membership=crm.manager, deal=lost, stage=_stage(crm, "lost"), lost_reason="x")
        assert undated.stage_id == first.pk
        scope = scope_for(
            crm.owner,
            crm.a.company,
            date_from=today.replace(day=1),
            date_to=next_month + timedelta(days=60),
        )
        with translation.override("en"):
            report = forecast(scope)
        rows = {(row[1], row[2]): row for row in report.rows if row[0] != "No expected close"}
        manager_name = crm.manager.user.get_full_name()
        colleague_name = crm.colleague.user.get_full_name()
        # manager: 1000 × 10 % (the lost 9000 counts 0 and is left out)
        assert rows[(manager_name, "Sales")][3:] == [
            1,
            Decimal(1000),
            Decimal(0),
            Decimal("100.00"),
        ]
        # colleague: 2000 × 30 % + 700 won × 100 %
        assert rows[(colleague_name, "")][3:] == [
            2,
            Decimal(2700),
            Decimal(700),
            Decimal("1300.00"),
        ]
        assert rows[("Team total", "Sales")][6] == Decimal("100.00")
        assert rows[("Month total", "")][6] == Decimal("1400.00")
        undated_rows = [row for row in report.rows if row[0] == "No expected close"]
        assert undated_rows[0][1:4] == [manager_name, "Sales", 1]
        total = report.rows[-1]
        assert (total[0], total[6]) == ("Total", Decimal("1430.00"))
        # A manager sees only her own deals in it.
        own = forecast(
            scope_for(
                crm.manager,
                crm.a.company,
                date_from=today.replace(day=1),
                date_to=next_month + timedelta(days=60),
            )
        )
        assert colleague_name not in {row[1] for row in own.rows}
    with crm.b:
        b_owner = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
        empty = forecast(
            scope_for(
                b_owner,
                crm.b.company,
                date_from=today.replace(day=1),
                date_to=next_month + timedelta(days=60),
            )
        )
        assert empty.rows == []


def test_managers_report_shows_target_against_actual(crm: Any) -> None:
    month = _month(crm)
    with crm.a:
        save_targets(
            membership=crm.owner,
            kind="amount",
            cells=[
                TargetCell(month, Decimal(2000), user_id=crm.manager.user_id),
                TargetCell(month, Decimal(1000), user_id=crm.colleague.user_id),
            ],
            member_ids={crm.manager.user_id, crm.colleague.user_id},
        )
        deal = create_deal(
            membership=crm.manager, title="A", pipeline=crm.pipeline, amount=Decimal(500)
        )
        move_deal(membership=crm.manager, deal=deal, stage=_stage(crm, "won"))
        scope = scope_for(
            crm.owner, crm.a.company, date_from=month, date_to=company_today(crm.a.company)
        )
        with translation.override("en"):
            report = results(scope)
        assert report.headers[-2:] == ["Target", "Target done"]
        by_name = {row[0]: row for row in report.rows}
        assert by_name[crm.manager.user.get_full_name()][-1] == "25 %"
        # The colleague has a target and nothing won yet: a row at 0 %.
        assert by_name[crm.colleague.user.get_full_name()][-1] == "0 %"
        own = results(scope_for(crm.manager, crm.a.company, date_from=month, date_to=month))
        assert {row[0] for row in own.rows} == {crm.manager.user.get_full_name()}
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = owner.get("/reports/forecast/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert b"/reports/forecast/" in owner.get("/reports/", HTTP_HOST=crm.a.host).content


def test_targets_travel_in_the_company_archive(make_company: Any, media_root: Any) -> None:
    from onboarding.services.exports import build_export, request_export
    from onboarding.services.imports import undo_batch
    from onboarding.tests.helpers import run_import

    a = make_company("Alpha")
    month = company_today(a.company).replace(day=1)
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        team = Team.objects.create(name="Опт")
        save_targets(
            membership=owner,
            kind="amount",
            cells=[
                TargetCell(month, Decimal(900000)),
                TargetCell(month, Decimal(300000), team_id=team.pk),
                TargetCell(month, Decimal(100000), user_id=a.owner.pk),
            ],
            member_ids={a.owner.pk},
        )
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    b = make_company("Beta")
    with b:
        SalesTarget.objects.create(month=month, kind="amount", value=Decimal(5))
        report = run_import(b.company, b.owner, data, "export.zip")
        # B's own company target wins; the team's comes along; A's owner is no member of B,
        # so hers is not turned into anything else.
        assert set(SalesTarget.objects.values_list("team__name", "user_id", "value")) == {
            (None, None, Decimal(5)),
            ("Опт", None, Decimal(300000)),
        }
        undo_batch(report.batch)
        assert list(SalesTarget.objects.values_list("value", flat=True)) == [Decimal(5)]
