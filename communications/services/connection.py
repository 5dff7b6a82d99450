"""Opening a mailbox's IMAP and SMTP connections, with its secret decrypted only here.

Errors are turned into ``MailboxError`` with a message a person can act on ("the server
refused the login") and never contain the secret."""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError
from imap_tools.message import MailMessage

from communications import credentials
from communications.mail_auth import sign_in_for
from communications.models import Mailbox
from relata import outbound

TIMEOUT = 30


class MailboxError(Exception):
    """A mailbox could not be reached or signed in to; ``str()`` is for the person."""


class RawMailMessage(MailMessage):
    """imap-tools' message that also keeps the bytes as the server sent them (the parser of
    communications.mime reads them; a message that is read badly is kept as it came)."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw_bytes: bytes = self._get_message_data_parts(fetch_data)[0]


def _imap_class(mailbox: Mailbox) -> Any:
    if mailbox.imap_security == Mailbox.Security.SSL:
        return MailBox
    if mailbox.imap_security == Mailbox.Security.STARTTLS:
        return MailBoxStartTls
    return MailBoxUnencrypted


def describe(exc: BaseException, server: str) -> str:  # noqa: PLR0911  (one answer per cause)
    if isinstance(exc, MailboxLoginError | smtplib.SMTPAuthenticationError):
        return _("%(server)s refused the login: check the login and the (app) password.") % {
            "server": server
        }
    if isinstance(exc, socket.gaierror):
        return _("%(server)s: no such server (check the address).") % {"server": server}
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("%(server)s did not answer in time.") % {"server": server}
    if isinstance(exc, ssl.SSLError):
        return _("%(server)s: the secure connection failed (check the port and security).") % {
            "server": server
        }
    if isinstance(exc, ConnectionRefusedError):
        return _("%(server)s refused the connection (check the port).") % {"server": server}
    if isinstance(exc, credentials.SecretUnreadableError):
        return _("The saved password can no longer be read: enter it again.")
    return _("%(server)s: %(error)s") % {"server": server, "error": type(exc).__name__}


def refuse_private_server(host: str, port: int) -> None:
    """Relata connects to mail servers on the internet only: a name or address inside its own
    network (loopback, private, link-local…) is refused before any connection, at every
    connection (a name's addresses can change after the mailbox was saved). Development and
    tests allow them (``MAIL_ALLOW_PRIVATE_SERVERS``) for their local servers."""
    if settings.MAIL_ALLOW_PRIVATE_SERVERS:
        return
    refused = outbound.non_public_addresses(host, port)
    if refused:
        raise MailboxError(
            _(
                "%(server)s points to %(address)s, an address inside a private network that "
                "Relata does not connect to. Use the mail server's public address."
            )
            % {"server": host, "address": refused[0]}
        )


def stored_secret(mailbox: Mailbox) -> str:
    """The stored password, or the OAuth2 access token — renewed first when it runs out."""
    from communications.services.oauth import access_token

    return access_token(mailbox)


@contextmanager
def imap(mailbox: Mailbox, secret: str | None = None) -> Iterator[Any]:
    """A signed-in imap-tools mailbox. ``secret``: a password typed just now (the check
    before saving); otherwise the stored one is decrypted."""
    server = f"{mailbox.imap_host}:{mailbox.imap_port}"
    refuse_private_server(mailbox.imap_host, mailbox.imap_port)
    try:
        password = secret if secret is not None else stored_secret(mailbox)
        box = _imap_class(mailbox)(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT)
        box.email_message_class = RawMailMessage
        sign_in_for(mailbox.auth_method, mailbox.login, password).imap(box)
    except (
        OSError,
        imaplib.IMAP4.error,
        MailboxLoginError,
        credentials.SecretUnreadableError,
    ) as exc:
        raise MailboxError(describe(exc, server)) from None
    try:
        yield box
    finally:
        # The server may already have dropped us: then there is nothing to close.
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            box.logout()


@contextmanager
def smtp(mailbox: Mailbox) -> Iterator[smtplib.SMTP]:
    server_name = f"{mailbox.smtp_host}:{mailbox.smtp_port}"
    refuse_private_server(mailbox.smtp_host, mailbox.smtp_port)
    try:
        password = stored_secret(mailbox)
        server: smtplib.SMTP
        if mailbox.smtp_security == Mailbox.Security.SSL:
            server = smtplib.SMTP_SSL(
                mailbox.smtp_host,
                mailbox.smtp_port,
                timeout=TIMEOUT,
                context=ssl.create_default_context(),
            )
        else:
            server = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=TIMEOUT)
            if mailbox.smtp_security == Mailbox.Security.STARTTLS:
                server.starttls(context=ssl.create_default_context())
        if mailbox.login and password:
            sign_in_for(mailbox.auth_method, mailbox.login, password).smtp(server)
    except (OSError, smtplib.SMTPException, credentials.SecretUnreadableError) as exc:
        raise MailboxError(describe(exc, server_name)) from None
    try:
        yield server
    finally:
        with suppress(OSError, smtplib.SMTPException):
            server.quit()
