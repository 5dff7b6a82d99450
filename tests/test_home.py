"""The company's home page: each role's figures, isolation, a constant number of queries, and
the empty states of the main lists."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_core.models import Deal, Lead, Stage, Task
from crm_core.queries.home import forget_home_figures, home_for
from crm_core.services.deals import create_deal, move_deal
from tests.test_isolation import login_on_host


def _stage(pipeline: Any, outcome: str) -> Stage:
    return pipeline.stages.filter(outcome=outcome).order_by("position").first()


def _soon(company: Any) -> datetime:
    """A deadline later today in the company's time zone."""
    now = timezone.now()
    zone = ZoneInfo(company.time_zone)
    midnight = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time.min, zone)
    return min(now + timedelta(minutes=30), midnight - timedelta(seconds=1))


@pytest.fixture
def desk(crm: Any) -> Any:
    """The manager (in the head's team), the colleague (not in it), and the head herself."""
    with crm.a:
        p = crm.pipeline
        won = _stage(p, "won")
        create_deal(membership=crm.manager, title="M1", pipeline=p, amount=Decimal(1000))
        create_deal(membership=crm.manager, title="M2", pipeline=p, amount=Decimal(500))
        m3 = create_deal(membership=crm.manager, title="M3", pipeline=p, amount=Decimal(300))
        move_deal(membership=crm.manager, deal=m3, stage=won)
        create_deal(membership=crm.colleague, title="C1", pipeline=p, amount=Decimal(7000))
        c2 = create_deal(membership=crm.colleague, title="C2", pipeline=p, amount=Decimal(7000))
        move_deal(membership=crm.colleague, deal=c2, stage=won)
        create_deal(membership=crm.head, title="H1", pipeline=p, amount=Decimal(10))
        now = timezone.now()
        Task.objects.create(
            title="Call late", assignee=crm.manager.user, deadline=now - timedelta(hours=3)
        )
        Task.objects.create(
            title="Call today", assignee=crm.manager.user, deadline=_soon(crm.a.company)
        )
        Task.objects.create(
            title="Call tomorrow", assignee=crm.manager.user, deadline=now + timedelta(days=2)
        )
        Task.objects.create(
            title="Colleague late", assignee=crm.colleague.user, deadline=now - timedelta(hours=1)
        )
        Lead.objects.create(name="Nobody's request", phone="+79160000001")
        Lead.objects.create(name="Colleague's request", responsible=crm.colleague.user)
        Lead.objects.create(name="Manager's request", responsible=crm.manager.user)
    with crm.b:
        create_deal(
            membership=_owner_of(crm.b),
            title="B's deal",
            pipeline=_default_pipeline(),
            amount=Decimal(999_999),
        )
        Lead.objects.create(name="B's request")
    return crm


def _plain(response: Any) -> str:
    """The page's text with the no-break and thin spaces of grouped amounts made plain."""
    return (
        response.content.decode()
        .replace("\N{NO-BREAK SPACE}", " ")
        .replace("\N{NARROW NO-BREAK SPACE}", " ")
    )


def _owner_of(world: Any) -> Any:
    from tenants.models import Membership

    return Membership.objects.get(company=world.company, user=world.owner)


def _default_pipeline() -> Any:
    from crm_core.models import Pipeline

    return Pipeline.objects.get(is_default=True)


def test_a_manager_sees_her_own_figures(desk: Any) -> None:
    with desk.a:
        home = home_for(desk.manager, desk.a.company)
    assert home.scope == "own"
    assert (home.open_count, home.open_amount) == (2, Decimal(1500))
    assert (home.month.won_count, home.month.revenue) == (1, Decimal(300))
    assert home.targets == []  # no sales targets set
    assert [t.title for t in home.overdue] == ["Call late"]
    assert [t.title for t in home.today] == ["Call today"]
    assert {lead.name for lead in home.requests} == {"Nobody's request", "Manager's request"}
    assert home.new_requests == 2
    assert home.people == []
    first = home.stages[0]
    assert (first.count, first.amount, first.share) == (2, Decimal(1500), 100)


def test_a_head_sees_her_teams_figures(desk: Any) -> None:
    with desk.a:
        home = home_for(desk.head, desk.a.company)
    assert home.scope == "team"
    assert (home.open_count, home.open_amount) == (3, Decimal(1510))
    assert home.month.revenue == Decimal(300)
    people = {p.name: p for p in home.people}
    assert set(people) == {"m1@example.com", "head@example.com"}
    assert people["m1@example.com"].overdue_tasks == 1
    assert people["m1@example.com"].won_count == 1


def test_the_owner_sees_the_companys_figures(desk: Any) -> None:
    with desk.a:
        home = home_for(desk.owner, desk.a.company)
    assert home.scope == "company"
    assert (home.open_count, home.open_amount) == (4, Decimal(8510))
    assert (home.month.won_count, home.month.revenue) == (2, Decimal(7300))
    assert home.new_requests == 3
    names = [p.name for p in home.people]
    assert names[0] == "m2@example.com"  # the best revenue first
    assert {"m1@example.com", "head@example.com"} <= set(names)


def test_the_home_page_shows_nothing_of_another_company(desk: Any) -> None:
    browser = login_on_host(desk.a.owner, desk.a.company, desk.a.host)
    page = browser.get("/", HTTP_HOST=desk.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'id="workspace-title"' in page
    assert "Nobody&#x27;s request" in page or "Nobody's request" in page
    assert "B&#x27;s request" not in page
    assert "B's request" not in page
    assert "999" not in page
    other = login_on_host(desk.b.owner, desk.b.company, desk.b.host)
    page_b = _plain(other.get("/", HTTP_HOST=desk.b.host))
    assert "Manager&#x27;s request" not in page_b
    assert "Manager's request" not in page_b
    assert "8 510" not in page_b


def test_the_page_per_role(desk: Any) -> None:
    manager = login_on_host(desk.manager.user, desk.a.company, desk.a.host)
    page = _plain(manager.get("/", HTTP_HOST=desk.a.host, HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Call late" in page
    assert "Call today" in page
    assert "Call tomorrow" not in page
    assert "1 500" in page  # her deals in progress
    assert "7 000" not in page  # the colleague's are not hers
    assert 'id="home-team"' not in page
    head = login_on_host(desk.head.user, desk.a.company, desk.a.host)
    page = head.get("/", HTTP_HOST=desk.a.host).content.decode()
    assert 'id="home-team"' in page
    assert "m1@example.com" in page
    assert "m2@example.com" not in page


def test_a_task_is_done_from_the_home_page(desk: Any) -> None:
    with desk.a:
        task = Task.objects.get(title="Call late")
    browser = login_on_host(desk.manager.user, desk.a.company, desk.a.host)
    done = browser.post(f"/tasks/{task.pk}/done/", {"next": "/"}, HTTP_HOST=desk.a.host)
    assert done.status_code == 302
    assert done["Location"] == "/"
    with desk.a:
        assert Task.objects.get(pk=task.pk).done_at is not None


def _queries(browser: Any, host: str, company: Any) -> int:
    with company:
        forget_home_figures()  # count the page as it is when the figures are not kept
    with CaptureQueriesContext(connection) as captured:
        assert browser.get("/", HTTP_HOST=host).status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["manager", "head", "owner"])
def test_the_number_of_queries_does_not_grow_with_the_data(desk: Any, who: str) -> None:
    member = getattr(desk, who)
    browser = login_on_host(member.user, desk.a.company, desk.a.host)
    _queries(browser, desk.a.host, desk.a)  # warm the caches (session, company, translations)
    before = _queries(browser, desk.a.host, desk.a)
    with desk.a:
        for n in range(15):
            deal = create_deal(
                membership=desk.manager,
                title=f"More {n}",
                pipeline=desk.pipeline,
                amount=Decimal(n),
            )
            Task.objects.create(
                title=f"Task {n}",
                assignee=desk.manager.user,
                deal=deal,
                deadline=_soon(desk.a.company),
            )
            Lead.objects.create(name=f"Request {n}")
        Deal.objects.filter(title="More 1").update(stage=_stage(desk.pipeline, "won"))
    assert _queries(browser, desk.a.host, desk.a) == before
    assert before <= 25


def test_the_deal_figures_are_kept_a_minute_and_recounted_when_a_deal_changes(desk: Any) -> None:
    with desk.a:
        first = home_for(desk.owner, desk.a.company)
        with CaptureQueriesContext(connection) as kept:
            again = home_for(desk.owner, desk.a.company)
        assert again.open_amount == first.open_amount == Decimal(8510)
        assert not any("GROUP BY" in q["sql"] and "crm_core_deal" in q["sql"] for q in kept)
        create_deal(membership=desk.manager, title="M4", pipeline=desk.pipeline, amount=Decimal(90))
        assert home_for(desk.owner, desk.a.company).open_amount == Decimal(8600)
        deal = Deal.objects.get(title="M4")
        move_deal(membership=desk.manager, deal=deal, stage=_stage(desk.pipeline, "won"))
        home = home_for(desk.owner, desk.a.company)
        assert home.open_amount == Decimal(8510)
        assert home.month.revenue == Decimal(7390)
        # Another member who sees the whole company shares the figures; a manager has her own.
        assert home_for(desk.manager, desk.a.company).open_amount == Decimal(1500)


def test_kept_figures_never_cross_companies(desk: Any) -> None:
    """Both owners see "the whole company" at the same moment: one kept entry each."""
    with desk.a:
        a = home_for(desk.owner, desk.a.company)
    with desk.b:
        b = home_for(_owner_of(desk.b), desk.b.company)
    with desk.a:
        a_again = home_for(desk.owner, desk.a.company)
    assert a.open_amount == a_again.open_amount == Decimal(8510)
    assert b.open_amount == Decimal(999_999)


EMPTY_PAGES = [
    ("/clients/", "clients", "/import/"),
    ("/contacts/", "contacts", "/contacts/new/"),
    ("/deals/list/", "deals", "/deals/"),
    ("/leads/", "requests", "/automation/"),
    ("/products/", "products", "/products/new/"),
    ("/tasks/", "tasks", "/deals/"),
    ("/tasks/calendar/", "calendar", "/tasks/new/"),
    ("/tasks/calendar/?view=month", "calendar", "/tasks/new/"),
    ("/notifications/", "notifications", "/tasks/"),
]


@pytest.mark.parametrize(("path", "key", "action"), EMPTY_PAGES)
def test_an_empty_list_says_what_it_is_for_and_offers_the_action(
    two_companies: Any, path: str, key: str, action: str
) -> None:
    from crm_core.models import Client

    a, b = two_companies
    with b:  # another company's data never fills A's lists
        Lead.objects.create(name="B's request")
    with a:
        Client.objects.all().delete()
    browser = login_on_host(a.owner, a.company, a.host)
    page = browser.get(path, HTTP_HOST=a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f'data-empty="{key}"' in page, page
    assert f'href="{action}"' in page
    assert "Здесь пусто." not in page


def test_a_filtered_list_says_nothing_matched_not_the_empty_state(crm: Any) -> None:
    browser = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = browser.get("/contacts/?q=zzz", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="nothing-found"' in page
    assert "data-empty=" not in page


def test_a_manager_is_not_offered_the_admins_import(crm: Any) -> None:
    from crm_core.models import Client

    with crm.a:
        Client.objects.all().delete()
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = manager.get("/clients/", HTTP_HOST=crm.a.host).content.decode()
    assert 'data-empty="clients"' in page
    assert 'href="/import/"' not in page
    assert '<a class="button" href="/" data-empty-action>' in page  # add a client


def test_today_on_the_home_page_is_the_persons_day_in_their_own_zone(desk: Any) -> None:
    """A manager in Vladivostok of a Moscow company: "due today" is her day, through the page
    (her profile's zone, activated for her requests), not Moscow's."""
    person, company = ZoneInfo("Asia/Vladivostok"), ZoneInfo("Europe/Moscow")
    now = timezone.now()

    def day(zone: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(now.astimezone(zone).date(), time.min, zone)
        return start, start + timedelta(days=1)

    (_ps, person_end), (_cs, company_end) = day(person), day(company)
    # A due time that is today for one zone and not the other (the days are 7 hours apart).
    if person_end > company_end:
        due, hers_today = max(company_end, now) + timedelta(minutes=30), True
    else:
        due, hers_today = max(person_end, now) + timedelta(minutes=30), False
    with desk.a:
        desk.a.company.time_zone = "Europe/Moscow"
        desk.a.company.save(update_fields=["time_zone"])
        Task.objects.create(title="Zone-edge call", assignee=desk.manager.user, deadline=due)
    user = desk.manager.user
    user.time_zone = "Asia/Vladivostok"
    user.save(update_fields=["time_zone"])
    manager = login_on_host(user, desk.a.company, desk.a.host)
    page = _plain(manager.get("/", HTTP_HOST=desk.a.host, HTTP_ACCEPT_LANGUAGE="ru"))
    assert ("Zone-edge call" in page) is hers_today
    with desk.a:
        in_company_day = {t.title for t in home_for(desk.manager, desk.a.company).today}
    assert ("Zone-edge call" in in_company_day) is not hers_today


def test_an_empty_section_of_my_day_says_what_would_be_there_and_how_to_fill_it(
    crm: Any,
) -> None:
    """My day with only a task for next week: «Просроченные» and «Сегодня» are empty, each
    with a line of what would be there and the one action that fills it — no bare «Здесь
    пусто.». Another company's overdue task never shows (nor fills a section)."""
    from crm_core.services.tasks import create_task

    with crm.a:
        create_task(
            membership=crm.manager,
            title="Замер у Орловых",
            deadline=timezone.now() + timedelta(days=7),
        )
    with crm.b:
        Task.objects.create(title="Чужая просрочка", deadline=timezone.now() - timedelta(days=1))
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/tasks/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Замер у Орловых" in page
    assert "Чужая просрочка" not in page
    assert "Здесь пусто." not in page
    assert 'data-empty="overdue"' in page
    assert "Просроченных нет" in page
    assert 'href="/tasks/calendar/"' in page
    assert 'data-empty="today"' in page
    assert "На сегодня ничего" in page
    assert 'href="#id_title">Поставить задачу на сегодня</a>' in page
    assert 'id="id_title"' in page  # the link leads to the new task's title
    assert 'data-empty="upcoming"' not in page  # next week's task is there
    english = browser.get("/tasks/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="en")
    assert "Nothing due today" in english.content.decode()
