"""Teams set up from the product (issue #19): an admin creates teams, names heads and moves
people on the settings screen — and the head then sees her team's records, a request form
hands requests to the team in turn, and the reports filter by the team."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client as HttpClient

from crm_core.automation.models import RequestForm
from crm_core.models import AuditEntry, Client, Deal, Employee, Lead, Pipeline, Team
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import create_deal
from tenants.models import Membership, User
from tests.test_isolation import login_on_host


class World:
    a: Any
    b: Any
    owner: Membership
    head: Membership
    anna: Membership
    boris: Membership
    outsider: Membership
    viewer: Membership
    pipeline: Pipeline


@pytest.fixture
def world(two_companies: Any) -> World:
    """Company A: the owner, a head of sales (Ольга), two managers for her team (Анна, Борис),
    a manager outside it (Пётр) and a read-only member; no team yet. Company B: its owner."""
    a, b = two_companies

    def member(email: str, name: str, role: str) -> Membership:
        user = User.objects.create_user(email=email, password="Member-Pass-991", full_name=name)
        return Membership.objects.create(user=user, company=a.company, role=role)

    w = World()
    w.a, w.b = a, b
    w.owner = Membership.objects.get(company=a.company, user=a.owner)
    w.head = member("olga@example.com", "Ольга Смирнова", "head")
    w.anna = member("anna@example.com", "Анна Ким", "manager")
    w.boris = member("boris@example.com", "Борис Орлов", "manager")
    w.outsider = member("petr@example.com", "Пётр Иванов", "manager")
    w.viewer = member("viewer@example.com", "Вера Смотрова", "read_only")
    with a:
        w.pipeline = Pipeline.objects.get(is_default=True)
    return w


def _owner(w: World) -> HttpClient:
    return login_on_host(w.a.owner, w.a.company, w.a.host)


def _create(browser: HttpClient, w: World, name: str, head: Membership | None) -> Any:
    return browser.post(
        "/settings/teams/",
        {"name": name, "head": str(head.user_id) if head else "", "form_token": _token()},
        HTTP_HOST=w.a.host,
    )


def _token() -> str:
    import uuid

    return str(uuid.uuid4())


def _move(browser: HttpClient, host: str, member: Membership, team: Team | None) -> Any:
    return browser.post(
        "/settings/teams/move/",
        {"user": str(member.user_id), "team": str(team.pk) if team else ""},
        HTTP_HOST=host,
    )


def _set_up_sales(w: World) -> Team:
    """What an admin does on the screen: a team "Продажи" headed by Ольга, Анна and Борис in."""
    browser = _owner(w)
    page = browser.get("/settings/", HTTP_HOST=w.a.host)
    assert b'href="/settings/teams/"' in page.content  # reachable from the settings page
    assert _create(browser, w, "Продажи", w.head).status_code == 302
    with w.a:
        team = Team.objects.get(name="Продажи")
    assert team.head_id == w.head.user_id
    for person in (w.anna, w.boris):
        assert _move(browser, w.a.host, person, team).status_code == 302
    return team


def test_the_screen_lists_teams_heads_and_who_is_where(world: World) -> None:
    team = _set_up_sales(world)
    page = _owner(world).get("/settings/teams/", HTTP_HOST=world.a.host).content.decode()
    card = page[page.index('data-team="Продажи"') :]
    assert "Ольга Смирнова" in card[: card.index("</article>")]
    assert "2 сотрудника" in card[: card.index("</article>")]
    # Everyone who may work is in the "who is where" table, with their team selected.
    for email in ("anna@example.com", "boris@example.com", "petr@example.com"):
        assert f'data-person="{email}"' in page
    assert "viewer@example.com" not in page  # read-only members are not placed in teams
    # The members page leads here too.
    members = _owner(world).get("/settings/team/", HTTP_HOST=world.a.host).content.decode()
    assert 'id="team-structure-link"' in members
    assert 'href="/settings/teams/"' in members
    anna_row = page[page.index('data-person="anna@example.com"') :]
    assert re.search(rf'<option value="{team.pk}" selected>Продажи', anna_row)


def test_the_head_sees_her_teams_records_and_not_the_others(world: World) -> None:
    """(a) visibility "team": after the set-up on the screen, not before."""
    with world.a:
        for member, title, client in (
            (world.anna, "Окна для Анны", "ООО Аннин Клиент"),
            (world.outsider, "Окна для Петра", "ООО Петин Клиент"),
        ):
            made = create_client(
                membership=member, company=world.a.company, data=ClientInput(name=client)
            )
            create_deal(membership=member, title=title, pipeline=world.pipeline, client=made)
    head = login_on_host(world.head.user, world.a.company, world.a.host)
    before = head.get("/deals/list/", HTTP_HOST=world.a.host).content.decode()
    assert "Окна для Анны" not in before
    _set_up_sales(world)
    deals = head.get("/deals/list/", HTTP_HOST=world.a.host).content.decode()
    assert "Окна для Анны" in deals
    assert "Окна для Петра" not in deals
    clients = head.get("/clients/", HTTP_HOST=world.a.host).content.decode()
    assert "ООО Аннин Клиент" in clients
    assert "ООО Петин Клиент" not in clients
    with world.a:
        peter_deal = Deal.objects.get(title="Окна для Петра")
    assert head.get(f"/deals/{peter_deal.pk}/", HTTP_HOST=world.a.host).status_code == 404


def test_a_request_form_hands_requests_to_the_team_in_turn(world: World) -> None:
    """(b) round robin set up from the automation screen, with the team made on ours."""
    team = _set_up_sales(world)
    owner = _owner(world)
    page = owner.get("/automation/forms/new/", HTTP_HOST=world.a.host).content.decode()
    assert f'<option value="{team.pk}">Продажи</option>' in page
    saved = owner.post(
        "/automation/forms/new/",
        {
            "name": "Замер",
            "is_active": "on",
            "target": "lead",
            "assign": "round_robin",
            "team": str(team.pk),
            "field_lines": "name | Имя *\nphone | Телефон *",
            "per_ip_per_hour": 100,
            "per_form_per_hour": 100,
            "thanks_text": "Спасибо!",
        },
        HTTP_HOST=world.a.host,
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    with world.a:
        form = RequestForm.objects.get(name="Замер")
    visitor = HttpClient()
    for i in range(4):
        sent = visitor.post(
            f"/public/forms/{form.public_id}/",
            {"f_name": f"Гость {i}", "f_phone": f"+7 916 000-11-2{i}"},
            HTTP_HOST=world.a.host,
            REMOTE_ADDR=f"203.0.113.{i + 1}",
        )
        assert sent.status_code == 200
    with world.a:
        got = list(
            Lead.objects.order_by("created_at", "id").values_list("responsible_id", flat=True)
        )
    first, second = sorted([world.anna.user_id, world.boris.user_id])
    assert got == [first, second, first, second]
    assert world.outsider.user_id not in got


def test_the_reports_team_filter_lists_the_team_and_filters_by_it(world: World) -> None:
    """(c) and the per-relationship report: the team's clients only."""
    with world.a:
        create_client(
            membership=world.anna, company=world.a.company, data=ClientInput(name="Анна 1")
        )
        for name in ("Пётр 1", "Пётр 2"):
            create_client(
                membership=world.outsider, company=world.a.company, data=ClientInput(name=name)
            )
    team = _set_up_sales(world)
    owner = _owner(world)
    everyone = owner.get("/reports/clients/", HTTP_HOST=world.a.host).content.decode()
    assert f'<option value="{team.pk}">Продажи</option>' in everyone
    # "Client of A" from the fixture, Анна's and Пётр's two.
    assert re.search(r"<td>Клиент</td><td>4</td>", everyone), everyone
    filtered = owner.get(
        f"/reports/clients/?team={team.pk}", HTTP_HOST=world.a.host
    ).content.decode()
    assert re.search(r"<td>Клиент</td><td>1</td>", filtered)


def test_rename_change_head_and_the_audit_log_says_so(world: World) -> None:
    team = _set_up_sales(world)
    owner = _owner(world)
    changed = owner.post(
        f"/settings/teams/{team.pk}/",
        {"name": "Розница", "head": str(world.anna.user_id)},
        HTTP_HOST=world.a.host,
    )
    assert changed.status_code == 302
    with world.a:
        team.refresh_from_db()
        assert (team.name, team.head_id) == ("Розница", world.anna.user_id)
        # Анна heads "Розница" and is a member of it; she may head one team and work in another.
        other = Team.objects.create(name="Опт")
    assert _move(owner, world.a.host, world.anna, other).status_code == 302
    with world.a:
        assert Employee.objects.get(user_id=world.anna.user_id).team_id == other.pk
        assert Team.objects.get(pk=team.pk).head_id == world.anna.user_id
        actions = set(
            AuditEntry.objects.filter(object_type__in=["team", "employee"]).values_list(
                "object_type", "action"
            )
        )
    assert actions == {("team", "create"), ("team", "update"), ("employee", "update")}
    log = owner.get("/audit/", HTTP_HOST=world.a.host).content.decode()
    assert "Продажи → Розница" in log
    assert "Ольга Смирнова → Анна Ким" in log
    assert "Розница → Опт" in log  # Анна's move, under her name
    assert "«Анна Ким»" in log


def test_deleting_a_team_keeps_people_and_records(world: World) -> None:
    team = _set_up_sales(world)
    owner = _owner(world)
    with world.a:
        deal = create_deal(membership=world.anna, title="Сделка Анны", pipeline=world.pipeline)
        form = RequestForm.objects.create(
            name="Сайт", assign=RequestForm.Assign.ROUND_ROBIN, team=team
        )
    page = owner.get(f"/settings/teams/{team.pk}/", HTTP_HOST=world.a.host).content.decode()
    assert "Его 2 сотрудника останутся в компании без отдела" in page
    assert "формы заявок: 1" in page
    deleted = owner.post(f"/settings/teams/{team.pk}/delete/", HTTP_HOST=world.a.host)
    assert deleted.status_code == 302
    with world.a:
        assert not Team.objects.exists()
        assert Employee.objects.filter(team__isnull=True).count() == 2
        assert Deal.objects.get(pk=deal.pk).responsible_id == world.anna.user_id
        form.refresh_from_db()
        assert form.team_id is None
        assert AuditEntry.objects.filter(object_type="team", action="delete").exists()
    assert Membership.objects.filter(pk=world.anna.pk, is_active=True).exists()


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "Обязательное поле."), ("я" * 201, "200"), ("продажи", "уже есть")],
)
def test_bad_team_names_get_a_clear_answer(world: World, name: str, error: str) -> None:
    _set_up_sales(world)
    owner = _owner(world)
    answer = _create(owner, world, name, None)
    assert answer.status_code == 400
    assert error in answer.content.decode()
    with world.a:
        assert Team.objects.count() == 1


def test_heads_and_members_must_be_the_companys_working_people(world: World) -> None:
    team = _set_up_sales(world)
    owner = _owner(world)
    stranger = Membership.objects.get(company=world.b.company, user=world.b.owner)
    for head in (world.viewer, stranger):
        answer = _create(owner, world, "Ещё", head)
        assert answer.status_code == 400
    # A read-only member or someone of another company cannot be put into a team.
    for person in (world.viewer, stranger):
        refused = _move(owner, world.a.host, person, team)
        assert refused.status_code == 302
    with world.a:
        assert not Employee.objects.filter(
            user_id__in=[world.viewer.user_id, stranger.user_id]
        ).exists()
    # A double click on "Create team" makes one team.
    token = _token()
    for _i in range(2):
        owner.post(
            "/settings/teams/",
            {"name": "Дубль", "head": "", "form_token": token},
            HTTP_HOST=world.a.host,
        )
    with world.a:
        assert Team.objects.filter(name="Дубль").count() == 1


def test_managers_and_heads_cannot_reach_the_screen(world: World) -> None:
    team = _set_up_sales(world)
    for member in (world.anna, world.head, world.viewer):
        browser = login_on_host(member.user, world.a.company, world.a.host)
        host = world.a.host
        assert browser.get("/settings/teams/", HTTP_HOST=host).status_code == 404
        assert browser.get(f"/settings/teams/{team.pk}/", HTTP_HOST=host).status_code == 404
        assert _create(browser, world, "Моя", None).status_code == 404
        assert _move(browser, host, member, None).status_code == 404
        assert browser.post(f"/settings/teams/{team.pk}/delete/", HTTP_HOST=host).status_code == 404
    with world.a:
        assert list(Team.objects.values_list("name", flat=True)) == ["Продажи"]
        assert Employee.objects.filter(team=team).count() == 2


def test_a_second_company_neither_sees_nor_changes_the_first_ones_teams(world: World) -> None:
    team = _set_up_sales(world)
    other = login_on_host(world.b.owner, world.b.company, world.b.host)
    page = other.get("/settings/teams/", HTTP_HOST=world.b.host).content.decode()
    assert "Продажи" not in page
    assert "Ольга" not in page
    assert "anna@example.com" not in page
    assert 'data-empty="teams"' in page
    host = world.b.host
    assert other.get(f"/settings/teams/{team.pk}/", HTTP_HOST=host).status_code == 404
    assert other.post(f"/settings/teams/{team.pk}/delete/", HTTP_HOST=host).status_code == 404
    # B cannot name A's people as heads or members of its own teams.
    refused = other.post(
        "/settings/teams/",
        {"name": "B", "head": str(world.head.user_id), "form_token": _token()},
        HTTP_HOST=host,
    )
    assert refused.status_code == 400
    _move(other, host, world.anna, None)
    with world.b:
        assert not Employee.objects.exists()
    # A's owner in B's host is not even let in.
    intruder = login_on_host(world.a.owner, world.a.company, world.a.host)
    intruder.force_login(world.a.owner)
    assert intruder.get("/settings/teams/", HTTP_HOST=host).status_code in (302, 404)
    with world.a:
        team.refresh_from_db()
        assert team.name == "Продажи"
        assert Employee.objects.filter(team=team).count() == 2


def test_a_client_is_made_a_supplier_and_found_under_its_tab(world: World) -> None:
    with world.a:
        supplier = create_client(
            membership=world.owner, company=world.a.company, data=ClientInput(name="ООО Стекло")
        )
    owner = _owner(world)
    card = owner.get(f"/clients/{supplier.pk}/", HTTP_HOST=world.a.host).content.decode()
    assert 'name="edit-relationship"' in card  # editable in place on the card
    saved = owner.post(
        f"/clients/{supplier.pk}/card/field/relationship/",
        {"edit-relationship": "supplier", "version": str(supplier.version)},
        HTTP_HOST=world.a.host,
    )
    assert saved.status_code == 302
    with world.a:
        supplier.refresh_from_db()
        assert supplier.relationship == Client.Relationship.SUPPLIER
        assert AuditEntry.objects.filter(
            object_type="client", object_id=supplier.pk, changes__has_key="relationship"
        ).exists()
    listed = owner.get("/clients/?relationship=supplier", HTTP_HOST=world.a.host).content.decode()
    assert "ООО Стекло" in listed
    assert "Client of A" not in listed
    assert 'aria-current="page">Поставщики' in listed
    customers = owner.get("/clients/?relationship=customer", HTTP_HOST=world.a.host)
    assert "ООО Стекло" not in customers.content.decode()
    # A value that is not a relationship filters nothing and breaks nothing.
    odd = owner.get("/clients/?relationship=boss", HTTP_HOST=world.a.host)
    assert odd.status_code == 200
    # The edit form has it too, with a clear answer to a bad value.
    edit = owner.post(
        f"/clients/{supplier.pk}/edit/",
        {"kind": "legal", "relationship": "boss", "name": "ООО Стекло", "version": "1"},
        HTTP_HOST=world.a.host,
    )
    assert edit.status_code == 200
    assert "Выберите корректный вариант" in edit.content.decode()
    # A form sent without the field (an older page) keeps what the client is.
    kept = owner.post(
        f"/clients/{supplier.pk}/edit/",
        {"kind": "legal", "name": "ООО Стекло", "version": str(supplier.version), "tags": ""},
        HTTP_HOST=world.a.host,
    )
    assert kept.status_code == 302
    with world.a:
        supplier.refresh_from_db()
        assert supplier.relationship == Client.Relationship.SUPPLIER
    report = owner.get("/reports/clients/", HTTP_HOST=world.a.host).content.decode()
    assert re.search(r"<td>Поставщик</td><td>1</td>", report)
    assert re.search(r"<td>Клиент</td><td>1</td>", report)


def test_the_api_reads_and_writes_the_relationship(world: World) -> None:
    from crm_core.api.services import issue_token
    from tests.test_api import Api

    with world.a:
        issued = issue_token(
            membership=world.owner, name="1C", access="write", resources=[], acting_as=world.owner
        )
    api = Api(world.a.host, issued.secret)
    made = api.call("post", "/clients/", {"name": "ООО Профиль", "relationship": "supplier"})
    assert made.status_code == 201, made.body
    assert made.body["relationship"] == "supplier"
    plain = api.call("post", "/clients/", {"name": "ООО Покупатель"})
    assert plain.body["relationship"] == "customer"
    changed = api.call(
        "patch", f"/clients/{made.body['id']}/", {"version": 1, "relationship": "partner"}
    )
    assert changed.status_code == 200, changed.body
    assert changed.body["relationship"] == "partner"
    bad = api.call("patch", f"/clients/{made.body['id']}/", {"version": 2, "relationship": "boss"})
    assert bad.status_code == 400
    assert "relationship" in bad.body["error"]["fields"]
