"""A client's Telegram chat on the card and in the inbox: replies (with a file) through the bot,
visibility as for mail, company B isolated, the first-reply time in the report."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from communications.models import Conversation, Message
from crm_core.models import Client, Contact, Phone
from telegram.tests.fake_bot_api import FakeBotApi
from telegram.tests.helpers import connect_through_settings, message, post_update, secret
from tests.conftest import crm
from tests.test_isolation import login_on_host

__all__ = ["crm"]


def _known_client(crm: Any, responsible: Any) -> tuple[Client, Contact]:
    with crm.a:
        client = Client.objects.create(name="ООО Окна", responsible=responsible.user)
        person = Contact.objects.create(
            client=client, last_name="Петров", first_name="Иван", responsible=responsible.user
        )
        Phone.objects.create(contact=person, raw="8 916 123-45-67", e164="+79161234567")
    return client, person


def _client_writes(crm: Any, update_id: int, text: str) -> None:
    assert post_update(crm.a.host, message(update_id, 42, text), secret(crm.a)).status_code == 200


def _shares_phone(crm: Any, update_id: int) -> None:
    card = {"phone_number": "+79161234567", "first_name": "Иван", "user_id": 42}
    shared = message(update_id, 42, contact=card)
    assert post_update(crm.a.host, shared, secret(crm.a)).status_code == 200


def test_a_chat_is_on_the_card_and_a_reply_with_a_file_goes_through_the_bot(
    crm: Any, bot_api: FakeBotApi
) -> None:
    token = connect_through_settings(crm.a, bot_api, "okna_bot", 700001)
    client, person = _known_client(crm, crm.manager)
    _shares_phone(crm, 1)
    _client_writes(crm, 2, "Когда замер?")
    with crm.a:
        chat = Conversation.objects.get(channel="telegram")
        assert (chat.client_id, chat.contact_id, chat.external_id) == (client.pk, person.pk, "42")
        assert chat.awaiting_reply

    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    feed = manager.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "/telegram/card/?client=" in feed
    assert "Когда замер?" in feed  # the feed's entry
    panel = manager.get(
        f"/telegram/card/?contact={person.pk}", HTTP_HOST=crm.a.host
    ).content.decode()
    assert 'id="tg-reply"' in panel
    assert "Когда замер?" in panel

    answer = manager.post(
        f"/telegram/c/{chat.pk}/",
        {
            "tg-text": "Завтра в 10:00, смета во вложении",
            "tg-next": f"/contacts/{person.pk}/card/",
            "tg-file": SimpleUploadedFile("смета.pdf", b"%PDF-1.4 estimate", "application/pdf"),
        },
        HTTP_HOST=crm.a.host,
    )
    assert answer.status_code == 302
    assert answer["Location"].startswith(f"/contacts/{person.pk}/card/#message-")
    sent = [s for s in bot_api.sent if s["token"] == token]
    assert sent[-1]["chat_id"] == 42
    assert sent[-1]["document"]["name"] == "смета.pdf"
    assert sent[-1]["document"]["content"] == b"%PDF-1.4 estimate"
    assert sent[-1]["caption"] == "Завтра в 10:00, смета во вложении"
    with crm.a:
        chat.refresh_from_db()
        assert not chat.awaiting_reply
        assert chat.first_reply_at is not None
        reply = Message.objects.get(conversation=chat, direction="out")
        assert reply.delivery == "sent"
        assert reply.author_id == crm.manager.user.pk
        assert reply.attachments.get().name == "смета.pdf"
    card = manager.get(f"/contacts/{person.pk}/card/", HTTP_HOST=crm.a.host).content.decode()
    assert "Telegram message sent" in card or "Сообщение в Telegram отправлено" in card


def test_a_text_reply_and_a_refused_one_is_kept_as_not_sent(crm: Any, bot_api: FakeBotApi) -> None:
    connect_through_settings(crm.a, bot_api, "okna_bot", 700001)
    _known_client(crm, crm.manager)
    _shares_phone(crm, 1)
    _client_writes(crm, 2, "Алло")
    with crm.a:
        chat = Conversation.objects.get(channel="telegram")
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    empty = owner.post(f"/telegram/c/{chat.pk}/", {"tg-text": "  "}, HTTP_HOST=crm.a.host)
    assert empty.status_code == 200
    assert "Write a message or choose a file." in empty.content.decode() or (
        "Напишите сообщение" in empty.content.decode()
    )
    bot_api.blocked.add(42)
    refused = owner.post(
        f"/telegram/c/{chat.pk}/", {"tg-text": "Вы здесь?"}, HTTP_HOST=crm.a.host, follow=True
    )
    assert "blocked the bot" in refused.content.decode() or "заблокировал" in (
        refused.content.decode()
    )
    with crm.a:
        kept = Message.objects.get(conversation=chat, direction="out")
        assert (kept.text, kept.delivery) == ("Вы здесь?", "failed")
        assert Conversation.objects.get(pk=chat.pk).awaiting_reply  # still to answer
    bot_api.blocked.clear()
    assert (
        owner.post(
            f"/telegram/c/{chat.pk}/", {"tg-text": "Вы здесь?"}, HTTP_HOST=crm.a.host
        ).status_code
        == 302
    )
    assert bot_api.sent[-1]["text"] == "Вы здесь?"


def test_who_cannot_see_the_client_cannot_see_or_answer_the_chat_and_b_never_does(
    crm: Any, bot_api: FakeBotApi
) -> None:
    connect_through_settings(crm.a, bot_api, "okna_bot", 700001)
    client, person = _known_client(crm, crm.manager)
    _shares_phone(crm, 1)
    _client_writes(crm, 2, "Секретный заказ")
    with crm.a:
        chat = Conversation.objects.get(channel="telegram")
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert colleague.get(f"/telegram/c/{chat.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    assert (
        colleague.post(
            f"/telegram/c/{chat.pk}/", {"tg-text": "чужой ответ"}, HTTP_HOST=crm.a.host
        ).status_code
        == 404
    )
    assert (
        colleague.get(f"/telegram/card/?client={client.pk}", HTTP_HOST=crm.a.host).status_code
        == 404
    )
    inbox = colleague.get("/mail/", HTTP_HOST=crm.a.host).content.decode()
    assert "Секретный заказ" not in inbox
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    assert viewer.post(
        f"/telegram/c/{chat.pk}/", {"tg-text": "только чтение"}, HTTP_HOST=crm.a.host
    ).status_code in {403, 404}
    # Company B: the same ids on its own host are unknown, and its people never see A's chat.
    b_owner = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert b_owner.get(f"/telegram/c/{chat.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    assert (
        b_owner.get(f"/telegram/card/?contact={person.pk}", HTTP_HOST=crm.b.host).status_code == 404
    )
    assert "Секретный заказ" not in b_owner.get("/mail/", HTTP_HOST=crm.b.host).content.decode()
    with crm.b:
        assert not Conversation.objects.exists()
    assert not [s for s in bot_api.sent if s.get("text") in {"чужой ответ", "только чтение"}]


def test_the_inbox_lists_the_waiting_chat_oldest_first_and_the_answer_takes_it_out(
    crm: Any, bot_api: FakeBotApi
) -> None:
    connect_through_settings(crm.a, bot_api, "okna_bot", 700001)
    _known_client(crm, crm.manager)
    _shares_phone(crm, 1)
    _client_writes(crm, 2, "Где мой заказ?")
    with crm.a:
        chat = Conversation.objects.get(channel="telegram")
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    inbox = manager.get("/mail/", HTTP_HOST=crm.a.host).content.decode()
    assert "Где мой заказ?" in inbox
    assert f"/telegram/c/{chat.pk}/" in inbox
    assert 'id="inbox-badge"' in inbox
    only_telegram = manager.get("/mail/?source=telegram", HTTP_HOST=crm.a.host).content.decode()
    assert "Где мой заказ?" in only_telegram
    manager.post(f"/telegram/c/{chat.pk}/", {"tg-text": "Едет"}, HTTP_HOST=crm.a.host)
    after = manager.get("/mail/", HTTP_HOST=crm.a.host).content.decode()
    assert "Где мой заказ?" not in after
    assert 'id="inbox-badge"' not in after
    report = manager.get("/reports/first_reply/", HTTP_HOST=crm.a.host).content.decode()
    assert "Telegram" in report


def test_the_deal_card_shows_its_clients_chat_and_replies_from_it(
    crm: Any, bot_api: FakeBotApi
) -> None:
    from crm_core.models import Pipeline
    from crm_core.services.deals import create_deal

    token = connect_through_settings(crm.a, bot_api, "okna_bot", 700001)
    client, _person = _known_client(crm, crm.manager)
    _shares_phone(crm, 1)
    _client_writes(crm, 2, "А балкон тоже делаете?")
    with crm.a:
        pipeline = Pipeline.objects.get(is_default=True)
        deal = create_deal(membership=crm.manager, title="Балкон", pipeline=pipeline, client=client)
        other = create_deal(membership=crm.manager, title="Без клиента", pipeline=pipeline)
        chat = Conversation.objects.get(channel="telegram")

    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    card = manager.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/telegram/card/?deal={deal.pk}" in card
    panel = manager.get(f"/telegram/card/?deal={deal.pk}", HTTP_HOST=crm.a.host).content.decode()
    assert "А балкон тоже делаете?" in panel
    assert f'value="/deals/{deal.pk}/"' in panel  # the reply comes back to the deal
    # A deal with no chat about it: no panel at all.
    assert manager.get(f"/telegram/card/?deal={other.pk}", HTTP_HOST=crm.a.host).content == b""

    answer = manager.post(
        f"/telegram/c/{chat.pk}/",
        {"tg-text": "Делаем, замер бесплатно", "tg-next": f"/deals/{deal.pk}/"},
        HTTP_HOST=crm.a.host,
    )
    assert answer["Location"].startswith(f"/deals/{deal.pk}/#message-")
    assert [s for s in bot_api.sent if s["token"] == token][-1]["text"] == "Делаем, замер бесплатно"

    # Who cannot see the deal, and company B, get nothing.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert colleague.get(f"/telegram/card/?deal={deal.pk}", HTTP_HOST=crm.a.host).status_code == 404
    b_owner = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert b_owner.get(f"/telegram/card/?deal={deal.pk}", HTTP_HOST=crm.b.host).status_code == 404
    assert b_owner.get("/telegram/card/?deal=x", HTTP_HOST=crm.b.host).status_code == 404
