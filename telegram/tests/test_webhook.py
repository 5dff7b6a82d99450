"""The webhook on the company host: secret checked, replays ignored, companies kept apart."""

from __future__ import annotations

from typing import Any

from telegram.models import TelegramMessage, Update
from telegram.tests.fake_bot_api import FakeBotApi
from telegram.tests.helpers import connect_through_settings, message, post_update, secret
from tenants.models import Company


def test_a_message_is_stored_once_even_when_telegram_sends_it_again(
    two_companies: Any, bot_api: FakeBotApi, django_capture_on_commit_callbacks: Any
) -> None:
    a, _b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    update = message(5001, 42, "Здравствуйте, сколько стоит окно?")
    with django_capture_on_commit_callbacks(execute=True):
        first = post_update(a.host, update, secret(a))
    again = post_update(a.host, update, secret(a))
    assert (first.status_code, first.content) == (200, b"message")
    assert (again.status_code, again.content) == (200, b"duplicate")
    with a:
        stored = TelegramMessage.objects.get()
        assert (stored.chat_id, stored.from_id, stored.update_id) == (42, 42, 5001)
        assert stored.text == "Здравствуйте, сколько стоит окно?"
        assert stored.from_name == "Иван Петров"
    # The unknown sender is asked, once, for their phone number with a contact button.
    asked = [m for m in bot_api.sent if m["chat_id"] == 42]
    assert len(asked) == 1
    assert asked[0]["reply_markup"]["keyboard"][0][0]["request_contact"] is True


def test_forged_or_missing_secret_and_malformed_updates_write_nothing(
    two_companies: Any, bot_api: FakeBotApi
) -> None:
    a, _b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    assert post_update(a.host, message(1, 42, "hi"), None).status_code == 403
    assert post_update(a.host, message(2, 42, "hi"), "forged-secret").status_code == 403
    assert post_update(a.host, "{not json", secret(a)).status_code == 400
    assert post_update(a.host, {"update_id": "x"}, secret(a)).status_code == 400
    assert post_update(a.host, {"update_id": 3, "message": []}, secret(a)).status_code == 400
    with a:
        assert not Update.objects.exists()
        assert not TelegramMessage.objects.exists()


def test_company_a_secret_never_writes_into_company_b(
    two_companies: Any, bot_api: FakeBotApi
) -> None:
    a, b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    connect_through_settings(b, bot_api, "dveri_bot", 700002)
    assert post_update(b.host, message(7, 42, "hi"), secret(a)).status_code == 403
    assert post_update(a.host, message(7, 42, "hi"), secret(a)).status_code == 200
    with b:
        assert not Update.objects.exists()
        assert not TelegramMessage.objects.exists()
    with a:
        assert TelegramMessage.objects.count() == 1


def test_a_company_without_a_bot_refuses_updates(two_companies: Any, bot_api: FakeBotApi) -> None:
    a, _b = two_companies
    assert post_update(a.host, message(1, 42, "hi"), "anything").status_code == 404
    with a:
        assert not Update.objects.exists()


def test_an_office_network_allowlist_does_not_shut_telegram_out(
    two_companies: Any, bot_api: FakeBotApi
) -> None:
    a, _b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    Company.objects.filter(pk=a.company.pk).update(ip_allowlist="192.0.2.0/24")
    assert post_update(a.host, message(9, 42, "hi"), secret(a)).status_code == 200
    assert post_update(a.host, message(10, 42, "hi"), "forged").status_code == 403
    with a:
        assert TelegramMessage.objects.count() == 1
