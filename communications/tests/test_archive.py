"""The company's archive carries its mail (messages, received files) and never a mailbox's
password; restored elsewhere, a mailbox waits paused until someone enters one."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from communications import credentials
from communications.models import Conversation, Mailbox, Message, MessageAttachment
from communications.services.sync import sync_mailbox
from communications.tests.mails import with_attachment
from communications.tests.servers import Dovecot
from onboarding.archive import restore, write_archive

pytestmark = pytest.mark.django_db


def test_mail_goes_into_the_archive_without_its_password_and_comes_back(
    crm: Any, dovecot: Dovecot, mailbox_on: Any, media_root: Any
) -> None:
    with crm.a:
        box = mailbox_on(crm.owner, kind=Mailbox.Kind.SHARED)
        dovecot.deliver(
            box.address, with_attachment("x@y.ru", box.address, "<f@x>", "смета.xlsx", b"XLSX")
        )
        sync_mailbox(crm.a.company, box)
        buffer = io.BytesIO()
        counts = write_archive(buffer, company_name="A")
    assert (counts["mailboxes"], counts["messages"], counts["message_files"]) == (1, 1, 1)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        manifest = archive.read("relata.json").decode()
        names = archive.namelist()
    assert "mail-pass-1" not in manifest
    assert box.secret not in manifest
    assert all("secret" not in row for row in json.loads(manifest)["entities"]["mailboxes"])
    assert any(n.startswith("mail_files/") and n.endswith(".xlsx") for n in names)

    buffer.seek(0)
    with crm.b:
        restore(buffer, company=crm.b.company)
        restored = Mailbox.objects.get()
        assert (restored.address, restored.status, restored.secret) == (box.address, "paused", "")
        assert Conversation.objects.get().mailbox == restored
        message = Message.objects.get()
        assert message.message_id == "<f@x>"
        attachment = MessageAttachment.objects.get()
        with attachment.file.open("rb") as handle:
            assert handle.read() == b"XLSX"


def test_secrets_are_fernet_tokens_and_a_rotated_key_still_reads_them(settings: Any) -> None:
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RELATA_MAILBOX_KEY = old
    token = credentials.encrypt("app-password")
    assert "app-password" not in token
    settings.RELATA_MAILBOX_KEY = f"{new},{old}"
    assert credentials.decrypt(token) == "app-password"
    settings.RELATA_MAILBOX_KEY = new
    with pytest.raises(credentials.SecretUnreadableError):
        credentials.decrypt(token)


def test_xoauth2_string_is_the_documented_one() -> None:
    from communications.mail_auth import XOAuth2SignIn, sign_in_for, xoauth2_string

    assert xoauth2_string("kirill@okna.ru", "ya29.token") == (
        "user=kirill@okna.ru\x01auth=Bearer ya29.token\x01\x01"
    )
    assert isinstance(sign_in_for("xoauth2", "kirill@okna.ru", "t"), XOAuth2SignIn)
