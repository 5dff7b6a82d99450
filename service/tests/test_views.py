"""The tickets pages as people reach them (menu, client card, settings), the help centre's public
pages (request, magic link, survey) with bad input, the API — and that nothing of company A's
tickets is reachable from company B: its members, its tokens, its links."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail as django_mail
from django.test import Client as HttpClient

from crm_core.models import Client, SavedView
from service.models import ServiceSettings, Survey, Ticket
from service.services import links
from service.services import tickets as service
from tenants.models import Membership
from tests.test_api import token_for
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def _open(crm: Any, **values: Any) -> Ticket:
    with crm.a:
        return service.open_ticket(
            company=crm.a.company,
            subject=values.pop("subject", "Не пришёл заказ"),
            text=values.pop("text", "Где мой заказ?"),
            source=values.pop("source", "manual"),
            requester=service.Requester(values.pop("email", "lena@romashka.ru"), "Лена"),
            **values,
        )


def _centre(crm: Any, company: Any = None) -> None:
    with company or crm.a:
        row = ServiceSettings.current()
        row.help_requests = True
        row.save()


def test_the_menu_leads_to_the_tickets_and_a_ticket_opens_from_the_client_card(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    home = browser.get("/", HTTP_HOST=crm.a.host, follow=True)
    assert b'id="nav-tickets"' in home.content
    with crm.a:
        client = Client.objects.create(name="ООО Ромашка", responsible=crm.manager.user)
    card = browser.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host)
    assert f"/tickets/new/?client={client.pk}".encode() in card.content
    form = browser.get(f"/tickets/new/?client={client.pk}", HTTP_HOST=crm.a.host)
    assert form.status_code == 200
    made = browser.post(
        f"/tickets/new/?client={client.pk}",
        {
            "subject": "Сломалась ручка",
            "text": "Окно не закрывается",
            "client": client.pk,
            "requester_email": "",
            "priority": "high",
        },
        HTTP_HOST=crm.a.host,
    )
    assert made.status_code == 302, made.content
    with crm.a:
        ticket = Ticket.objects.get()
        assert ticket.client == client
        assert ticket.source == "manual"
    page = browser.get(made["Location"], HTTP_HOST=crm.a.host)
    assert "Окно не закрывается" in page.content.decode()
    # An article or a saved answer goes into the reply in one step (knowledge's picker).
    assert 'id="reply-picker-reply-text"' in page.content.decode()
    assert 'id="reply-text"' in page.content.decode()
    listed = browser.get("/tickets/", HTTP_HOST=crm.a.host)
    assert "Сломалась ручка" in listed.content.decode()
    feed = browser.get(
        f"/clients/{client.pk}/card/feed/", HTTP_HOST=crm.a.host, HTTP_HX_REQUEST="true"
    )
    assert "Сломалась ручка" in feed.content.decode()


def test_notes_fields_and_filters_on_the_pages(crm: Any) -> None:
    ticket = _open(crm)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    url = f"/tickets/{ticket.pk}/"
    browser.post(url + "note/", {"text": "Позвонить завтра"}, HTTP_HOST=crm.a.host)
    browser.post(
        url + "fields/",
        {"status": "open", "priority": "urgent", "assignee": crm.manager.user_id},
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        ticket.refresh_from_db()
        assert ticket.priority == "urgent"
        assert ticket.assignee_id == crm.manager.user_id
        assert ticket.messages.filter(kind="note", text="Позвонить завтра").exists()
    urgent = browser.get("/tickets/?priority=urgent", HTTP_HOST=crm.a.host).content.decode()
    assert "Не пришёл заказ" in urgent
    low = browser.get("/tickets/?priority=low", HTTP_HOST=crm.a.host).content.decode()
    assert "Не пришёл заказ" not in low
    bad = browser.get("/tickets/?assignee=abc&page=x&sort=%00", HTTP_HOST=crm.a.host)
    assert bad.status_code in {200, 400}
    # A view of the list is saved like any list's.
    saved = browser.post(
        "/lists/tickets/views/",
        {"name": "Срочные", "query": "priority=urgent", "columns": "", "current": ""},
        HTTP_HOST=crm.a.host,
    )
    assert saved.status_code == 302
    with crm.a:
        view = SavedView.objects.get(entity="tickets")
        assert view.query == "priority=urgent"
    assert f"view={view.pk}" in saved["Location"]
    assert saved["Location"].startswith("/tickets/")


def test_read_only_members_read_and_cannot_write(crm: Any) -> None:
    ticket = _open(crm)
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    assert viewer.get(f"/tickets/{ticket.pk}/", HTTP_HOST=crm.a.host).status_code == 200
    refused = viewer.post(f"/tickets/{ticket.pk}/note/", {"text": "x"}, HTTP_HOST=crm.a.host)
    assert refused.status_code == 403
    with crm.a:
        assert not ticket.messages.filter(kind="note").exists()


def test_a_manager_sees_own_and_unassigned_tickets_not_a_colleagues(crm: Any) -> None:
    mine = _open(crm, subject="Моё", assignee_id=crm.manager.user_id)
    theirs = _open(crm, subject="Чужое", assignee_id=crm.colleague.user_id)
    nobodys = _open(crm, subject="Ничьё")
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    listed = browser.get("/tickets/", HTTP_HOST=crm.a.host).content.decode()
    assert "Моё" in listed
    assert "Ничьё" in listed
    assert "Чужое" not in listed
    assert browser.get(f"/tickets/{theirs.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    assert browser.get(f"/tickets/{mine.pk}/", HTTP_HOST=crm.a.host).status_code == 200
    assert browser.get(f"/tickets/{nobodys.pk}/", HTTP_HOST=crm.a.host).status_code == 200
    assert (
        browser.post(f"/tickets/{theirs.pk}/merge/", {"into": mine.number}, HTTP_HOST=crm.a.host)
    ).status_code == 404


def test_a_member_of_b_reaches_none_of_as_tickets(crm: Any) -> None:
    ticket = _open(crm)
    b_owner = crm.b.owner
    browser = login_on_host(b_owner, crm.b.company, crm.b.host)
    for path in ("", "reply/", "note/", "fields/", "merge/", "split/"):
        response = (browser.post if path else browser.get)(
            f"/tickets/{ticket.pk}/{path}", {"text": "x", "message": "1"}, HTTP_HOST=crm.b.host
        )
        assert response.status_code in {404, 405}, (path, response.status_code)
    assert "Не пришёл заказ" not in browser.get("/tickets/", HTTP_HOST=crm.b.host).content.decode()
    # Even on A's host, B's owner is nobody there.
    on_a = browser.get(f"/tickets/{ticket.pk}/", HTTP_HOST=crm.a.host)
    assert on_a.status_code in {302, 403, 404}
    with crm.a:
        assert ticket.messages.count() == 1


def test_api_tickets_scoped_to_the_tokens_company_and_member(crm: Any) -> None:
    api = token_for(crm, crm.manager)
    made = api.call("post", "/tickets/", {"subject": "Из API", "text": "Текст", "priority": "high"})
    assert made.status_code == 201, made.body
    assert made.body["source"] == "api"
    assert made.body["number"] >= 1
    bad = api.call("post", "/tickets/", {"subject": "", "text": 5, "priority": "soon"})
    assert bad.status_code == 400
    assert set(bad.body["error"]["fields"]) >= {"subject", "text", "priority"}
    listed = api.call("get", "/tickets/")
    assert [t["subject"] for t in listed.body["results"]] == ["Из API"]
    changed = api.call("patch", f"/tickets/{made.body['id']}/", {"status": "solved"})
    assert changed.status_code == 200
    assert changed.body["status"] == "solved"
    reader = token_for(crm, crm.manager, access="read")
    refused = reader.call("post", "/tickets/", {"subject": "x", "text": "y"})
    assert refused.status_code == 403
    # Company B's token sees nothing of A's, and A's id is simply not found there.
    from crm_core.api.services import issue_token
    from tests.test_api import Api

    with crm.b:
        b_owner = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
        issued = issue_token(membership=b_owner, name="b", access="write", resources=[])
    b_api = Api(crm.b.host, issued.secret)
    assert b_api.call("get", "/tickets/").body["results"] == []
    assert b_api.call("get", f"/tickets/{made.body['id']}/").status_code == 404
    assert (
        b_api.call("patch", f"/tickets/{made.body['id']}/", {"status": "open"}).status_code == 404
    )
    # A's token on B's host is no token at all.
    crossed = Api(crm.b.host, api.secret).call("get", "/tickets/")
    assert crossed.status_code == 401
    schema = HttpClient().get(
        "/api/v1/schema/", HTTP_HOST=crm.a.host, HTTP_AUTHORIZATION=f"Bearer {api.secret}"
    )
    assert b"/api/v1/tickets/" in schema.content


def test_help_centre_request_makes_a_ticket_and_mails_the_magic_link(
    crm: Any, mailbox_on: Any
) -> None:
    anonymous = HttpClient()
    assert anonymous.get("/help/request/", HTTP_HOST=crm.a.host).status_code == 404  # closed
    _centre(crm)
    page = anonymous.get("/help/request/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert crm.a.company.name in page.content.decode()
    sent = anonymous.post(
        "/help/request/",
        {"name": "Лена", "email": "Lena@Romashka.ru", "subject": "Счёт", "text": "Нужен счёт"},
        HTTP_HOST=crm.a.host,
    )
    assert sent.status_code == 200, sent.content.decode()[:2000]
    with crm.a:
        ticket = Ticket.objects.get()
        assert ticket.source == "help_centre"
        assert ticket.requester_email == "lena@romashka.ru"
        token = links.magic_token("lena@romashka.ru")
    my = anonymous.get(f"/help/my/{token}/", HTTP_HOST=crm.a.host)
    assert my.status_code == 200
    assert "Счёт" in my.content.decode()
    page = anonymous.get(f"/help/my/{token}/{ticket.pk}/", HTTP_HOST=crm.a.host)
    assert "Нужен счёт" in page.content.decode()
    answered = anonymous.post(
        f"/help/my/{token}/{ticket.pk}/", {"text": "Спасибо, жду"}, HTTP_HOST=crm.a.host
    )
    assert answered.status_code == 302
    with crm.a:
        assert ticket.messages.filter(kind="customer", text="Спасибо, жду").exists()
    # Internal notes never show on the customer's page.
    with crm.a:
        service.add_note(actor=crm.manager, ticket=ticket, text="Секретная заметка")
    page = anonymous.get(f"/help/my/{token}/{ticket.pk}/", HTTP_HOST=crm.a.host)
    assert "Секретная заметка" not in page.content.decode()


def test_magic_links_open_only_their_owners_tickets_in_their_own_company(crm: Any) -> None:
    _centre(crm)
    _centre(crm, crm.b)
    lena = _open(crm, email="lena@romashka.ru")
    oleg = _open(crm, subject="Олег", email="oleg@example.com")
    anonymous = HttpClient()
    with crm.a:
        lena_token = links.magic_token("lena@romashka.ru")
    # Lena's link does not open Oleg's ticket, whatever id is put in.
    assert (
        anonymous.get(f"/help/my/{lena_token}/{oleg.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    )
    assert (
        anonymous.post(f"/help/my/{lena_token}/{oleg.pk}/", {"text": "x"}, HTTP_HOST=crm.a.host)
    ).status_code == 404
    # A's link is nothing on B's host (even for the same address with tickets there).
    with crm.b:
        service.open_ticket(
            company=crm.b.company,
            subject="Тикет B",
            text="x",
            source="manual",
            requester=service.Requester("lena@romashka.ru"),
        )
    assert anonymous.get(f"/help/my/{lena_token}/", HTTP_HOST=crm.b.host).status_code == 404
    assert (
        anonymous.get(f"/help/my/{lena_token}/{lena.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    )
    # Forged or altered links are 404 too.
    assert anonymous.get(f"/help/my/{lena_token}x/", HTTP_HOST=crm.a.host).status_code == 404
    assert anonymous.get("/help/my/lena@romashka.ru/", HTTP_HOST=crm.a.host).status_code == 404


def test_survey_links_are_signed_and_company_scoped(crm: Any) -> None:
    ticket = _open(crm)
    with crm.a:
        token = links.survey_token(ticket.pk)
    anonymous = HttpClient()
    assert anonymous.get(f"/help/survey/{token}/", HTTP_HOST=crm.b.host).status_code == 404
    assert (
        anonymous.post(f"/help/survey/{token}/", {"rating": "1"}, HTTP_HOST=crm.b.host).status_code
        == 404
    )
    assert anonymous.get(f"/help/survey/{token[:-2]}/", HTTP_HOST=crm.a.host).status_code == 404
    page = anonymous.get(f"/help/survey/{token}/?rating=5", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    bad = anonymous.post(f"/help/survey/{token}/", {"rating": "9"}, HTTP_HOST=crm.a.host)
    assert bad.status_code == 400
    done = anonymous.post(
        f"/help/survey/{token}/", {"rating": "4", "comment": "Быстро"}, HTTP_HOST=crm.a.host
    )
    assert done.status_code == 200
    assert b"survey-thanks" in done.content
    with crm.a:
        assert Survey.objects.get(ticket=ticket).rating == 4
    with crm.b:
        assert not Survey.objects.exists()


BAD_REQUESTS = [
    {},
    {"name": "", "email": "", "subject": "", "text": ""},
    {"name": "Лена", "email": "not-an-address", "subject": "S", "text": "T"},
    {"name": "Лена", "email": "a@b.ru", "subject": "S" * 501, "text": "T"},
    {"name": "Лена", "email": "a@b.ru", "subject": "S", "text": "T" * 20_001},
    {"name": "Ле\x00на", "email": "a@b.ru", "subject": "S", "text": "T"},
    {"name": "Лена", "email": "a@b.ru", "subject": "S\x00", "text": "T"},
    {"name": "Лена", "email": "a@b.ru\x00", "subject": "S", "text": "T"},
    {"name": "Лена", "email": "a@b.ru", "subject": "   ", "text": "T"},
    {"name": "Лена", "email": "a@b.ru", "subject": "S", "text": "   "},
    {"name": "N" * 301, "email": "a@b.ru", "subject": "S", "text": "T"},
    {"name": "Лена", "email": ["a@b.ru", "bad"], "subject": "S", "text": "T"},
    {"name": "Лена", "email": "<script>@x", "subject": "S", "text": "T"},
]


@pytest.mark.parametrize("data", BAD_REQUESTS)
def test_bad_requests_get_a_clear_error_and_make_nothing(crm: Any, data: dict[str, Any]) -> None:
    _centre(crm)
    response = HttpClient().post("/help/request/", data, HTTP_HOST=crm.a.host)
    assert response.status_code == 400, response.status_code
    # The form says what is wrong; a NUL is refused before any view, in words too.
    assert b'class="error"' in response.content or "символ".encode() in response.content
    with crm.a:
        assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/help/my/%00/",
        "/help/my/" + "a" * 5000 + "/",
        "/help/my/x/99999999999999999999999/",
        "/help/survey/%00/",
        "/help/survey/" + "b" * 5000 + "/",
        "/help/survey/eyJ4Ijox/",
    ],
)
def test_bad_links_are_404_never_an_error(crm: Any, path: str) -> None:
    _centre(crm)
    anonymous = HttpClient()
    assert anonymous.get(path, HTTP_HOST=crm.a.host).status_code in {400, 404}
    answer = anonymous.post(path, {"text": "x", "rating": "5"}, HTTP_HOST=crm.a.host)
    assert answer.status_code in {400, 404, 405}


def test_honeypot_and_hourly_limit_like_the_web_forms(crm: Any) -> None:
    _centre(crm)
    anonymous = HttpClient()
    good = {"name": "Лена", "email": "a@b.ru", "subject": "S", "text": "T"}
    trapped = anonymous.post("/help/request/", {**good, "website": "spam"}, HTTP_HOST=crm.a.host)
    assert trapped.status_code == 200
    with crm.a:
        assert not Ticket.objects.exists()
    statuses = [
        anonymous.post("/help/request/", good, HTTP_HOST=crm.a.host).status_code for _i in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    with crm.a:
        assert Ticket.objects.count() == 10
    django_mail.outbox.clear()


def test_the_request_pages_wear_the_help_centres_look_and_its_link_follows_the_switch(
    crm: Any,
) -> None:
    """One help centre: the knowledge base's name, colour and logo on the request pages too,
    and its "Submit a request" shown only while requests are taken (switched in the settings)."""
    from knowledge.models import HelpCentre

    with crm.a:
        HelpCentre.objects.create(title="Поддержка Окон Кирилла", accent_colour="#aa3300")
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    visitor = HttpClient()
    home = visitor.get("/help/", HTTP_HOST=crm.a.host).content.decode()
    assert "Поддержка Окон Кирилла" in home
    assert 'id="help-request"' not in home  # no requests taken yet
    assert visitor.get("/help/request/", HTTP_HOST=crm.a.host).status_code == 404
    switched = owner.post(
        "/settings/service/",
        {"do": "settings", "help_requests": "on", "call_tickets": "off"},
        HTTP_HOST=crm.a.host,
    )
    assert switched.status_code == 302
    home = visitor.get("/help/", HTTP_HOST=crm.a.host).content.decode()
    assert 'href="/help/request/" id="help-request"' in home  # the cached page was forgotten
    page = visitor.get("/help/request/", HTTP_HOST=crm.a.host).content.decode()
    assert "Поддержка Окон Кирилла" in page
    assert "/help/theme.css" in page
    theme = visitor.get("/help/theme.css", HTTP_HOST=crm.a.host).content.decode()
    assert "#aa3300" in theme
    # Company B's help centre takes no requests and wears its own name.
    other = visitor.get("/help/", HTTP_HOST=crm.b.host).content.decode()
    assert "Поддержка Окон Кирилла" not in other
    assert 'id="help-request"' not in other


def test_settings_are_for_admins_and_reached_from_the_settings_page(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    settings_page = owner.get("/settings/", HTTP_HOST=crm.a.host)
    assert b'id="nav-service"' in settings_page.content
    page = owner.get("/settings/service/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert b'id="help-look-link"' in page.content  # the look is the help centre's
    bad = owner.post(
        "/settings/service/",
        {"do": "settings", "call_tickets": "every call, please"},
        HTTP_HOST=crm.a.host,
    )
    assert bad.status_code == 200
    assert "id_call_tickets_error" in bad.content.decode()
    with crm.a:
        assert ServiceSettings.current().call_tickets == "off"
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/service/", HTTP_HOST=crm.a.host).status_code == 404


def test_reports_show_times_breaches_backlog_and_satisfaction(crm: Any) -> None:
    ticket = _open(crm, assignee_id=crm.manager.user_id)
    with crm.a:
        service.change(company=crm.a.company, actor=crm.manager, ticket=ticket, status="solved")
        Survey.objects.create(ticket=ticket, rating=4)
        Ticket.objects.filter(pk=ticket.pk).update(resolution_breached=True)
        _open(crm, subject="Висит")
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    people = owner.get("/reports/tickets_people/", HTTP_HOST=crm.a.host).content.decode()
    assert "m1@example.com" in people or crm.manager.user.get_full_name() in people
    assert re.search(r"<td>4,00</td>", people)
    backlog = owner.get("/reports/tickets_backlog/", HTTP_HOST=crm.a.host).content.decode()
    assert "<td>1</td>" in backlog
    excel = owner.get("/reports/tickets_queues/export/", HTTP_HOST=crm.a.host)
    assert excel.status_code == 200


def test_a_lost_magic_link_is_sent_again_without_telling_whose_address_is_known(
    crm: Any, mailbox_on: Any, smtp_server: Any
) -> None:
    _centre(crm)
    with crm.a:
        box = mailbox_on(crm.owner)
        row = ServiceSettings.current()
        row.reply_mailbox = box
        row.save()
    _open(crm, email="lena@romashka.ru")
    anonymous = HttpClient()
    page = anonymous.get("/help/request/", HTTP_HOST=crm.a.host)
    assert b'id="help-my-link"' in page.content
    known = anonymous.post("/help/my/", {"email": "lena@romashka.ru"}, HTTP_HOST=crm.a.host)
    unknown = anonymous.post("/help/my/", {"email": "nobody@example.com"}, HTTP_HOST=crm.a.host)
    assert known.status_code == unknown.status_code == 200
    assert b'id="help-link-sent"' in known.content
    assert b'id="help-link-sent"' in unknown.content
    assert [r.recipients for r in smtp_server.received] == [["lena@romashka.ru"]]
    import email as email_lib

    letter = email_lib.message_from_bytes(smtp_server.received[0].data)
    assert "/help/my/" in letter.get_payload(decode=True).decode()  # type: ignore[union-attr]
    bad = anonymous.post("/help/my/", {"email": "not an address"}, HTTP_HOST=crm.a.host)
    assert bad.status_code == 400
    # Three letters an hour to one address at most.
    for _i in range(3):
        anonymous.post("/help/my/", {"email": "lena@romashka.ru"}, HTTP_HOST=crm.a.host)
    assert len(smtp_server.received) == 3
    # Closed on a company whose help centre is closed.
    assert anonymous.get("/help/my/", HTTP_HOST=crm.b.host).status_code == 404
