"""How the CRM signs in to a mailbox: a login and (app) password, or OAuth2 (XOAUTH2).

Each way is a ``SignIn`` that knows how to authenticate an IMAP and an SMTP connection, so a
provider-specific OAuth2 flow (Yandex, Mail.ru, Google) only has to supply the access token.
The XOAUTH2 SASL string is the one Google and Microsoft document:
``user=<login>\\x01auth=Bearer <token>\\x01\\x01``.
"""

from __future__ import annotations

import base64
import smtplib
from dataclasses import dataclass
from typing import Any, Protocol


class SignIn(Protocol):
    def imap(self, mailbox: Any) -> None:
        """Authenticate an imap_tools ``MailBox`` (not yet logged in)."""

    def smtp(self, server: smtplib.SMTP) -> None:
        """Authenticate a connected SMTP session."""


@dataclass(frozen=True)
class PasswordSignIn:
    login: str
    password: str

    def imap(self, mailbox: Any) -> None:
        mailbox.login(self.login, self.password, initial_folder=None)

    def smtp(self, server: smtplib.SMTP) -> None:
        server.login(self.login, self.password)


def xoauth2_string(login: str, access_token: str) -> str:
    """The SASL XOAUTH2 initial response, before base64."""
    return f"user={login}\x01auth=Bearer {access_token}\x01\x01"


@dataclass(frozen=True)
class XOAuth2SignIn:
    login: str
    access_token: str

    def imap(self, mailbox: Any) -> None:
        mailbox.xoauth2(self.login, self.access_token, initial_folder=None)

    def smtp(self, server: smtplib.SMTP) -> None:
        server.ehlo_or_helo_if_needed()
        encoded = base64.b64encode(xoauth2_string(self.login, self.access_token).encode())
        code, answer = server.docmd("AUTH", f"XOAUTH2 {encoded.decode()}")
        if code == 334:  # the server sent its error as a challenge; an empty line ends it
            code, answer = server.docmd("")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, answer)


def sign_in_for(method: str, login: str, secret: str) -> SignIn:
    if method == "xoauth2":
        return XOAuth2SignIn(login, secret)
    return PasswordSignIn(login, secret)
