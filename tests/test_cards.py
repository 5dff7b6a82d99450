"""The record cards: fields saved in place (stale edits refused), the composer (note, call
result, task with a quick due date) without a reload, the feed, closing a deal stops its
timers and offers to close its tasks, the first line item asks about a typed amount, the
client and contact cards (their fields in place, read-only for whoever sees them only through
a deal, their composer), deal tags, and isolation between companies."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm_core.automation.models import Timer
from crm_core.automation.queries import sla_for_deal
from crm_core.models import Activity, Client, Contact, Deal, DealItem, Stage, Task
from crm_core.services.deals import create_deal, move_deal
from crm_core.services.items import add_item
from crm_core.services.tasks import create_task, quick_deadline
from tests.test_automation_timers import _request
from tests.test_isolation import login_on_host

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def _deal(crm: Any, **extra: Any) -> Deal:
    with crm.a:
        return create_deal(
            membership=crm.manager, title="Окна на дачу", pipeline=crm.pipeline, **extra
        )


def _browser(crm: Any) -> Any:
    return login_on_host(crm.manager.user, crm.a.company, crm.a.host)


def _post(browser: Any, crm: Any, url: str, data: dict[str, Any], htmx: bool = True) -> Any:
    return browser.post(url, data, HTTP_HOST=crm.a.host, **(HTMX if htmx else {}))


# --- Fields in place -----------------------------------------------------------------------


def test_a_field_is_saved_on_its_own_and_the_version_moves_on(crm: Any) -> None:
    deal = _deal(crm)
    browser = _browser(crm)
    saved = _post(
        browser,
        crm,
        f"/deals/{deal.pk}/card/field/source/",
        {"edit-source": "Авито", "version": deal.version},
    )
    assert saved.status_code == 200
    assert saved["X-Record-Version"] == str(deal.version + 1)
    assert 'value="Авито"' in saved.content.decode()
    with crm.a:
        fresh = Deal.objects.get(pk=deal.pk)
        assert (fresh.source, fresh.title, fresh.version) == ("Авито", "Окна на дачу", 2)
    # The next field, saved with the version the card now holds.
    retitled = _post(
        browser,
        crm,
        f"/deals/{deal.pk}/card/field/title/",
        {"edit-title": "Окна и двери на дачу", "version": 2},
    )
    assert retitled.status_code == 200
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).title == "Окна и двери на дачу"


def test_a_stale_field_edit_is_refused_with_a_clear_message_and_keeps_the_typing(
    crm: Any,
) -> None:
    deal = _deal(crm)
    browser = _browser(crm)
    # A colleague saved the deal after this card was opened.
    with crm.a:
        Deal.objects.filter(pk=deal.pk).update(version=deal.version + 1, source="Сайт")
    refused = _post(
        browser,
        crm,
        f"/deals/{deal.pk}/card/field/source/",
        {"edit-source": "Авито", "version": deal.version},
    )
    assert refused.status_code == 409
    text = refused.content.decode()
    assert "changed by someone else" in text or "изменил" in text
    assert 'value="Авито"' in text  # what was typed is still in the field
    assert "X-Record-Version" not in refused
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).source == "Сайт"


def test_bad_input_in_a_field_is_refused_and_an_unknown_field_is_404(crm: Any) -> None:
    deal = _deal(crm)
    browser = _browser(crm)
    bad = _post(
        browser,
        crm,
        f"/deals/{deal.pk}/card/field/amount/",
        {"edit-amount": "много", "version": deal.version},
    )
    assert bad.status_code == 400
    assert 'role="alert"' in bad.content.decode()
    unknown = _post(
        browser, crm, f"/deals/{deal.pk}/card/field/version/", {"edit-version": "99", "version": 1}
    )
    assert unknown.status_code == 404
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).version == deal.version


def test_without_javascript_a_field_save_redirects_back_to_the_card(crm: Any) -> None:
    deal = _deal(crm)
    answer = _post(
        _browser(crm),
        crm,
        f"/deals/{deal.pk}/card/field/amount/",
        {"edit-amount": "120000", "version": deal.version},
        htmx=False,
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"/deals/{deal.pk}/"
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).amount == Decimal(120000)


# --- The composer and the feed ---------------------------------------------------------------


def test_composer_posts_a_note_a_call_result_and_a_task_without_a_reload(crm: Any) -> None:
    deal = _deal(crm)
    browser = _browser(crm)
    note = _post(browser, crm, f"/deals/{deal.pk}/card/note/", {"note-text": "Ждёт замер"})
    assert note.status_code == 200
    assert 'id="card-feed"' in note.content.decode()
    assert "Ждёт замер" in note.content.decode()
    assert "<html" not in note.content.decode()  # a fragment, not the page

    call = _post(
        browser, crm, f"/deals/{deal.pk}/card/call/", {"result": "no_answer", "log-result": ""}
    )
    assert call.status_code == 200
    task = _post(
        browser,
        crm,
        f"/deals/{deal.pk}/card/task/",
        {"task-title": "Перезвонить", "task-kind": "call", "task-due": "tomorrow"},
    )
    assert task.status_code == 200
    assert "Перезвонить" in task.content.decode()
    with crm.a:
        kinds = list(Activity.objects.filter(deal=deal).values_list("kind", "summary"))
        assert ("note", "Ждёт замер") in kinds
        assert any(kind == "call" and summary for kind, summary in kinds)
        made = Task.objects.get(deal=deal)
        zone = ZoneInfo(crm.a.company.time_zone)
        tomorrow = timezone.localdate(timezone=zone) + timedelta(days=1)
        assert timezone.localtime(made.deadline, zone).date() == tomorrow
        assert made.assignee_id == crm.manager.user_id


def test_composer_refusals_say_why_and_without_javascript_redirect(crm: Any) -> None:
    deal = _deal(crm)
    browser = _browser(crm)
    empty = _post(browser, crm, f"/deals/{deal.pk}/card/note/", {"note-text": "  "})
    assert empty.status_code == 400
    assert 'id="composer-error"' in empty.content.decode()
    no_due = _post(
        browser,
        crm,
        f"/deals/{deal.pk}/card/task/",
        {"task-title": "Позвонить", "task-kind": "call"},
    )
    assert no_due.status_code == 400
    bad_result = _post(browser, crm, f"/deals/{deal.pk}/card/call/", {"result": "maybe"})
    assert bad_result.status_code == 400
    plain = _post(browser, crm, f"/deals/{deal.pk}/card/call/", {"result": "reached"}, htmx=False)
    assert plain.status_code == 302
    with crm.a:
        assert list(
            Activity.objects.filter(deal=deal, kind="call").values_list("summary", flat=True)
        )
        assert not Task.objects.filter(deal=deal).exists()


def test_a_typed_date_is_used_when_no_quick_choice_is_made(crm: Any) -> None:
    deal = _deal(crm)
    zone = ZoneInfo(crm.a.company.time_zone)  # the company's time, as the card shows it
    when = (timezone.localtime(timezone=zone) + timedelta(days=5)).replace(second=0, microsecond=0)
    answer = _post(
        _browser(crm),
        crm,
        f"/deals/{deal.pk}/card/task/",
        {
            "task-title": "Замер",
            "task-kind": "measurement",
            "task-due": "date",
            "task-deadline": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert answer.status_code == 200
    with crm.a:
        assert Task.objects.get(deal=deal).deadline == when


def test_quick_due_choices() -> None:
    monday_noon = timezone.make_aware(datetime(2026, 11, 30, 12, 0))
    assert timezone.localtime(quick_deadline("today", monday_noon)).hour == 18
    late = monday_noon.replace(hour=22)
    assert quick_deadline("today", late) == late + timedelta(hours=1)
    assert timezone.localtime(quick_deadline("tomorrow", monday_noon)).day == 1
    assert timezone.localtime(quick_deadline("in3days", monday_noon)).day == 3
    next_week = timezone.localtime(quick_deadline("nextweek", monday_noon))
    assert (next_week.weekday(), next_week.day, next_week.hour) == (0, 7, 10)


def test_the_feed_pins_open_tasks_on_top_with_their_due_state(crm: Any) -> None:
    deal = _deal(crm)
    with crm.a:
        later = create_task(
            membership=crm.manager,
            title="Отправить КП",
            deadline=timezone.now() + timedelta(days=3),
            deal=deal,
        )
        overdue = create_task(
            membership=crm.manager,
            title="Позвонить вчера",
            deadline=timezone.now() + timedelta(minutes=5),
            deal=deal,
        )
        Task.objects.filter(pk=overdue.pk).update(deadline=timezone.now() - timedelta(days=1))
        Activity.objects.create(kind="note", deal=deal, summary="Самая новая запись")
    page = _browser(crm).get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    pinned_at = page.index('class="tasks pinned"')
    assert pinned_at < page.index("Самая новая запись")
    assert page.index("Позвонить вчера") < page.index("Отправить КП")  # the soonest first
    assert 'data-task-due="overdue"' in page
    assert 'data-task-due="later"' in page
    assert later.title in page


# --- Closing a deal --------------------------------------------------------------------------


def _requested(crm: Any) -> tuple[Task, Deal]:
    """A web request: a deal with a call-back task whose SLA timer runs."""
    task = _request(crm)
    assert task.deal is not None
    return task, task.deal


def _won(crm: Any) -> Stage:
    return crm.pipeline.stages.get(outcome=Stage.Outcome.WON)


def test_winning_a_deal_stops_its_sla_even_when_its_tasks_stay_open(crm: Any) -> None:
    with crm.a:
        task, deal = _requested(crm)
        assert sla_for_deal(deal)  # the countdown runs
        won = move_deal(membership=crm.manager, deal=deal, stage=_won(crm))
        assert Task.objects.get(pk=task.pk).done_at is None  # not asked to close them
        assert not Timer.objects.filter(deal=deal, fired_at__isnull=True).exists()
        assert sla_for_deal(won) == []
    panel = login_on_host(crm.manager.user, crm.a.company, crm.a.host).get(
        f"/automation/deals/{deal.pk}/sla/", HTTP_HOST=crm.a.host
    )
    assert "sla-running" not in panel.content.decode()


def test_closing_from_the_card_closes_its_open_tasks_when_asked(crm: Any) -> None:
    with crm.a:
        task, deal = _requested(crm)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    card = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'name="close_tasks"' in card
    assert "checked" in card
    lost = crm.pipeline.stages.get(outcome=Stage.Outcome.LOST)
    answer = browser.post(
        f"/deals/{deal.pk}/move/",
        {"stage": lost.pk, "version": deal.version, "lost_reason": "Дорого", "close_tasks": "1"},
        HTTP_HOST=crm.a.host,
    )
    assert answer.status_code == 302
    with crm.a:
        assert Task.objects.get(pk=task.pk).done_at is not None
        assert not Timer.objects.filter(deal=deal, fired_at__isnull=True).exists()
        assert Deal.objects.get(pk=deal.pk).stage_id == lost.pk


def test_moving_between_open_stages_leaves_tasks_and_timers_alone(crm: Any) -> None:
    with crm.a:
        task, deal = _requested(crm)
        nxt = crm.pipeline.stages.filter(outcome="open", position__gt=deal.stage.position).first()
        move_deal(membership=crm.manager, deal=deal, stage=nxt, close_tasks=True)
        assert Task.objects.get(pk=task.pk).done_at is None
        assert Timer.objects.filter(task=task, fired_at__isnull=True).exists()


# --- The first line item and a typed amount -----------------------------------------------------


@pytest.mark.parametrize(("choice", "expected"), [("replace", "2000.00"), ("keep", "85000.00")])
def test_first_item_asks_before_replacing_a_typed_amount(
    crm: Any, choice: str, expected: str
) -> None:
    deal = _deal(crm, amount=Decimal(85000))
    browser = _browser(crm)
    card = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="amount-choice"' in card
    assert "85\u00a0000" in card or "85 000" in card  # the current amount is named
    answer = browser.post(
        f"/deals/{deal.pk}/items/",
        {"item-name": "Монтаж", "item-quantity": "2", "item-price": "1000", "item-amount": choice},
        HTTP_HOST=crm.a.host,
    )
    assert answer.status_code == 302
    with crm.a:
        assert str(Deal.objects.get(pk=deal.pk).amount) == expected
        assert DealItem.objects.filter(deal=deal).count() == 1


def test_no_question_when_the_amount_follows_the_items(crm: Any) -> None:
    deal = _deal(crm)
    browser = _browser(crm)
    assert (
        'id="amount-choice"'
        not in browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    )
    with crm.a:
        add_item(
            membership=crm.manager, deal=deal, name="Окно", quantity=Decimal(1), price=Decimal(100)
        )
    assert (
        'id="amount-choice"'
        not in browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    )


def test_keep_amount_in_the_service(crm: Any) -> None:
    deal = _deal(crm, amount=Decimal(500))
    with crm.a:
        add_item(
            membership=crm.manager,
            deal=deal,
            name="Окно",
            quantity=Decimal(1),
            price=Decimal(100),
            keep_amount=True,
        )
        assert Deal.objects.get(pk=deal.pk).amount == Decimal(500)
        add_item(
            membership=crm.manager, deal=deal, name="Откос", quantity=Decimal(1), price=Decimal(50)
        )
        assert Deal.objects.get(pk=deal.pk).amount == Decimal(150)


# --- Client and contact cards ---------------------------------------------------------------


def test_client_and_contact_cards_render_with_the_feed(crm: Any) -> None:
    with crm.a:
        client = Client.objects.create(name="Стройка-Сервис", responsible=crm.manager.user)
        person = Contact.objects.create(
            client=client,
            last_name="Сидорова",
            first_name="Анна",
            emails=["anna@example.com"],
            responsible=crm.manager.user,
        )
        deal = create_deal(
            membership=crm.manager, title="Остекление", pipeline=crm.pipeline, client=client
        )
        deal.contacts.add(person)
        Activity.objects.create(kind="call", deal=deal, client=client, summary="Договорились")
    browser = _browser(crm)
    page = browser.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-record="client"' in text
    assert "Договорились" in text
    contact = browser.get(f"/contacts/{person.pk}/card/", HTTP_HOST=crm.a.host)
    assert contact.status_code == 200
    text = contact.content.decode()
    assert 'data-record="contact"' in text
    assert "mailto:anna@example.com" in text
    assert "Договорились" in text
    assert "Остекление" in text


# --- Isolation --------------------------------------------------------------------------------


def test_another_company_cannot_read_or_post_to_the_card(crm: Any) -> None:
    deal = _deal(crm)
    b = crm.b
    outsider = login_on_host(b.owner, b.company, b.host)
    # Another browser of B's owner, for company A's host (its session is unknown there).
    stranger = login_on_host(b.owner, b.company, b.host)
    for url, data in [
        (f"/deals/{deal.pk}/", None),
        (f"/deals/{deal.pk}/card/feed/", None),
        (f"/deals/{deal.pk}/card/note/", {"note-text": "чужое"}),
        (f"/deals/{deal.pk}/card/call/", {"result": "reached"}),
        (
            f"/deals/{deal.pk}/card/task/",
            {"task-title": "x", "task-kind": "call", "task-due": "today"},
        ),
        (f"/deals/{deal.pk}/card/field/source/", {"edit-source": "x", "version": 1}),
    ]:
        if data is None:
            answer = outsider.get(url, HTTP_HOST=b.host, **HTMX)
        else:
            answer = outsider.post(url, data, HTTP_HOST=b.host, **HTMX)
        assert answer.status_code == 404, url
        # On company A's host, B's owner is nobody: nothing is shown or written.
        elsewhere = (
            stranger.get(url, HTTP_HOST=crm.a.host)
            if data is None
            else stranger.post(url, data, HTTP_HOST=crm.a.host)
        )
        assert elsewhere.status_code in (302, 403, 404), url
    with crm.a:
        assert not Activity.objects.filter(deal=deal).exclude(kind="stage").exists()
        assert not Task.objects.filter(deal=deal).exists()
        assert Deal.objects.get(pk=deal.pk).source == ""


def test_a_manager_cannot_use_the_card_of_a_deal_they_do_not_see(crm: Any) -> None:
    with crm.a:
        theirs = create_deal(membership=crm.colleague, title="Чужая", pipeline=crm.pipeline)
    browser = _browser(crm)
    assert browser.get(f"/deals/{theirs.pk}/card/feed/", HTTP_HOST=crm.a.host).status_code == 404
    assert (
        browser.post(
            f"/deals/{theirs.pk}/card/note/", {"note-text": "x"}, HTTP_HOST=crm.a.host
        ).status_code
        == 404
    )


# --- Deal tags ----------------------------------------------------------------------------------


def test_deal_tags_are_edited_in_place_and_shown_as_chips(crm: Any) -> None:
    deal = _deal(crm)
    browser = _browser(crm)
    saved = _post(
        browser,
        crm,
        f"/deals/{deal.pk}/card/field/tags/",
        {"edit-tags": " опт, застройщик,опт ,, ", "version": deal.version},
    )
    assert saved.status_code == 200
    assert '<span class="tag">опт</span>' in saved.content.decode()
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).tags == ["опт", "застройщик"]
    card = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'value="опт, застройщик"' in card
    assert '<span class="tag">застройщик</span>' in card
    # The older whole-deal form, which has no tags field, leaves them alone.
    browser.post(
        f"/deals/{deal.pk}/edit/",
        {"edit-title": "Окна", "edit-amount": "0", "edit-version": deal.version + 1},
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        fresh = Deal.objects.get(pk=deal.pk)
        assert (fresh.title, fresh.tags) == ("Окна", ["опт", "застройщик"])


def test_deal_tags_through_the_api(crm: Any) -> None:
    from tests.test_api import token_for

    deal = _deal(crm)
    api = token_for(crm, crm.manager)
    changed = api.call(
        "patch", f"/deals/{deal.pk}/", {"version": deal.version, "tags": ["опт", " опт ", "VIP"]}
    )
    assert changed.status_code == 200, changed.body
    assert changed.body["tags"] == ["опт", "VIP"]
    assert api.call("get", f"/deals/{deal.pk}/").body["tags"] == ["опт", "VIP"]
    bad = api.call("patch", f"/deals/{deal.pk}/", {"version": 2, "tags": "опт"})
    assert bad.status_code == 400
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).tags == ["опт", "VIP"]


# --- Client and contact cards: fields in place, composer ----------------------------------------


def _client_with_person(crm: Any, owner: Any = None) -> tuple[Client, Contact]:
    user = (owner or crm.manager).user
    with crm.a:
        client = Client.objects.create(name="Стройка-Сервис", responsible=user)
        person = Contact.objects.create(
            client=client, last_name="Сидорова", first_name="Анна", responsible=user
        )
    return client, person


def test_a_client_field_is_saved_on_its_own_and_a_stale_one_is_refused(crm: Any) -> None:
    client, _person = _client_with_person(crm)
    browser = _browser(crm)
    card = browser.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'data-inline-field="industry"' in card
    assert 'data-inline-field="name"' in card
    saved = _post(
        browser,
        crm,
        f"/clients/{client.pk}/card/field/industry/",
        {"edit-industry": "Строительство", "version": 1},
    )
    assert saved.status_code == 200
    assert saved["X-Record-Version"] == "2"
    tags = _post(
        browser,
        crm,
        f"/clients/{client.pk}/card/field/tags/",
        {"edit-tags": "опт, застройщик", "version": 2},
    )
    assert tags.status_code == 200
    assert '<span class="tag">застройщик</span>' in tags.content.decode()
    assert 'id="record-facts" hx-swap-oob="true"' in tags.content.decode()
    # A second editor who opened the card at version 1 is refused; what they typed stays.
    stale = _post(
        browser,
        crm,
        f"/clients/{client.pk}/card/field/source/",
        {"edit-source": "Выставка", "version": 1},
    )
    assert stale.status_code == 409
    text = stale.content.decode()
    assert "hx-swap-oob" not in text
    assert 'role="alert"' in text
    assert 'value="Выставка"' in text
    bad = _post(
        browser, crm, f"/clients/{client.pk}/card/field/bik/", {"edit-bik": "12", "version": 3}
    )
    assert bad.status_code == 400
    assert "9" in bad.content.decode()
    with crm.a:
        fresh = Client.objects.get(pk=client.pk)
        assert (fresh.industry, fresh.tags, fresh.source, fresh.bik, fresh.version) == (
            "Строительство",
            ["опт", "застройщик"],
            "",
            "",
            3,
        )
    unknown = _post(browser, crm, f"/clients/{client.pk}/card/field/inn_status/", {"version": 3})
    assert unknown.status_code == 404
    # Without JavaScript the save redirects back to the card.
    plain = _post(
        browser,
        crm,
        f"/clients/{client.pk}/card/field/name/",
        {"edit-name": "Стройка-Сервис Плюс", "version": 3},
        htmx=False,
    )
    assert plain.status_code == 302
    with crm.a:
        assert Client.objects.get(pk=client.pk).name == "Стройка-Сервис Плюс"


def test_a_contact_field_is_saved_on_its_own_with_links_and_a_stale_one_is_refused(
    crm: Any,
) -> None:
    _client, person = _client_with_person(crm)
    browser = _browser(crm)
    card = browser.get(f"/contacts/{person.pk}/card/", HTTP_HOST=crm.a.host).content.decode()
    assert 'data-inline-field="phones"' in card
    phones = _post(
        browser,
        crm,
        f"/contacts/{person.pk}/card/field/phones/",
        {"edit-phones": "8 916 123-45-67", "version": 1},
    )
    assert phones.status_code == 200
    assert 'href="tel:+79161234567"' in phones.content.decode()
    # The header's facts come along (out of band), with the new phone to tap.
    assert 'id="record-facts" hx-swap-oob="true"' in phones.content.decode()
    assert phones["X-Record-Version"] == "2"
    emails = _post(
        browser,
        crm,
        f"/contacts/{person.pk}/card/field/emails/",
        {"edit-emails": "Anna@Example.com", "version": 2},
    )
    assert emails.status_code == 200
    assert 'href="mailto:anna@example.com"' in emails.content.decode()
    stale = _post(
        browser,
        crm,
        f"/contacts/{person.pk}/card/field/position/",
        {"edit-position": "Директор", "version": 1},
    )
    assert stale.status_code == 409
    assert 'value="Директор"' in stale.content.decode()
    nameless = _post(
        browser,
        crm,
        f"/contacts/{person.pk}/card/field/last_name/",
        {"edit-last_name": "", "version": 3},
    )
    assert nameless.status_code == 200  # the first name is still there
    no_name = _post(
        browser,
        crm,
        f"/contacts/{person.pk}/card/field/first_name/",
        {"edit-first_name": "", "version": 4},
    )
    assert no_name.status_code == 400
    with crm.a:
        fresh = Contact.objects.get(pk=person.pk)
        assert (fresh.emails, fresh.position, fresh.first_name, fresh.version) == (
            ["anna@example.com"],
            "",
            "Анна",
            4,
        )
        assert [p.e164 for p in fresh.phones.all()] == ["+79161234567"]


def test_a_deal_only_viewer_reads_the_client_and_contact_and_cannot_change_them(
    crm: Any,
) -> None:
    client, person = _client_with_person(crm, owner=crm.colleague)
    with crm.a:
        deal = create_deal(
            membership=crm.manager, title="Через сделку", pipeline=crm.pipeline, client=client
        )
        deal.contacts.add(person)
    browser = _browser(crm)
    card = browser.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host)
    assert card.status_code == 200
    assert "data-inline-field" not in card.content.decode()
    contact_card = browser.get(f"/contacts/{person.pk}/card/", HTTP_HOST=crm.a.host)
    assert contact_card.status_code == 200
    assert "data-inline-field" not in contact_card.content.decode()
    assert 'id="contact-edit"' not in contact_card.content.decode()
    refused = [
        _post(
            browser,
            crm,
            f"/clients/{client.pk}/card/field/source/",
            {"edit-source": "x", "version": 1},
        ),
        _post(
            browser,
            crm,
            f"/contacts/{person.pk}/card/field/position/",
            {"edit-position": "x", "version": 1},
        ),
    ]
    assert [r.status_code for r in refused] == [404, 404]
    # The call with the client's person can still be logged in the feed.
    call = _post(browser, crm, f"/contacts/{person.pk}/card/call/", {"result": "reached"})
    assert call.status_code == 200
    with crm.a:
        assert Client.objects.get(pk=client.pk).source == ""
        assert Contact.objects.get(pk=person.pk).position == ""
        assert Activity.objects.filter(contact=person, client=client, kind="call").count() == 1


def test_a_read_only_member_sees_the_fields_as_text_and_cannot_save(crm: Any) -> None:
    client, _person = _client_with_person(crm)
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    card = viewer.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "data-inline-field" not in card
    answer = _post(
        viewer, crm, f"/clients/{client.pk}/card/field/source/", {"edit-source": "x", "version": 1}
    )
    assert answer.status_code in (400, 403, 404)
    with crm.a:
        assert Client.objects.get(pk=client.pk).source == ""


def test_the_client_and_contact_composers_post_without_a_reload(crm: Any) -> None:
    client, person = _client_with_person(crm)
    browser = _browser(crm)
    card = browser.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert f'hx-post="/clients/{client.pk}/card/call/"' in card
    assert 'name="form_token"' in card
    note = _post(browser, crm, f"/clients/{client.pk}/card/note/", {"note-text": "Скидка 5%"})
    assert note.status_code == 200
    assert 'id="card-feed"' in note.content.decode()
    assert "Скидка 5%" in note.content.decode()
    call = _post(
        browser,
        crm,
        f"/clients/{client.pk}/card/call/",
        {"result": "call_back", "log-result": "после обеда"},
    )
    assert call.status_code == 200
    assert "после обеда" in call.content.decode()
    task = _post(
        browser,
        crm,
        f"/clients/{client.pk}/card/task/",
        {"task-title": "Отправить КП", "task-kind": "email", "task-due": "tomorrow"},
    )
    assert task.status_code == 200
    assert "Отправить КП" in task.content.decode()
    empty = _post(browser, crm, f"/clients/{client.pk}/card/note/", {"note-text": "  "})
    assert empty.status_code == 400
    assert 'role="alert"' in empty.content.decode()
    person_note = _post(
        browser, crm, f"/contacts/{person.pk}/card/note/", {"note-text": "Любит звонки утром"}
    )
    assert person_note.status_code == 200
    assert "Любит звонки утром" in person_note.content.decode()
    plain = _post(browser, crm, f"/contacts/{person.pk}/card/call/", {"result": "busy"}, htmx=False)
    assert plain.status_code == 302
    with crm.a:
        assert Activity.objects.filter(client=client, kind="note", summary="Скидка 5%").exists()
        assert Activity.objects.filter(client=client, kind="call").count() == 2
        assert Activity.objects.get(summary="Любит звонки утром").client_id == client.pk
        assert Task.objects.get(title="Отправить КП").client_id == client.pk
    # The person's entry shows on the client's card too.
    feed = browser.get(f"/clients/{client.pk}/card/feed/", HTTP_HOST=crm.a.host, **HTMX)
    assert "Любит звонки утром" in feed.content.decode()
    assert "Отправить КП" in feed.content.decode()


def test_another_company_cannot_read_or_post_to_client_and_contact_cards(crm: Any) -> None:
    client, person = _client_with_person(crm)
    b = crm.b
    outsider = login_on_host(b.owner, b.company, b.host)
    stranger = login_on_host(b.owner, b.company, b.host)
    for url, data in [
        (f"/clients/{client.pk}/", None),
        (f"/clients/{client.pk}/card/feed/", None),
        (f"/contacts/{person.pk}/card/feed/", None),
        (f"/clients/{client.pk}/card/note/", {"note-text": "чужое"}),
        (f"/clients/{client.pk}/card/call/", {"result": "reached"}),
        (
            f"/clients/{client.pk}/card/task/",
            {"task-title": "x", "task-kind": "call", "task-due": "today"},
        ),
        (f"/clients/{client.pk}/card/field/source/", {"edit-source": "x", "version": 1}),
        (f"/contacts/{person.pk}/card/note/", {"note-text": "чужое"}),
        (f"/contacts/{person.pk}/card/call/", {"result": "reached"}),
        (f"/contacts/{person.pk}/card/field/position/", {"edit-position": "x", "version": 1}),
    ]:
        if data is None:
            answer = outsider.get(url, HTTP_HOST=b.host, **HTMX)
        else:
            answer = outsider.post(url, data, HTTP_HOST=b.host, **HTMX)
        assert answer.status_code == 404, url
        elsewhere = (
            stranger.get(url, HTTP_HOST=crm.a.host)
            if data is None
            else stranger.post(url, data, HTTP_HOST=crm.a.host)
        )
        assert elsewhere.status_code in (302, 403, 404), url
    # A manager of company A who does not see the client gets 404 too.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert (
        colleague.post(
            f"/clients/{client.pk}/card/note/", {"note-text": "x"}, HTTP_HOST=crm.a.host
        ).status_code
        == 404
    )
    with crm.a:
        assert not Activity.objects.filter(client=client).exists()
        assert not Task.objects.filter(client=client).exists()
        assert Client.objects.get(pk=client.pk).source == ""
        assert Contact.objects.get(pk=person.pk).position == ""


def test_the_contact_edit_page_refuses_a_save_after_an_in_place_edit(crm: Any) -> None:
    _client, person = _client_with_person(crm)
    browser = _browser(crm)
    page = browser.get(f"/contacts/{person.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'name="version" value="1"' in page
    _post(
        browser,
        crm,
        f"/contacts/{person.pk}/card/field/position/",
        {"edit-position": "Директор", "version": 1},
    )
    stale = browser.post(
        f"/contacts/{person.pk}/",
        {"last_name": "Сидорова", "first_name": "Анна", "position": "Инженер", "version": 1},
        HTTP_HOST=crm.a.host,
    )
    assert stale.status_code == 200  # the form again, with what was typed and why
    assert 'value="Инженер"' in stale.content.decode()
    with crm.a:
        assert Contact.objects.get(pk=person.pk).position == "Директор"
    fresh = browser.post(
        f"/contacts/{person.pk}/",
        {"last_name": "Сидорова", "first_name": "Анна", "position": "Инженер", "version": 2},
        HTTP_HOST=crm.a.host,
    )
    assert fresh.status_code == 302
    with crm.a:
        assert Contact.objects.get(pk=person.pk).position == "Инженер"
