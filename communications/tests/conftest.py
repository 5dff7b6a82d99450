"""Fixtures of the mail tests: a real dovecot and a real SMTP server, and mailboxes on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from communications.tests.fake_oauth import FakeOAuth, running_oauth
from communications.tests.servers import Dovecot, SmtpServer, running_dovecot, running_smtp
from tests.browser import chromium_page
from tests.conftest import crm

__all__ = ["chromium_page", "crm", "dovecot", "mailbox_on", "oauth_provider", "smtp_server"]

SMTP_LOGIN = "relay-user"
SMTP_PASSWORD = "mail-pass-1"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A real dovecot. It checks XOAUTH2 bearer tokens at the tests' fake OAuth2 provider, which
    starts with it: other apps' tests borrow this fixture alone (service, marketing, knowledge
    import it), so it may not need a second fixture they would also have to import."""
    with running_oauth() as fake, running_dovecot(fake.base_url + "/introspect") as server:
        server.oauth = fake
        yield server


@pytest.fixture(scope="session")
def oauth_provider(dovecot: Dovecot) -> FakeOAuth:
    """The fake OAuth2 provider dovecot checks tokens against."""
    assert isinstance(dovecot.oauth, FakeOAuth)
    return dovecot.oauth


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp(SMTP_LOGIN, SMTP_PASSWORD) as server:
        yield server


@pytest.fixture
def mailbox_on(dovecot: Dovecot, smtp_server: SmtpServer) -> Callable[..., Any]:
    """Make a mailbox (saved through the service, so its connection is really checked) on a
    fresh dovecot user, sending through the test's SMTP server."""

    def make(membership: Any, *, address: str | None = None, **values: Any) -> Any:
        from communications.models import Mailbox
        from communications.services.mailboxes import save_mailbox

        address = address or dovecot.add_user()
        readers = values.pop("reader_ids", [])
        fields = {
            "name": values.pop("name", address),
            "address": address,
            "kind": values.pop("kind", Mailbox.Kind.PERSONAL),
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": Mailbox.Security.NONE,
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": Mailbox.Security.NONE,
            "login": address,
            **values,
        }
        return save_mailbox(
            membership=membership,
            mailbox=Mailbox(),
            secret="mail-pass-1",
            reader_ids=readers,
            **fields,
        )

    return make
