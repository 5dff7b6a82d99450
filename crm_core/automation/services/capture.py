"""Requests from customers, whatever the channel: checked, rate-limited, matched, assigned.

A channel (the hosted/embedded web form, the JSON API; e-mail or IMAP later) turns what it
received into an ``Inbound`` and calls ``receive``. Everything after that is common: the spam
trap, the limits, the checks, finding the existing client, choosing the manager, and making a
request in the inbox or a deal at the first stage. Every request that passes the spam checks is
kept as a ``CapturedRequest`` — with its errors when refused — so nothing sent is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_core import signals
from crm_core.automation.models import AutomationSettings, CapturedRequest, RequestForm
from crm_core.automation.services.notify import is_active_member, notify
from crm_core.models import (
    Activity,
    Client,
    Contact,
    Deal,
    Employee,
    Lead,
    Phone,
    Pipeline,
    Stage,
    StageChange,
)
from crm_core.names import deal_title
from crm_core.normalise import PhoneNumber, parse_phone
from tenants.models import Company, Membership

# Keys the CRM understands; any other key the admin adds is kept with the message.
STANDARD_FIELDS = {
    # A person's name: "Name" alone reads as "Название" (of a thing) in Russian.
    "name": gettext_lazy("Your name"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("E-mail"),
    "company": gettext_lazy("Company"),
    "message": gettext_lazy("Message"),
}
DEFAULT_FIELDS = [
    {"key": "name", "label": "", "required": True},
    {"key": "phone", "label": "", "required": False},
    {"key": "email", "label": "", "required": False},
    {"key": "message", "label": "", "required": False},
]
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_VALUE = 2000


@dataclass(frozen=True)
class Channel:
    code: str
    label: str | Promise


CHANNELS: dict[str, Channel] = {}


def register_channel(code: str, label: str | Promise) -> Channel:
    """Make a channel known (the web form and the API now; e-mail/IMAP can register later)."""
    channel = Channel(code, label)
    CHANNELS[code] = channel
    return channel


WEB_FORM = register_channel("web_form", gettext_lazy("Web form"))
API = register_channel("api", "API")


@dataclass
class Inbound:
    values: dict[str, str]
    page_url: str = ""
    referrer: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    ip: str = ""
    honeypot: str = ""


class RefusedError(Exception):
    """The request was not taken. ``code``: closed, spam, rate_limited or invalid."""

    def __init__(self, code: str, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or {}


def label_of(spec: dict[str, Any]) -> str:
    return str(spec.get("label") or STANDARD_FIELDS.get(spec["key"], spec["key"]))


def fields_of(form: RequestForm) -> list[dict[str, Any]]:
    return form.fields or DEFAULT_FIELDS


def _within(key: str, limit: int, window: int = 3600) -> bool:
    # A fixed window per hour; the cache key function adds the company's schema.
    bucket = f"automation:rate:{key}:{int(time.time() // window)}"
    try:
        count = cache.incr(bucket)
    except ValueError:
        cache.add(bucket, 0, timeout=window + 60)
        try:
            count = cache.incr(bucket)
        except ValueError:
            return True  # the cache is down: take the request rather than lose it
    return count <= limit


def region_of(company: Company) -> str:
    return {"KZT": "KZ", "BYN": "BY", "UZS": "UZ"}.get(company.currency, "RU")


def clean(
    form: RequestForm, values: dict[str, str], region: str
) -> tuple[dict[str, str], PhoneNumber | None, dict[str, list[str]]]:
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    phone: PhoneNumber | None = None
    for spec in fields_of(form):
        key = spec["key"]
        raw = values.get(key, "")
        value = raw.strip() if isinstance(raw, str) else str(raw).strip()
        if len(value) > MAX_VALUE:
            errors[key] = [_("Too long: at most %(n)s characters.") % {"n": MAX_VALUE}]
            continue
        if not value:
            if spec.get("required"):
                errors[key] = [_("Fill in “%(label)s”.") % {"label": label_of(spec)}]
            continue
        if key == "email":
            try:
                validate_email(value)
            except ValidationError:
                errors[key] = [_("%(value)s is not an e-mail address.") % {"value": value}]
                continue
            value = value.lower()
        if key == "phone":
            try:
                phone = parse_phone(value, region=region)
            except ValidationError as exc:
                errors[key] = list(exc.messages)
                continue
        cleaned[key] = value
    if not errors and not (cleaned.get("phone") or cleaned.get("email")):
        errors["phone"] = [_("Leave a phone number or an e-mail so that we can answer.")]
    return cleaned, phone, errors


def receive(
    *, company: Company, form: RequestForm, channel: Channel, inbound: Inbound
) -> CapturedRequest:
    """Take one request, or raise ``RefusedError`` with a message for the sender."""
    if not form.is_active:
        raise RefusedError("closed", _("This form no longer accepts requests."))
    if inbound.honeypot:
        # Not stored and not counted: a bot filled the field people cannot see.
        raise RefusedError("spam", _("Thank you!"))
    if not _within(f"ip:{form.pk}:{inbound.ip}", form.per_ip_per_hour) or not _within(
        f"form:{form.pk}", form.per_form_per_hour
    ):
        raise RefusedError(
            "rate_limited", _("Too many requests from here. Please try again in an hour.")
        )
    source = {
        "channel": channel.code,
        "form": form.pk,
        "page_url": inbound.page_url[:1000],
        "referrer": inbound.referrer[:1000],
        "ip": inbound.ip,
        **{k: v[:200] for k, v in inbound.utm.items() if k in UTM_KEYS and v},
    }
    payload = {str(k)[:60]: str(v)[:MAX_VALUE] for k, v in list(inbound.values.items())[:50]}
    values, phone, errors = clean(form, inbound.values, region_of(company))
    if errors:
        CapturedRequest.objects.create(
            form=form,
            channel=channel.code,
            payload=payload,
            source=source,
            status=CapturedRequest.Status.INVALID,
            errors=errors,
        )
        raise RefusedError("invalid", _("Please correct the fields marked."), errors)
    try:
        return _create(company, form, channel, values, phone, source, payload)
    except RefusedError as exc:
        # The company's set-up is at fault (no pipeline): keep the request for the admin.
        CapturedRequest.objects.create(
            form=form,
            channel=channel.code,
            payload=payload,
            source=source,
            status=CapturedRequest.Status.INVALID,
            errors={"__all__": [exc.message]},
        )
        raise


@transaction.atomic
def _create(  # noqa: PLR0917  (one private step of receive)
    company: Company,
    form: RequestForm,
    channel: Channel,
    values: dict[str, str],
    phone: PhoneNumber | None,
    source: dict[str, Any],
    payload: dict[str, str],
) -> CapturedRequest:
    # What is written (source, deal title, notes, notifications) is read by the company's
    # members, in the company's language — not in the visitor's browser's.
    with translation.override(company.language or "ru"):
        repeat = _open_deal_of_repeat(phone, values.get("email", ""))
        if repeat is not None:
            return _join(company, form, channel, values, repeat, source, payload)
        return _create_new(company, form, channel, values, phone, source, payload)


def _lock_sender(phone: PhoneNumber | None, email: str) -> None:
    """Serialise requests from one person (per company schema) until the transaction ends, so
    that two sent at the same moment do not both open a deal."""
    keys = sorted(k for k in (phone.e164 if phone else "", email.lower()) if k)
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                [f"request:{getattr(connection, 'schema_name', '')}:{key}"],
            )


def _open_deal_of_repeat(phone: PhoneNumber | None, email: str) -> Deal | None:
    """The open deal an earlier request from the same phone or e-mail made or joined within
    the company's repeat window (``AutomationSettings.repeat_window_minutes``; 0: never)."""
    window = AutomationSettings.current().repeat_window_minutes
    if not window or (phone is None and not email):
        return None
    _lock_sender(phone, email)
    same = Q()
    if phone is not None:
        same |= Q(deal__client__phones__e164=phone.e164)
        same |= Q(deal__client__contacts__phones__e164=phone.e164)
    if email:
        same |= Q(email__iexact=email)
    lead = (
        Lead.objects.filter(same)
        .filter(
            created_at__gte=timezone.now() - timedelta(minutes=window),
            deal__isnull=False,
            deal__closed_at__isnull=True,
            deal__stage__outcome=Stage.Outcome.OPEN,
        )
        .select_related("deal")
        .order_by("-created_at", "-id")
        .first()
    )
    return lead.deal if lead is not None else None


def _join(  # noqa: PLR0917  (one private step of receive)
    company: Company,
    form: RequestForm,
    channel: Channel,
    values: dict[str, str],
    deal: Deal,
    source: dict[str, Any],
    payload: dict[str, str],
) -> CapturedRequest:
    """A repeat request: kept as a request linked to the open deal, noted on the deal, and its
    manager told — no second deal, so no second call-back task from the stage rules."""
    message = _message(form, values)
    label = _source_label(channel, form, source)
    lead = Lead.objects.create(
        name=_name_of(values)[:300],
        company_name=values.get("company", "")[:300],
        phone=values.get("phone", "")[:100],
        email=values.get("email", "")[:254],
        message=message,
        source=label,
        utm=source,
        status=Lead.Status.CONVERTED,
        responsible_id=deal.responsible_id,
        deal=deal,
    )
    Activity.objects.create(
        kind=Activity.Kind.NOTE,
        deal=deal,
        client=deal.client,
        summary=_("Repeat request from %(source)s") % {"source": label},
        body=message,
    )
    captured = CapturedRequest.objects.create(
        form=form,
        channel=channel.code,
        payload=payload,
        source=source,
        status=CapturedRequest.Status.CREATED,
        lead=lead,
        deal=deal,
    )
    notify(
        company,
        deal.responsible_id,
        _("Repeat request: %(name)s") % {"name": lead.name},
        f"/deals/{deal.pk}/",
    )
    return captured


def _source_label(channel: Channel, form: RequestForm, source: dict[str, Any]) -> str:
    return str(source.get("utm_source") or f"{channel.label}: {form.name}")[:100]


def _name_of(values: dict[str, str]) -> str:
    return values.get("name") or values.get("company") or values.get("phone") or values["email"]


def _create_new(  # noqa: PLR0917  (one private step of receive)
    company: Company,
    form: RequestForm,
    channel: Channel,
    values: dict[str, str],
    phone: PhoneNumber | None,
    source: dict[str, Any],
    payload: dict[str, str],
) -> CapturedRequest:
    client = find_client(phone=phone, email=values.get("email", ""))
    responsible = choose_manager(company, form, client)
    message = _message(form, values)
    label = _source_label(channel, form, source)
    name = _name_of(values)
    lead = Lead.objects.create(
        name=name[:300],
        company_name=values.get("company", "")[:300],
        phone=values.get("phone", "")[:100],
        email=values.get("email", "")[:254],
        message=message,
        source=label,
        utm=source,
        responsible_id=responsible,
    )
    deal = None
    if form.target == RequestForm.Target.DEAL:
        deal = _deal(form, lead, client, phone, responsible)
    captured = CapturedRequest.objects.create(
        form=form,
        channel=channel.code,
        payload=payload,
        source=source,
        status=CapturedRequest.Status.CREATED,
        lead=lead,
        deal=deal,
    )
    signals.lead_received.send(Lead, lead=lead, membership=None)
    if deal is not None:
        signals.deal_created.send(Deal, deal=deal, membership=None)
    notify(
        company,
        responsible,
        _("New request: %(name)s") % {"name": lead.name},
        f"/deals/{deal.pk}/" if deal is not None else "/leads/",
    )
    return captured


def _message(form: RequestForm, values: dict[str, str]) -> str:
    extra = [
        f"{label_of(spec)}: {values[spec['key']]}"
        for spec in fields_of(form)
        if spec["key"] not in STANDARD_FIELDS and values.get(spec["key"])
    ]
    return "\n".join([values.get("message", ""), *extra]).strip()


def find_client(*, phone: PhoneNumber | None, email: str) -> Client | None:
    """The client this person already is, by phone (E.164) or e-mail, across the whole company."""
    match = Q()
    if phone is not None:
        match |= Q(phones__e164=phone.e164) | Q(contacts__phones__e164=phone.e164)
    if email:
        match |= Q(contacts__emails__contains=[email.lower()])
    if not match:
        return None
    return Client.objects.filter(match).order_by("id").first()


def choose_manager(company: Company, form: RequestForm, client: Client | None) -> int | None:
    rules: list[Callable[[], int | None]] = []
    if form.assign == RequestForm.Assign.CLIENT_MANAGER:
        rules.append(lambda: client.responsible_id if client else None)
    if form.assign == RequestForm.Assign.ROUND_ROBIN:
        rules.append(lambda: _next_in_turn(company, form))
    rules.append(lambda: form.assignee_id)
    for rule in rules:
        user_id = rule()
        if user_id and is_active_member(company, user_id):
            return user_id
    # Nobody chosen or they left: the owner gets it rather than nobody.
    return (
        Membership.objects.filter(company=company, role=Membership.Role.OWNER, is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )


def _next_in_turn(company: Company, form: RequestForm) -> int | None:
    """The next member of the team, in turn. The form's row lock makes two simultaneous requests
    take consecutive turns instead of the same one."""
    if form.team_id is None:
        return None
    locked = RequestForm.objects.select_for_update().get(pk=form.pk)
    team = set(Employee.objects.filter(team_id=form.team_id).values_list("user_id", flat=True))
    members = sorted(
        Membership.objects.filter(company=company, user_id__in=team, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    if not members:
        return None
    RequestForm.objects.filter(pk=form.pk).update(turn=F("turn") + 1)
    return members[locked.turn % len(members)]


def _deal(
    form: RequestForm,
    lead: Lead,
    client: Client | None,
    phone: PhoneNumber | None,
    responsible: int | None,
) -> Deal:
    pipeline = form.pipeline or Pipeline.objects.order_by("-is_default", "position", "id").first()
    if pipeline is None:
        raise RefusedError("invalid", _("The company has no pipeline for requests yet."))
    stage = pipeline.stages.order_by("position", "id").first()
    if stage is None:
        raise RefusedError("invalid", _("The pipeline has no stages yet."))
    if client is None:
        client = _new_client(lead, phone, responsible)
    first_line = lead.message.splitlines()[0] if lead.message else ""
    title = deal_title(lead.name)
    deal = Deal.objects.create(
        title=(f"{title}: {first_line}" if first_line else title)[:120],
        pipeline=pipeline,
        stage=stage,
        client=client,
        source=lead.source,
        responsible_id=responsible,
    )
    StageChange.objects.create(deal=deal, from_stage=None, to_stage=stage)
    Activity.objects.create(
        kind=Activity.Kind.NOTE,
        deal=deal,
        client=client,
        summary=_("Request from %(source)s") % {"source": lead.source},
        body=lead.message,
    )
    lead.status = Lead.Status.CONVERTED
    lead.deal = deal
    lead.save(update_fields=["status", "deal"])
    return deal


def _new_client(lead: Lead, phone: PhoneNumber | None, responsible: int | None) -> Client:
    """A client made from the request, as crm_core's create_client makes one (no member acted)."""
    client = Client.objects.create(
        kind=Client.Kind.LEGAL_ENTITY if lead.company_name else Client.Kind.PERSON,
        name=lead.company_name or lead.name,
        source=lead.source,
        responsible_id=responsible,
    )
    contact = None
    if lead.company_name or lead.email:
        last, _sep, first = lead.name.strip().partition(" ")
        contact = Contact.objects.create(
            client=client,
            last_name=last[:100],
            first_name=first[:100],
            emails=[lead.email] if lead.email else [],
            responsible_id=responsible,
        )
    if phone is not None:
        Phone.objects.create(
            client=client if contact is None else None,
            contact=contact,
            e164=phone.e164,
            extension=phone.extension,
            raw=phone.raw,
        )
    Activity.objects.create(kind=Activity.Kind.NOTE, client=client, summary=_("Client created"))
    signals.client_created.send(Client, client=client, membership=None)
    return client
