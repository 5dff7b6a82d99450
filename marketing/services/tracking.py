"""What comes back from a campaign: unsubscribes (one click or the page), tracked clicks and
opens, and the providers' or mail servers' reports of bounces and spam complaints.

Everything is found through the recipient a signed token or a provider's message id names, in
the company schema the request or webhook arrived on; an address that bounced hard, complained
or unsubscribed is suppressed for every later campaign, and its consent ends."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

from marketing import tokens
from marketing.models import CampaignLink, Recipient, Suppression
from marketing.services.consent import withdraw_all


def soft_bounce_limit() -> int:
    """How many letters in a row may come back "try later" before the address is suppressed
    (settings.MARKETING_SOFT_BOUNCE_LIMIT)."""
    return max(1, int(getattr(settings, "MARKETING_SOFT_BOUNCE_LIMIT", 3)))


def soft_bounce_window() -> dt.timedelta:
    """Soft bounces older than this are forgotten (settings.MARKETING_SOFT_BOUNCE_DAYS)."""
    return dt.timedelta(days=int(getattr(settings, "MARKETING_SOFT_BOUNCE_DAYS", 90)))


def recipient_of(purpose: str, token: str) -> tokens.Claim:
    return tokens.read(purpose, token)


def _suppress(recipient: Recipient, reason: str, detail: str = "") -> None:
    Suppression.objects.get_or_create(
        email=recipient.email.lower(),
        defaults={"reason": reason, "campaign_id": recipient.campaign_id, "detail": detail[:500]},
    )


@transaction.atomic
def unsubscribe(token: str) -> Recipient:
    """Unsubscribe the letter's recipient (idempotent: a second click changes nothing).
    Raises ``tokens.BadTokenError`` for a token that is not this company's."""
    claim = tokens.read("unsubscribe", token)
    recipient = Recipient.objects.select_for_update().filter(pk=claim.recipient_id).first()
    if recipient is None:
        raise tokens.BadTokenError("unsubscribe")
    if recipient.unsubscribed_at is None:
        Recipient.objects.filter(pk=recipient.pk).update(unsubscribed_at=timezone.now())
    _suppress(recipient, Suppression.Reason.UNSUBSCRIBED)
    withdraw_all(email=recipient.email, contact_id=recipient.contact_id)
    return recipient


def is_unsubscribed(recipient: Recipient) -> bool:
    return Suppression.objects.filter(email=recipient.email.lower()).exists()


@transaction.atomic
def click(token: str) -> str:
    """Count the click and give the link's address: only a link of the recipient's own
    campaign, so the redirect can never be pointed elsewhere."""
    claim = tokens.read("click", token)
    if claim.link_id is None:
        raise tokens.BadTokenError("click")
    recipient = Recipient.objects.filter(pk=claim.recipient_id).first()
    link = (
        CampaignLink.objects.filter(pk=claim.link_id, campaign_id=recipient.campaign_id).first()
        if recipient is not None
        else None
    )
    if recipient is None or link is None:
        raise tokens.BadTokenError("click")
    CampaignLink.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
    now = timezone.now()
    Recipient.objects.filter(pk=recipient.pk, clicked_at__isnull=True).update(clicked_at=now)
    # A click is also an open (images are often blocked).
    Recipient.objects.filter(pk=recipient.pk, opened_at__isnull=True).update(opened_at=now)
    return link.url


def opened(token: str) -> None:
    claim = tokens.read("open", token)
    Recipient.objects.filter(pk=claim.recipient_id, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


@dataclass
class Event:
    """What a provider reported, reduced to what the campaign keeps."""

    kind: str  # delivered, bounced, complained, opened, clicked, unsubscribed, other
    message_id: str
    recipient_id: int | None
    email: str
    detail: str = ""
    permanent: bool = True


def _find(event: Event) -> Recipient | None:
    found = None
    if event.recipient_id is not None:
        found = Recipient.objects.filter(pk=event.recipient_id).first()
    if found is None and event.message_id:
        found = Recipient.objects.filter(message_id=event.message_id).first()
    if found is not None and event.email and found.email != event.email.lower():
        return None  # an id of another letter: trust nothing
    return found


@transaction.atomic
def apply(event: Event) -> bool:
    """Record a provider's or mail server's report; False when no letter of ours matches."""
    recipient = _find(event)
    if recipient is None:
        return False
    now = timezone.now()
    mine = Recipient.objects.filter(pk=recipient.pk)
    if event.kind == "delivered":
        mine.filter(delivered_at__isnull=True).update(delivered_at=now)
    elif event.kind == "opened":
        mine.filter(opened_at__isnull=True).update(opened_at=now)
    elif event.kind == "clicked":
        mine.filter(clicked_at__isnull=True).update(clicked_at=now, opened_at=now)
    elif event.kind == "bounced" and event.permanent:
        mine.filter(bounced_at__isnull=True).update(
            bounced_at=now, bounce_detail=event.detail[:500]
        )
        _suppress(recipient, Suppression.Reason.BOUNCED, event.detail)
    elif event.kind == "bounced":
        mine.filter(soft_bounced_at__isnull=True).update(
            soft_bounced_at=now, bounce_detail=event.detail[:500]
        )
        _count_soft_bounces(recipient, event.detail)
    elif event.kind == "complained":
        mine.filter(complained_at__isnull=True).update(complained_at=now)
        _suppress(recipient, Suppression.Reason.COMPLAINED, event.detail)
        withdraw_all(email=recipient.email, contact_id=recipient.contact_id)
    elif event.kind == "unsubscribed":
        mine.filter(unsubscribed_at__isnull=True).update(unsubscribed_at=now)
        _suppress(recipient, Suppression.Reason.UNSUBSCRIBED)
        withdraw_all(email=recipient.email, contact_id=recipient.contact_id)
    return True


def _count_soft_bounces(recipient: Recipient, detail: str) -> None:
    """Suppress the address once ``soft_bounce_limit()`` letters to it came back "try later"
    within ``soft_bounce_window()`` with no sign of a letter getting through since the first
    of them (delivered, opened or clicked: a letter that arrived resets the count)."""
    address = recipient.email.lower()
    letters = Recipient.objects.filter(email=address)
    arrived = letters.aggregate(last=Max(Greatest("delivered_at", "opened_at", "clicked_at")))[
        "last"
    ]
    since = timezone.now() - soft_bounce_window()
    if arrived is not None and arrived > since:
        since = arrived
    bounced = letters.filter(soft_bounced_at__gt=since).count()
    if bounced >= soft_bounce_limit():
        _suppress(recipient, Suppression.Reason.SOFT_BOUNCED, detail)


def _bounce_codes(message: email.message.Message) -> dict[str, tuple[str, str]]:
    """address → (status, diagnostic) of each recipient block of the report's
    message/delivery-status parts (RFC 3464)."""
    found: dict[str, tuple[str, str]] = {}
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks: Any = part.get_payload()
        if isinstance(blocks, str):
            blocks = [email.message_from_string(b) for b in blocks.split("\n\n")]
        for block in blocks if isinstance(blocks, list) else []:
            named = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            address = named.split(";", 1)[-1].strip().strip("<>").lower()
            if address:
                status = str(block.get("Status", "")).strip()
                found[address] = (status, str(block.get("Diagnostic-Code", "")).strip())
    return found


def _is_soft(status: str) -> bool:
    """A temporary failure (4.x.x) or a full mailbox (x.2.2, which servers report both ways
    and providers count as soft): worth another letter next time."""
    return status.startswith("4.") or status.endswith(".2.2")


def bounces_in(raw: bytes) -> list[Event]:
    """A delivery status notification (RFC 3464, or one of the shapes mail servers use
    instead) that came back to the sending mailbox: the addresses that failed, as
    flufl.bounce (GNU Mailman's detectors) reads them, hard or soft (a delayed delivery, a
    4.x.x status, a full mailbox), tied to our letter by the original's Message-ID when the
    report quotes it."""
    from flufl.bounce import all_failures

    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    temporary, permanent = (
        {a.decode() if isinstance(a, bytes) else str(a) for a in found}
        for found in all_failures(message)
    )
    if not temporary and not permanent:
        return []
    quoted = _original_message_id(message)
    codes = _bounce_codes(message)
    events = []
    for address in sorted(temporary | permanent):
        status, diagnostic = codes.get(address.lower(), ("", ""))
        soft = address in temporary or _is_soft(status)
        events.append(
            Event(
                kind="bounced",
                message_id=quoted,
                recipient_id=None,
                email=address.lower(),
                detail=" ".join(("DSN", status, diagnostic)).strip()[:500],
                permanent=not soft,
            )
        )
    return events


def _original_message_id(message: email.message.Message) -> str:
    for part in message.walk():
        if part.get_content_type() in {
            "message/rfc822",
            "text/rfc822-headers",
            "message/rfc822-headers",
        }:
            payload: Any = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, email.message.Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
            if isinstance(payload, str):
                for line in payload.splitlines():
                    if line.lower().startswith("message-id:"):
                        return line.split(":", 1)[1].strip()
    return ""


def apply_bounce_report(raw: bytes) -> int:
    """Apply a DSN: a failed address is matched to our letter by the quoted Message-ID, or,
    without one, to the latest letter sent to that address. Returns how many were marked."""
    marked = 0
    for event in bounces_in(raw):
        if (
            not event.message_id
            or not Recipient.objects.filter(message_id=event.message_id).exists()
        ):
            latest = (
                Recipient.objects.filter(email=event.email, status=Recipient.Status.SENT)
                .order_by("-sent_at", "-pk")
                .first()
            )
            if latest is None:
                continue
            event.recipient_id = latest.pk
        marked += apply(event)
    return marked
