"""Sending a campaign's queued letters at the company's rate, and the test letter.

Each batch takes up to ``rate_per_minute / 6`` queued recipients (at least one) every ten
seconds — so the configured rate is never exceeded whatever the number of workers — locking
them (FOR UPDATE SKIP LOCKED) so that a second worker takes others, and marks each letter as it
goes. Just before a letter goes, the address is checked again: an unsubscribe, a bounce or a
withdrawn consent that arrived after queueing wins. A worker killed mid-batch loses only its
transaction: the unmarked letters are still queued (a letter the server took just before the
kill may go twice — SMTP gives no way to ask)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.models import Contact
from marketing import tokens
from marketing.models import Campaign, CampaignLink, Recipient, SendingSettings, Suppression
from marketing.services.channel import ChannelError, Outbox, from_address, outbox, sending_settings
from marketing.services.consent import with_consent
from marketing.services.letters import Letter, render, values_for
from tenants.models import Company

log = logging.getLogger(__name__)


def tick_seconds() -> float:
    """How often a sending campaign sends a batch (settings.MARKETING_TICK_SECONDS)."""
    return float(getattr(settings, "MARKETING_TICK_SECONDS", 10))


def batch_size(rate_per_minute: int) -> int:
    return max(1, math.floor(max(rate_per_minute, 1) * tick_seconds() / 60))


def _links(campaign: Campaign) -> dict[str, int]:
    """Every button's link of the campaign, by address → id (made once, reused by batches)."""
    urls = {b["url"] for b in campaign.blocks if b.get("kind") == "button" and b.get("url")}
    for url in urls:
        CampaignLink.objects.get_or_create(campaign=campaign, url=url)
    return dict(CampaignLink.objects.filter(campaign=campaign).values_list("url", "pk"))


def public_url(campaign: Campaign, name: str, token: str) -> str:
    return campaign.base_url.rstrip("/") + reverse(name, args=[token])


@dataclass
class Built:
    message: EmailMultiAlternatives
    letter: Letter


def build(
    *,
    company: Company,
    campaign: Campaign,
    s: SendingSettings,
    recipient: Recipient | None,
    contact: Contact | None,
    to: str,
    links: dict[str, int],
) -> Built:
    """One letter: the tracked links and unsubscribe address are the recipient's own (a test
    letter's links are the plain ones, its unsubscribe a page that says it is a test)."""
    if recipient is not None:
        rid = recipient.pk

        def link_for(url: str) -> str:
            return public_url(campaign, "marketing_click", tokens.make("click", rid, links[url]))

        unsubscribe = public_url(campaign, "marketing_unsubscribe", tokens.make("unsubscribe", rid))
        pixel = public_url(campaign, "marketing_open", tokens.make("open", rid))
    else:

        def link_for(url: str) -> str:
            return url

        unsubscribe = public_url(campaign, "marketing_unsubscribe", "test")
        pixel = ""
    language = company.language or "ru"
    letter = render(
        subject=campaign.subject,
        blocks=campaign.blocks,
        values=values_for(contact, language),
        link_for=link_for,
        unsubscribe_url=unsubscribe,
        open_pixel_url=pixel,
        company_name=company.name,
        language=language,
    )
    name, address = from_address(s)
    sender = f"{name} <{address}>" if name else address
    headers = {
        # RFC 2369 and RFC 8058: mail programs show "Unsubscribe" and POST to it in one click.
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Message-ID": make_msgid(domain=address.rsplit("@", 1)[-1] or "relata.local"),
        "Precedence": "bulk",
    }
    message = EmailMultiAlternatives(
        subject=letter.subject, body=letter.text, from_email=sender, to=[to], headers=headers
    )
    message.attach_alternative(letter.html, "text/html")
    if recipient is not None and s.channel == SendingSettings.Channel.PROVIDER:
        message.metadata = {"recipient": str(recipient.pk), "campaign": str(campaign.pk)}  # type: ignore[attr-defined]
        # Our links go through the company host; the provider's own rewriting stays off.
        message.track_clicks = False  # type: ignore[attr-defined]
    return Built(message=message, letter=letter)


def send_test(*, company: Company, campaign: Campaign, to: str, base_url: str) -> None:
    """The letter as the first of the segment would get it, to one address (no tracking)."""
    from django.core.validators import validate_email

    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError(
            {"to": _("%(value)s is not an e-mail address.") % {"value": to}}
        ) from None
    s = sending_settings()
    s.check_ready()
    campaign.base_url = campaign.base_url or base_url
    built = build(
        company=company,
        campaign=campaign,
        s=s.settings,
        recipient=None,
        contact=None,
        to=to,
        links={},
    )
    built.message.subject = "[TEST] " + built.message.subject
    with outbox(s.settings) as box:
        box.send(built.message)


def _still_allowed(ids: list[int]) -> set[int]:
    """Of these queued recipients, the ones whose address is not suppressed and whose person
    still has a consent in force (checked again at the moment of sending)."""
    contacts = with_consent(
        Contact.objects.filter(pk__in=Recipient.objects.filter(pk__in=ids).values("contact_id"))
    ).values("pk")
    suppressed = Suppression.objects.filter(email=OuterRef("email"))
    return set(
        Recipient.objects.filter(pk__in=ids, contact_id__in=contacts)
        .exclude(Exists(suppressed))
        .values_list("pk", flat=True)
    )


@dataclass
class BatchResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    left: int = 0
    error: str = ""


def send_batch(company: Company, campaign_id: int) -> BatchResult:
    """One batch of the campaign; ``left``: how many are still queued after it."""
    result = BatchResult()
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        return result
    s = sending_settings().settings
    links = _links(campaign)
    with transaction.atomic():
        chosen = list(
            Recipient.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign, status=Recipient.Status.QUEUED)
            .order_by("pk")[: batch_size(s.rate_per_minute)]
        )
        allowed = _still_allowed([r.pk for r in chosen])
        skipped = [r.pk for r in chosen if r.pk not in allowed]
        if skipped:
            Recipient.objects.filter(pk__in=skipped).update(
                status=Recipient.Status.SKIPPED, error=_("Unsubscribed or no consent by then.")
            )
            result.skipped = len(skipped)
        going = [r for r in chosen if r.pk in allowed]
        contacts = Contact.objects.select_related("client").in_bulk(
            [r.contact_id for r in going if r.contact_id]
        )
        if going:
            try:
                with outbox(s) as box:
                    for recipient in going:
                        _one(box, company, campaign, s, recipient, contacts, links, result)
            except ChannelError as exc:
                # The server is unreachable: the letters stay queued for the next batch.
                result.error = str(exc)
                log.warning("campaign batch not sent", extra={"campaign": campaign.pk})
    result.left = Recipient.objects.filter(
        campaign=campaign, status=Recipient.Status.QUEUED
    ).count()
    if result.left == 0:
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now()
        )
    return result


def _one(  # noqa: PLR0917  (one step of send_batch)
    box: Outbox,
    company: Company,
    campaign: Campaign,
    s: SendingSettings,
    recipient: Recipient,
    contacts: dict[int, Contact],
    links: dict[str, int],
    result: BatchResult,
) -> None:
    built = build(
        company=company,
        campaign=campaign,
        s=s,
        recipient=recipient,
        contact=contacts.get(recipient.contact_id or 0),
        to=recipient.email,
        links=links,
    )
    try:
        provider_id = box.send(built.message)
    except ValidationError as exc:
        Recipient.objects.filter(pk=recipient.pk).update(
            status=Recipient.Status.FAILED, error="; ".join(exc.messages)[:500]
        )
        result.failed += 1
        return
    Recipient.objects.filter(pk=recipient.pk).update(
        status=Recipient.Status.SENT,
        sent_at=timezone.now(),
        message_id=(provider_id or str(built.message.extra_headers["Message-ID"]))[:300],
    )
    result.sent += 1
