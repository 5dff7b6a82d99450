"""Clients' messages to the bot: matched by the phone they share, or a request when unknown."""

from __future__ import annotations

from typing import Any

from crm_core.models import Client, Contact, Lead, Notification, Phone
from telegram.models import TelegramMessage
from telegram.tests.fake_bot_api import FakeBotApi
from telegram.tests.helpers import connect_through_settings, message, post_update, secret


def _shared(update_id: int, from_id: int, phone: str, owner_id: int | None = None) -> Any:
    contact = {"phone_number": phone, "first_name": "Иван", "user_id": owner_id or from_id}
    return message(update_id, from_id, contact=contact)


def test_a_known_contact_person_is_matched_by_the_phone_they_share(
    two_companies: Any, bot_api: FakeBotApi
) -> None:
    a, _b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    with a:
        client = Client.objects.create(name="ООО Окна")
        person = Contact.objects.create(client=client, last_name="Петров", first_name="Иван")
        Phone.objects.create(contact=person, raw="8 916 123-45-67", e164="+79161234567")
    assert post_update(a.host, message(1, 42, "Добрый день"), secret(a)).status_code == 200
    assert post_update(a.host, _shared(2, 42, "79161234567"), secret(a)).status_code == 200
    assert post_update(a.host, message(3, 42, "Когда замер?"), secret(a)).status_code == 200
    # A forwarded card of someone else's number identifies nobody.
    assert (
        post_update(a.host, _shared(4, 77, "79161234567", owner_id=5), secret(a)).status_code == 200
    )
    with a:
        mine = TelegramMessage.objects.filter(from_id=42).order_by("update_id")
        assert [(m.contact_id, m.client_id) for m in mine] == [(person.pk, client.pk)] * 3
        assert TelegramMessage.objects.get(from_id=77).contact is None
        assert not Lead.objects.exists()


def test_an_unknown_sender_becomes_a_request_once_they_share_a_phone(
    two_companies: Any, bot_api: FakeBotApi, django_capture_on_commit_callbacks: Any
) -> None:
    a, b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    with django_capture_on_commit_callbacks(execute=True):
        post_update(a.host, message(1, 42, "Нужны окна в дачу"), secret(a))
        post_update(a.host, _shared(2, 42, "+7 999 000-11-22"), secret(a))
        post_update(a.host, message(3, 42, "И дверь"), secret(a))
    with a:
        lead = Lead.objects.get()
        assert lead.phone == "+79990001122"
        assert "Нужны окна в дачу" in lead.message
        assert lead.utm["channel"] == "telegram"
        assert set(TelegramMessage.objects.values_list("lead_id", flat=True)) == {lead.pk}
        assert Notification.objects.filter(user=a.owner, text__contains="Иван Петров").exists()
    with b:
        assert not Lead.objects.exists()
        assert not TelegramMessage.objects.exists()
