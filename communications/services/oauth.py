"""Connecting a mailbox by OAuth2 (the authorization-code flow) and keeping its token fresh.

The flow: the person starts on the company host's mailbox page; ``start`` makes a state bound
to that session, that company and that person (a random nonce kept in the session, signed
together with the company's schema and the person's id) and sends the browser to the provider.
The provider returns to one fixed address on the public site (a provider registers exact
redirect addresses, not every company's host); that view only checks the signature and sends
the browser back to the company named in the state, where ``finish`` checks the nonce against
the session, exchanges the code for tokens, checks IMAP and SMTP with them and keeps the tokens
sealed like passwords. ``access_token`` refreshes a token about to run out before each sign-in.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications import credentials
from communications.models import Mailbox
from communications.oauth import OAuthProvider, provider
from communications.services.connection import MailboxError

log = logging.getLogger(__name__)

SALT = "relata.mail-oauth"
STATE_MAX_AGE = 15 * 60
SESSION_KEY = "mail_oauth_nonces"
TIMEOUT = 10
# Refresh a little before the provider's expiry, so a sync never signs in with a dying token.
REFRESH_MARGIN = timedelta(minutes=5)


class OAuthError(Exception):
    """The provider or the state refused; the text is for the person."""


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str
    expires_in: int


def authorize_url(
    *,
    session: Any,
    schema: str,
    user_id: int,
    provider_key: str,
    redirect_uri: str,
    wanted: dict[str, str],
) -> str:
    """Where to send the browser; ``wanted``: the mailbox the person asked for (address,
    name, kind), carried in the signed state so nothing is kept server-side but the nonce."""
    chosen = provider(provider_key)
    if chosen is None:
        raise OAuthError(_("This sign-in is not set up on this installation."))
    nonce = secrets.token_urlsafe(24)
    nonces = list(session.get(SESSION_KEY, []))[-4:]
    session[SESSION_KEY] = [*nonces, nonce]
    state = signing.dumps(
        {"n": nonce, "s": schema, "u": user_id, "p": provider_key, "w": wanted}, salt=SALT
    )
    query = {
        "response_type": "code",
        "client_id": chosen.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(chosen.scopes),
        "state": state,
        **chosen.extra,
    }
    if wanted.get("address"):
        query["login_hint"] = wanted["address"]
    return f"{chosen.authorize_url}?{urlencode(query)}"


def read_state(state: str) -> dict[str, Any]:
    """The state's contents if its signature holds and it is recent (the public callback)."""
    try:
        data = signing.loads(state, salt=SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        raise OAuthError(_("The sign-in link is not valid or has expired. Start again.")) from None
    if not isinstance(data, dict):
        raise OAuthError(_("The sign-in link is not valid or has expired. Start again."))
    return data


def claim_state(*, session: Any, state: str, schema: str, user_id: int) -> dict[str, Any]:
    """The state, checked against this session, company and person, and used up."""
    data = read_state(state)
    nonces = list(session.get(SESSION_KEY, []))
    if data.get("s") != schema or data.get("u") != user_id or data.get("n") not in nonces:
        raise OAuthError(_("This sign-in was started by someone else or elsewhere. Start again."))
    nonces.remove(data["n"])
    session[SESSION_KEY] = nonces
    return data


def _token_request(chosen: OAuthProvider, form: dict[str, str]) -> Tokens:
    try:
        response = requests.post(
            chosen.token_url,
            data={**form, "client_id": chosen.client_id, "client_secret": chosen.client_secret},
            timeout=TIMEOUT,
        )
        body = response.json()
    except (requests.RequestException, ValueError):
        raise OAuthError(_("%(name)s could not be reached.") % {"name": chosen.label}) from None
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        log.warning("mail oauth: %s refused the token request (%s)", chosen.key, error[:50])
        raise OAuthError(
            _("%(name)s refused (%(error)s).") % {"name": chosen.label, "error": error or "?"}
        )
    try:
        expires_in = int(body.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600
    return Tokens(str(body["access_token"]), str(body.get("refresh_token") or ""), expires_in)


def exchange_code(provider_key: str, code: str, redirect_uri: str) -> Tokens:
    chosen = provider(provider_key)
    if chosen is None:
        raise OAuthError(_("This sign-in is not set up on this installation."))
    return _token_request(
        chosen, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    )


def fill_from_provider(mailbox: Mailbox, provider_key: str, tokens: Tokens) -> None:
    """The provider's servers and the sealed tokens on an unsaved mailbox."""
    chosen = provider(provider_key)
    assert chosen is not None
    mailbox.oauth_provider = chosen.key
    mailbox.auth_method = Mailbox.AuthMethod.XOAUTH2
    mailbox.imap_host, mailbox.imap_port = chosen.imap_host, chosen.imap_port
    mailbox.imap_security = chosen.imap_security
    mailbox.smtp_host, mailbox.smtp_port = chosen.smtp_host, chosen.smtp_port
    mailbox.smtp_security = chosen.smtp_security
    mailbox.login = mailbox.address
    _store(mailbox, tokens)


def _store(mailbox: Mailbox, tokens: Tokens) -> None:
    mailbox.secret = credentials.encrypt(tokens.access)
    if tokens.refresh:  # a provider may keep the same refresh token and not send it again
        mailbox.refresh_secret = credentials.encrypt(tokens.refresh)
    mailbox.token_expires_at = timezone.now() + timedelta(seconds=tokens.expires_in)


def access_token(mailbox: Mailbox) -> str:
    """The mailbox's access token, refreshed first when it runs out within a few minutes. Two
    workers refreshing at once are kept apart by the row's lock; the second reads the first's."""
    if not mailbox.oauth_provider or mailbox.auth_method != Mailbox.AuthMethod.XOAUTH2:
        return credentials.decrypt(mailbox.secret)
    due = mailbox.token_expires_at is None or (
        mailbox.token_expires_at - REFRESH_MARGIN <= timezone.now()
    )
    if not due or mailbox.pk is None:
        return credentials.decrypt(mailbox.secret)
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if locked.token_expires_at and locked.token_expires_at - REFRESH_MARGIN > timezone.now():
            mailbox.secret, mailbox.token_expires_at = locked.secret, locked.token_expires_at
            return credentials.decrypt(locked.secret)
        chosen = provider(locked.oauth_provider)
        refresh = credentials.decrypt(locked.refresh_secret)
        if chosen is None or not refresh:
            raise MailboxError(_("The mailbox's sign-in has expired: connect it again."))
        try:
            tokens = _token_request(
                chosen, {"grant_type": "refresh_token", "refresh_token": refresh}
            )
        except OAuthError as exc:
            raise MailboxError(
                _("The mailbox's sign-in could not be renewed (%(why)s): connect it again.")
                % {"why": exc}
            ) from None
        _store(locked, tokens)
        locked.save(update_fields=["secret", "refresh_secret", "token_expires_at"])
    mailbox.secret, mailbox.refresh_secret = locked.secret, locked.refresh_secret
    mailbox.token_expires_at = locked.token_expires_at
    log.info("mail oauth: token of mailbox %s renewed", mailbox.pk)
    return tokens.access
