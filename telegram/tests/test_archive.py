"""Clients' Telegram messages go into the export archive and back; the bot's secrets do not."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.utils import timezone

from crm_core.models import Client, Contact
from onboarding.services.exports import build_export, request_export
from onboarding.tests.helpers import run_import
from telegram.models import Bot, TelegramMessage
from telegram.vault import seal

pytestmark = pytest.mark.usefixtures("media_root")


def test_messages_round_trip_without_the_token(make_company: Any) -> None:
    a = make_company("Alpha")
    token = "700001:AAHsecretsecretsecretsecretsecret12"
    with a:
        client = Client.objects.create(name="ООО Ромашка")
        person = Contact.objects.create(client=client, last_name="Иванов", first_name="Иван")
        TelegramMessage.objects.create(
            update_id=1,
            chat_id=42,
            from_id=42,
            from_name="Иван Иванов",
            text="Когда замер?",
            phone="+79161112233",
            sent_at=timezone.now(),
            contact=person,
            client=client,
        )
        Bot.objects.create(
            token_encrypted=seal(token),
            secret_encrypted=seal("webhook-secret-value"),
            token_hint=token[-4:],
            bot_id=700001,
            username="okna_bot",
        )
        job = build_export(request_export(user_id=a.owner.pk), company=a.company)
        data = job.file.read()
    archive = json.dumps(
        json.loads(zipfile.ZipFile(io.BytesIO(data)).read("relata.json")), ensure_ascii=False
    )
    assert "Когда замер?" in archive
    assert "okna_bot" not in archive
    assert "token_encrypted" not in archive
    b = make_company("Beta")
    with b:
        run_import(b.company, b.owner, data, "export.zip")
        restored = TelegramMessage.objects.get()
        assert (restored.text, restored.phone) == ("Когда замер?", "+79161112233")
        assert restored.contact is not None
        assert restored.contact.last_name == "Иванов"
        assert restored.client is not None
        assert restored.client.name == "ООО Ромашка"
        assert not Bot.objects.exists()
