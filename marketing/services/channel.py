"""How a company's campaign letters leave: through one of its mailboxes (SMTP, the
communications app's connection) or a transactional provider through django-anymail, whose
keys are kept sealed (marketing.credentials). One ``Outbox`` per batch: one SMTP session or one
provider connection for many letters."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.translation import gettext as _

from communications.models import Mailbox
from communications.services.connection import MailboxError, smtp
from marketing import credentials
from marketing.models import SendingSettings

Provider = SendingSettings.Provider
# What each provider's anymail backend calls its key (mailjet's is "key:secret").
KEY_NAMES = {Provider.POSTMARK: "server_token"}
API_URLS = {Provider.UNISENDER_GO: "https://go1.unisender.ru/ru/transactional/api/v1/"}
TRACKING_VIEWS = {
    Provider.UNISENDER_GO: "anymail.webhooks.unisender_go.UnisenderGoTrackingWebhookView",
    Provider.MAILGUN: "anymail.webhooks.mailgun.MailgunTrackingWebhookView",
    Provider.POSTMARK: "anymail.webhooks.postmark.PostmarkTrackingWebhookView",
    Provider.SENDGRID: "anymail.webhooks.sendgrid.SendGridTrackingWebhookView",
    Provider.BREVO: "anymail.webhooks.brevo.BrevoTrackingWebhookView",
    Provider.MAILJET: "anymail.webhooks.mailjet.MailjetTrackingWebhookView",
}
# The signature key some providers add to basic auth (anymail's keyword for it).
SIGNING_KEY_NAMES = {Provider.MAILGUN: "webhook_signing_key", Provider.UNISENDER_GO: "api_key"}


class ChannelError(Exception):
    """The letters could not be handed over (server down, login refused); ``str`` says why."""


@dataclass
class Ready:
    settings: SendingSettings

    def check_ready(self) -> None:
        s = self.settings
        if s.channel == SendingSettings.Channel.MAILBOX:
            if s.mailbox_id is None:
                raise ValidationError(
                    _("Choose the mailbox campaigns are sent from (Campaigns → Sending).")
                )
        elif not s.provider or not s.provider_key or not s.from_email:
            raise ValidationError(
                _("Set the provider, its key and the from address (Campaigns → Sending).")
            )


def sending_settings() -> Ready:
    found = SendingSettings.objects.select_related("mailbox").order_by("pk").first()
    return Ready(found or SendingSettings.objects.create())


def from_address(s: SendingSettings) -> tuple[str, str]:
    """(name, address) the letters come from."""
    if s.channel == SendingSettings.Channel.MAILBOX and s.mailbox is not None:
        return s.from_name or s.mailbox.name, s.mailbox.address
    return s.from_name, s.from_email


def _provider_connection(s: SendingSettings) -> Any:
    key = credentials.unseal(s.provider_key)
    options: dict[str, Any] = {}
    if s.provider == Provider.MAILJET:
        api_key, _sep, secret = key.partition(":")
        options = {"api_key": api_key, "secret_key": secret}
    else:
        options[KEY_NAMES.get(Provider(s.provider), "api_key")] = key
    if s.provider in API_URLS:
        options["api_url"] = API_URLS[Provider(s.provider)]
    return get_connection(
        f"anymail.backends.{s.provider}.EmailBackend", fail_silently=False, **options
    )


class Outbox:
    """Hands letters over; ``send`` returns the provider's message id ("" for SMTP, where
    the letter's own Message-ID is kept)."""

    def __init__(self, s: SendingSettings, server: smtplib.SMTP | None, connection: Any) -> None:
        self.settings = s
        self.server = server
        self.connection = connection

    def send(self, message: EmailMultiAlternatives) -> str:
        if self.server is not None:
            # The envelope takes bare addresses; the headers (a Cyrillic sender's name) are
            # encoded by Django's MIME message.
            envelope_from = parseaddr(message.from_email)[1]
            try:
                mime: Any = (
                    message.message()
                )  # Django's SafeMIME takes linesep, as its backend does
                self.server.sendmail(
                    envelope_from, message.recipients(), mime.as_bytes(linesep="\r\n")
                )
            except smtplib.SMTPRecipientsRefused as exc:
                raise ValidationError(_("The server refused the address.")) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise ChannelError(_("The mail server refused the letter.")) from exc
            return ""
        from anymail.exceptions import AnymailError, AnymailRecipientsRefused

        message.connection = self.connection
        try:
            message.send()
        except AnymailRecipientsRefused as exc:
            raise ValidationError(_("The provider refused the address.")) from exc
        except AnymailError as exc:
            raise ChannelError(
                _("The provider refused the letter: %(why)s") % {"why": exc}
            ) from exc
        status = getattr(message, "anymail_status", None)
        return str(getattr(status, "message_id", "") or "")


@contextmanager
def outbox(s: SendingSettings) -> Iterator[Outbox]:
    if s.channel == SendingSettings.Channel.MAILBOX:
        mailbox = Mailbox.objects.filter(pk=s.mailbox_id or 0).first()
        if mailbox is None:
            raise ChannelError(_("The mailbox campaigns are sent from was deleted."))
        try:
            with smtp(mailbox) as server:
                yield Outbox(s, server, None)
        except MailboxError as exc:
            raise ChannelError(str(exc)) from None
        return
    try:
        connection = _provider_connection(s)
    except credentials.SecretUnreadableError as exc:
        raise ChannelError(_("The provider's key can no longer be read; enter it again.")) from exc
    with connection:
        yield Outbox(s, None, connection)
