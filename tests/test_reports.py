"""Sales reports: the numbers, who sees which, the pages, the Excel export, and isolation."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from crm_core.models import Activity, Deal, Lead, Stage, StageChange, Task, Team
from crm_core.reports.queries import (
    Report,
    activity,
    funnel,
    lost_reasons,
    requests,
    results,
    stage_time,
)
from crm_core.reports.queries import scope_for as make_scope
from crm_core.services.deals import create_deal, log_call, move_deal
from crm_core.services.leads import convert_lead
from tests.test_isolation import login_on_host


def _stage(pipeline: Any, outcome: str, position: int | None = None) -> Stage:
    stages = pipeline.stages.filter(outcome=outcome).order_by("position")
    return stages[position] if position is not None else stages.first()


@pytest.fixture
def sales(crm: Any) -> Any:
    """Deals of the manager (in the head's team) and of the colleague (not in it)."""
    with crm.a:
        p = crm.pipeline
        first, measurement = _stage(p, "open", 0), _stage(p, "open", 1)
        won, lost = _stage(p, "won"), _stage(p, "lost")
        m1 = create_deal(membership=crm.manager, title="M won", pipeline=p, amount=Decimal(100))
        # Two hours in the first stage, so the time-in-stage report has something to average.
        Deal.objects.filter(pk=m1.pk).update(stage_entered_at=timezone.now() - timedelta(hours=2))
        move_deal(membership=crm.manager, deal=m1, stage=measurement)
        move_deal(membership=crm.manager, deal=m1, stage=won)
        m2 = create_deal(membership=crm.manager, title="M lost", pipeline=p, amount=Decimal(50))
        move_deal(membership=crm.manager, deal=m2, stage=lost, lost_reason="Too expensive")
        create_deal(membership=crm.manager, title="M open", pipeline=p)
        c1 = create_deal(membership=crm.colleague, title="C won", pipeline=p, amount=Decimal(7000))
        move_deal(membership=crm.colleague, deal=c1, stage=won)
        c2 = create_deal(membership=crm.colleague, title="C lost", pipeline=p)
        move_deal(membership=crm.colleague, deal=c2, stage=lost, lost_reason="Went silent")
        log_call(membership=crm.manager, deal=m1, result="Agreed on the measurement")
        log_call(membership=crm.colleague, deal=c1, result="Called", kind=Activity.Kind.MEETING)
        now = timezone.now()
        # On time, late, and overdue (written directly: the service refuses past deadlines).
        Task.objects.create(title="on time", assignee=crm.manager.user, deadline=now, done_at=now)
        Task.objects.create(
            title="late",
            assignee=crm.manager.user,
            deadline=now - timedelta(hours=3),
            done_at=now - timedelta(hours=1),
        )
        Task.objects.create(
            title="overdue", assignee=crm.manager.user, deadline=now - timedelta(hours=1)
        )
        lead = Lead.objects.create(name="From the site", source="site", phone="+79161234567")
        deal = convert_lead(membership=crm.manager, company=crm.a.company, lead=lead)
        move_deal(membership=crm.manager, deal=deal, stage=won)
        Lead.objects.create(name="Another", source="site")
        Lead.objects.create(name="Called in", source="phone")
    crm.stages = {"first": first, "measurement": measurement, "won": won, "lost": lost}
    return crm


def _scope(crm: Any, member: Any, team: Team | None = None) -> Any:
    # "Today" where the company is: after 21:00 UTC it is already tomorrow in Moscow, and a
    # period ending on the UTC date would leave out the deals just made.
    today = timezone.localdate(timezone=ZoneInfo(crm.a.company.time_zone))
    return make_scope(
        member,
        crm.a.company,
        date_from=today - timedelta(days=30),
        date_to=today,
        pipeline=crm.pipeline,
        team=team,
    )


def _column(report: Report, index: int) -> dict[str, Any]:
    return {str(row[0]): row[index] for row in report.rows}


def test_funnel_counts_deals_that_reached_each_stage(sales: Any) -> None:
    with sales.a:
        report = funnel(_scope(sales, sales.owner))
    reached = _column(report, 1)
    # Six deals entered; m1 went through measurement; three were won, two lost.
    assert reached[sales.stages["first"].name] == 6
    assert reached[sales.stages["measurement"].name] == 3  # m1, and the two won straight
    assert reached[sales.stages["won"].name] == 3
    assert reached[sales.stages["lost"].name] == 2
    assert next(bar.value for bar in report.bars) == 6


def test_results_by_manager_respect_visibility(sales: Any) -> None:
    with sales.a:
        everyone = results(_scope(sales, sales.owner))
        own = results(_scope(sales, sales.manager))
        team = results(_scope(sales, sales.head))
    revenue = {row[0]: row[5] for row in everyone.rows}
    assert revenue[sales.colleague.user.email] == Decimal(7000)
    assert revenue[sales.manager.user.email] == Decimal(100)  # the lead's deal had no amount
    assert {row[0] for row in own.rows} == {sales.manager.user.email}
    assert sum(row[2] for row in own.rows) == 2  # m1 and the request's deal
    assert sum(row[3] for row in own.rows) == 1
    # The head sees their team (the manager), never the colleague outside it.
    assert sales.colleague.user.email not in {row[0] for row in team.rows}
    assert {row[0] for row in team.rows} == {sales.manager.user.email}


def test_a_reports_remembered_rows_are_forgotten_when_a_deal_changes(sales: Any) -> None:
    """The grouped rows are kept for a minute (200,000 deals cost ~100 ms to group), but a
    changed deal is in the next view, and a second company never reads the first's rows."""
    with sales.a:
        before = results(_scope(sales, sales.owner))
        again = results(_scope(sales, sales.owner))
        assert again.rows == before.rows
        won = Deal.objects.filter(
            responsible=sales.colleague.user, stage__outcome=Stage.Outcome.WON
        ).first()
        assert won is not None
        won.amount += 1000
        won.save()
        after = results(_scope(sales, sales.owner))
    revenue = {row[0]: row[5] for row in after.rows}
    assert revenue[sales.colleague.user.email] == Decimal(8000)
    # Company B asks the same report, for the same period: its own (empty) rows.
    b = login_on_host(sales.b.owner, sales.b.company, sales.b.host)
    page = b.get("/reports/results/", HTTP_HOST=sales.b.host)
    assert page.status_code == 200
    assert sales.colleague.user.email.encode() not in page.content


def test_team_filter_narrows_but_never_widens(sales: Any) -> None:
    with sales.a:
        team = Team.objects.get(name="Sales")
        narrowed = results(_scope(sales, sales.owner, team=team))
        # The colleague choosing the team still sees only their own (none of it is theirs).
        outsider = results(_scope(sales, sales.colleague, team=team))
    assert {row[0] for row in narrowed.rows} == {sales.manager.user.email}
    assert outsider.rows == []


def test_activity_counts_calls_meetings_and_task_timeliness(sales: Any) -> None:
    with sales.a:
        report = activity(_scope(sales, sales.owner))
        own = activity(_scope(sales, sales.manager))
    rows = {row[0]: row[1:] for row in report.rows}
    assert rows[sales.manager.user.email] == [1, 0, 1, 1, 1]
    assert rows[sales.colleague.user.email] == [0, 1, 0, 0, 0]
    assert [row[0] for row in own.rows] == [sales.manager.user.email]


def test_requests_by_source_and_their_conversion(sales: Any) -> None:
    with sales.a:
        report = requests(_scope(sales, sales.owner))
    rows = {row[0]: row[1:5] for row in report.rows}
    assert rows["site"] == [2, 1, 1, "50.0 %"]
    assert rows["phone"] == [1, 0, 0, "0.0 %"]


def test_reasons_for_losing(sales: Any) -> None:
    with sales.a:
        report = lost_reasons(_scope(sales, sales.owner))
        own = lost_reasons(_scope(sales, sales.manager))
    assert _column(report, 1) == {"Too expensive": 1, "Went silent": 1}
    assert _column(own, 1) == {"Too expensive": 1}


def test_average_time_in_stage(sales: Any) -> None:
    with sales.a:
        report = stage_time(_scope(sales, sales.owner))
        moves = StageChange.objects.filter(from_stage=sales.stages["first"]).count()
    hours = _column(report, 3)
    assert _column(report, 1)[sales.stages["first"].name] == moves
    # m1 spent two hours in the first stage; the others moved on at once.
    assert hours[sales.stages["first"].name] == pytest.approx(2 / moves, abs=0.1)


@pytest.mark.parametrize("key", ["funnel", "results", "activity", "requests", "lost", "stage_time"])
def test_report_pages_show_a_chart_a_table_and_export_to_excel(sales: Any, key: str) -> None:
    browser = login_on_host(sales.owner.user, sales.a.company, sales.a.host)
    page = browser.get(f"/reports/{key}/", HTTP_HOST=sales.a.host)
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert b"<table" in page.content
    export = browser.get(f"/reports/{key}/export/", HTTP_HOST=sales.a.host)
    assert export.status_code == 200
    content = b"".join(export.streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert sheet.max_row >= 2


def test_manager_page_never_shows_a_colleagues_numbers(sales: Any) -> None:
    browser = login_on_host(sales.manager.user, sales.a.company, sales.a.host)
    page = browser.get("/reports/results/", HTTP_HOST=sales.a.host)
    assert sales.manager.user.email.encode() in page.content
    assert sales.colleague.user.email.encode() not in page.content
    assert b"7 000" not in page.content
    assert b"7000" not in page.content


def test_bad_period_gets_a_clear_error(sales: Any) -> None:
    browser = login_on_host(sales.owner.user, sales.a.company, sales.a.host)
    page = browser.get(
        "/reports/funnel/?date_from=2026-05-01&date_to=2026-01-01", HTTP_HOST=sales.a.host
    )
    assert page.status_code == 200
    # The form says what is wrong (in the company's language) and no report is drawn.
    assert b"errorlist" in page.content
    assert page.context["form"].errors["date_to"]
    assert b"<table" not in page.content
    export = browser.get("/reports/funnel/export/?date_from=nonsense", HTTP_HOST=sales.a.host)
    assert export.status_code == 400
    assert browser.get("/reports/nope/", HTTP_HOST=sales.a.host).status_code == 404


def test_reports_of_a_are_not_reachable_from_b(sales: Any) -> None:
    b = sales.b
    # B's owner on B's host sees B's (empty) numbers, never A's.
    browser = login_on_host(b.owner, b.company, b.host)
    page = browser.get("/reports/results/", HTTP_HOST=b.host)
    assert page.status_code == 200
    assert sales.colleague.user.email.encode() not in page.content
    # A's owner presenting themselves on B's host is not let in.
    a_owner = login_on_host(sales.owner.user, sales.a.company, sales.a.host)
    a_owner.force_login(sales.owner.user)
    response = a_owner.get("/reports/results/export/", HTTP_HOST=b.host)
    assert response.status_code in (302, 404)


def _reach(deal: Deal) -> tuple[int | None, bool, bool]:
    from crm_core.reports.models import DealReach

    row = DealReach.objects.get(deal_id=deal.pk)
    return row.furthest, row.won, row.lost


def test_each_deals_reach_is_kept_by_the_database(crm: Any) -> None:
    """DealReach follows every way a deal moves: the service, a bulk insert without history
    (an import), a raw stage update, a stage reordered by the admin, a deletion."""
    from crm_core.reports.models import DealReach

    with crm.a:
        p = crm.pipeline
        first, second, third = (_stage(p, "open", i) for i in range(3))
        won, lost = _stage(p, "won"), _stage(p, "lost")
        deal = create_deal(membership=crm.manager, title="Moves", pipeline=p)
        assert _reach(deal) == (first.position, False, False)
        deal = move_deal(membership=crm.manager, deal=deal, stage=third)
        deal = move_deal(membership=crm.manager, deal=deal, stage=first)
        assert _reach(deal) == (third.position, False, False)  # it got to the third
        deal = move_deal(membership=crm.manager, deal=deal, stage=lost, lost_reason="Price")
        assert _reach(deal) == (third.position, False, True)
        deal = move_deal(membership=crm.manager, deal=deal, stage=won)
        assert _reach(deal) == (third.position, True, True)
        imported = Deal.objects.bulk_create(
            [Deal(title=f"Imported {i}", pipeline=p, stage=second) for i in range(3)]
        )
        assert {_reach(d) for d in imported} == {(second.position, False, False)}
        Deal.objects.filter(pk=imported[0].pk).update(stage=won)
        assert _reach(imported[0]) == (None, True, False)  # no history: only where it is
        # The admin swaps the first and the third stage: "furthest" follows the new order.
        Stage.objects.filter(pk=first.pk).update(position=third.position)
        Stage.objects.filter(pk=third.pk).update(position=first.position)
        assert _reach(deal)[0] == third.position  # "first" now stands where the third stood
        assert _reach(imported[1]) == (second.position, False, False)
        Deal.objects.filter(pk__in=[d.pk for d in imported]).delete()
        assert not DealReach.objects.filter(deal_id__in=[d.pk for d in imported]).exists()
    with crm.b:
        # B's deals are kept in B's schema; A's rows are not there.
        assert not DealReach.objects.filter(deal_id=deal.pk).exists()
