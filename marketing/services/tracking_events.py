"""Reports about letters from outside: anymail's normalised webhook events and delivery
status notifications that came back to the sending mailbox."""

from __future__ import annotations

import email
from typing import Any

from marketing.services.tracking import Event, apply, apply_bounce_report

ANYMAIL_KINDS = {
    "delivered": "delivered",
    "bounced": "bounced",
    "rejected": "bounced",
    # A letter the receiving server refused "for now" (Mailgun's temporary failure,
    # Unisender Go's soft bounce, SendGrid's deferral): a soft bounce.
    "deferred": "bounced",
    "complained": "complained",
    "opened": "opened",
    "clicked": "clicked",
    "unsubscribed": "unsubscribed",
}


def apply_anymail(event: Any) -> bool:
    kind = ANYMAIL_KINDS.get(str(event.event_type))
    if kind is None:
        return False
    metadata = event.metadata or {}
    try:
        named = metadata.get("recipient")
        recipient_id = int(str(named)) if named else None
    except (TypeError, ValueError):
        recipient_id = None
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    # A soft bounce (a full mailbox) is worth another try next time: counted, and only
    # several in a row suppress the address (tracking.apply).
    permanent = str(event.event_type) != "deferred" and str(
        raw.get("Type", raw.get("event", ""))
    ) not in {"SoftBounce", "soft_bounce"}
    return apply(
        Event(
            permanent=permanent,
            kind=kind,
            message_id=str(event.message_id or "")[:300],
            recipient_id=recipient_id,
            email=str(event.recipient or ""),
            detail=str(event.description or event.mta_response or "")[:500],
        )
    )


def apply_if_bounce_report(raw: bytes) -> int:
    head = email.message_from_bytes(raw[:65536])
    kind = head.get_content_type()
    sender = str(head.get("From", "")).lower()
    if kind != "multipart/report" and "mailer-daemon" not in sender and "postmaster" not in sender:
        return 0
    return apply_bounce_report(raw)
