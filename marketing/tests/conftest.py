"""Fixtures of the campaign tests: the mail tests' real servers (dovecot, aiosmtpd) and a
company whose campaigns go out through a mailbox on them, with contact persons who agreed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from communications.tests.conftest import dovecot, mailbox_on, smtp_server
from tests.browser import chromium_page
from tests.conftest import crm

__all__ = [
    "chromium_page",
    "crm",
    "dovecot",
    "mailbox_on",
    "people",
    "sending_through",
    "smtp_server",
]


@pytest.fixture
def sending_through(mailbox_on: Callable[..., Any]) -> Callable[..., Any]:
    """Campaigns of the current company go out through a fresh mailbox on the test servers."""

    def make(membership: Any, rate: int = 600) -> Any:
        from marketing.models import SendingSettings

        box = mailbox_on(membership, kind="shared")
        SendingSettings.objects.all().delete()
        return SendingSettings.objects.create(
            channel=SendingSettings.Channel.MAILBOX, mailbox=box, rate_per_minute=rate
        )

    return make


@pytest.fixture
def people() -> Callable[..., Any]:
    """Contact persons of one client, each with an address; ``agreed`` of them consented."""

    def make(
        membership: Any, names: list[tuple[str, str, str]], agreed: int | None = None
    ) -> list[Any]:
        from crm_core.models import Client, Contact
        from marketing.models import Consent
        from marketing.services.consent import record_consent

        client = Client.objects.create(name="ООО Ромашка", responsible_id=membership.user_id)
        made = []
        for i, (first, middle, last) in enumerate(names):
            contact = Contact.objects.create(
                client=client,
                first_name=first,
                middle_name=middle,
                last_name=last,
                emails=[f"p{i}-{uuid.uuid4().hex[:6]}@romashka.test"],
                responsible_id=membership.user_id,
            )
            if agreed is None or i < agreed:
                record_consent(
                    membership=membership,
                    contact=contact,
                    email=contact.emails[0],
                    source=Consent.Source.MANUAL,
                    text="Согласен получать новости ООО Ромашка по e-mail",
                )
            made.append(contact)
        return made

    return make
