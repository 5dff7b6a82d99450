"""Campaigns: written (subject and blocks), tested, scheduled or sent now, cancelled.

Sending first puts every recipient in the queue in one statement (INSERT … SELECT from the
audience query: 50,000 rows in a second or two, nothing half-written), then the worker sends
them at the company's rate (``marketing.services.delivery``). Queueing is idempotent: a
recipient is queued once per campaign and address."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crm_core.access import require_write
from marketing.models import Campaign, Recipient, Segment
from marketing.services.audience import audience
from marketing.services.letters import clean_blocks, unknown_placeholders
from relata.db import connection
from tenants.models import Membership

EDITABLE = {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}


def _cost(value: Any) -> Decimal:
    try:
        cost = Decimal(str(value or "0").replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValidationError({"cost": _("Write the cost as a number.")}) from None
    if cost < 0 or cost >= Decimal("1e12"):
        raise ValidationError({"cost": _("The cost must be between 0 and 999,999,999,999.")})
    return cost.quantize(Decimal("0.01"))


@transaction.atomic
def save_campaign(
    *,
    membership: Membership,
    campaign: Campaign | None,
    name: str,
    subject: str,
    blocks: Any,
    segment: Segment | None,
    cost: Any = 0,
    utm_campaign: str = "",
) -> Campaign:
    """A new campaign or changes to one not yet sent."""
    require_write(membership)
    if campaign is not None and campaign.status not in EDITABLE:
        raise ValidationError(_("A campaign that went out is not changed."))
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Give the campaign a name.")
    if not subject.strip():
        errors["subject"] = _("Write the subject.")
    elif unknown := unknown_placeholders(subject):
        errors["subject"] = _("Unknown placeholder %(names)s.") % {
            "names": ", ".join("{" + name + "}" for name in unknown)
        }
    if errors:
        raise ValidationError(errors)
    cleaned = clean_blocks(blocks)
    if campaign is None:
        campaign = Campaign(created_by_id=membership.user_id)
    campaign.name = name.strip()[:200]
    campaign.subject = subject.strip()[:300]
    campaign.blocks = cleaned
    campaign.segment = segment
    campaign.cost = _cost(cost)
    campaign.utm_campaign = slugify(utm_campaign)[:100]
    campaign.save()
    if not campaign.utm_campaign:
        campaign.utm_campaign = f"campaign-{campaign.pk}"
        campaign.save(update_fields=["utm_campaign"])
    return campaign


def set_cost(*, membership: Membership, campaign: Campaign, cost: Any) -> None:
    """The cost may be corrected after sending (the invoice came later)."""
    require_write(membership)
    Campaign.objects.filter(pk=campaign.pk).update(cost=_cost(cost))


def _ready(campaign: Campaign) -> None:
    if campaign.status not in EDITABLE:
        raise ValidationError(_("This campaign has already gone out."))
    if campaign.segment_id is None:
        raise ValidationError(_("Choose whom to send it to (a segment)."))
    from marketing.services.channel import sending_settings

    sending_settings().check_ready()


@transaction.atomic
def schedule(
    *, membership: Membership, campaign: Campaign, when: dt.datetime, base_url: str
) -> None:
    require_write(membership)
    _ready(campaign)
    if when <= timezone.now():
        raise ValidationError({"scheduled_at": _("Choose a moment in the future.")})
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SCHEDULED,
        scheduled_at=when,
        sent_by=membership.user_id,
        base_url=base_url,
    )


CANCELLABLE = {Campaign.Status.SCHEDULED, Campaign.Status.SENDING, Campaign.Status.STOPPED}


@transaction.atomic
def cancel(*, membership: Membership, campaign: Campaign) -> None:
    """Stop a scheduled, sending or stopped campaign; letters gone stay gone, the rest are
    not sent."""
    require_write(membership)
    if campaign.status not in CANCELLABLE:
        raise ValidationError(_("Only a scheduled or sending campaign is cancelled."))
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.CANCELLED, finished_at=timezone.now()
    )
    Recipient.objects.filter(campaign=campaign, status=Recipient.Status.QUEUED).update(
        status=Recipient.Status.SKIPPED, error=_("The campaign was cancelled.")
    )


def give_up(campaign_id: int, reason: str) -> bool:
    """The worker could not hand the letters over after all its tries: the campaign stops
    with the reason, its queue kept as it is (``resume`` goes on from there). False when it
    was no longer sending (cancelled meanwhile)."""
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.STOPPED, stopped_reason=reason[:500]
        )
    )


@transaction.atomic
def resume(*, membership: Membership, campaign: Campaign) -> int:
    """Send a stopped campaign on: only its letters still queued go, each once (a letter is
    marked sent as it goes, and batches lock theirs with SKIP LOCKED), so nobody gets it
    twice. Returns how many are still to go; the caller hands it to the worker."""
    require_write(membership)
    if campaign.status != Campaign.Status.STOPPED:
        raise ValidationError(_("Only a stopped campaign is resumed."))
    from marketing.services.channel import sending_settings

    sending_settings().check_ready()
    changed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.STOPPED).update(
        status=Campaign.Status.SENDING, stopped_reason=""
    )
    if not changed:  # a second click a moment later: the first one resumed it
        raise ValidationError(_("Only a stopped campaign is resumed."))
    return Recipient.objects.filter(campaign=campaign, status=Recipient.Status.QUEUED).count()


def start(*, membership: Membership, campaign: Campaign, base_url: str) -> int:
    """Queue the campaign's recipients now and mark it sending; returns how many were queued.
    The caller hands the campaign to the worker (``tasks.send_campaign``)."""
    require_write(membership)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _ready(locked)
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.SENDING,
            started_at=timezone.now(),
            sent_by=membership.user_id,
            base_url=base_url or locked.base_url,
        )
        return queue(membership, locked)


def queue(membership: Membership, campaign: Campaign) -> int:
    """INSERT … SELECT of the audience into the recipients, in the company's schema (the
    search_path); a second run adds nobody twice."""
    if campaign.segment is None:
        return 0
    people = audience(membership, campaign.segment).values_list("pk", "emails__0")
    sql, params = people.query.sql_with_params()
    table = Recipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "
            "(campaign_id, contact_id, email, status, message_id, error, bounce_detail) "
            f"SELECT %s, people.id, lower(people.email), %s, '', '', '' "
            f"FROM ({sql}) AS people(id, email) "
            "ON CONFLICT (campaign_id, email) DO NOTHING",
            [campaign.pk, Recipient.Status.QUEUED, *params],
        )
        return int(cursor.rowcount)


def due_campaigns() -> list[int]:
    """Scheduled campaigns whose moment has come (beat looks every minute)."""
    return list(
        Campaign.objects.filter(
            status=Campaign.Status.SCHEDULED, scheduled_at__lte=timezone.now()
        ).values_list("pk", flat=True)
    )


def start_scheduled(campaign_id: int) -> int:
    """The scheduled campaign goes out as the member who scheduled it (their visibility
    chooses the audience, as if they pressed Send then); 0 when they left the company."""
    campaign = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SCHEDULED).first()
    if campaign is None:
        return 0
    company = getattr(connection, "tenant", None)
    membership = (
        Membership.objects.select_related("user", "company")
        .filter(company_id=company.pk, user_id=campaign.sent_by_id, is_active=True)
        .first()
        if company is not None and campaign.sent_by_id
        else None
    )
    if membership is None:
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
        return 0
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DRAFT)
    campaign.status = Campaign.Status.DRAFT
    try:
        return start(membership=membership, campaign=campaign, base_url=campaign.base_url)
    except (ValidationError, PermissionDenied):
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
        return 0
