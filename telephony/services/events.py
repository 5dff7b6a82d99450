"""Taking the PBX's call events: one call row per provider call id, whatever order and however
many times its events arrive, and what an ended call leaves on the card.

``take`` is idempotent: each webhook has a key (the provider's call id and the event), kept in
``CallEvent`` under a unique constraint in the same transaction as everything the event changes,
so a retried or replayed webhook writes nothing, and a failure half-way writes nothing either.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_core import signals
from crm_core.automation.models import RequestForm
from crm_core.automation.services import timers
from crm_core.automation.services.capture import (
    Inbound,
    RefusedError,
    receive,
    region_of,
    register_channel,
)
from crm_core.automation.services.clock import add_working_minutes
from crm_core.automation.services.notify import notify
from crm_core.models import Activity, Client, Contact, Phone, Task
from crm_core.normalise import parse_phone
from crm_core.templatetags.crm_format import phone as phone_text
from telephony.models import Call, CallEvent, Extension, PbxConnection
from telephony.providers.base import (
    ANSWERED,
    ENDED,
    IGNORED,
    MISSED,
    RECORDING,
    RINGING,
    CallUpdate,
)
from telephony.services import popups
from telephony.signals import call_logged
from tenants.models import Company, Membership

log = logging.getLogger("telephony.events")

PHONE = register_channel("phone", translation.gettext_lazy("Phone call"))
TAKEN, DUPLICATE, NOTHING = "taken", "duplicate", "ignored"
MAX_PAYLOAD_KEYS = 60
KEEP_EVENTS_DAYS = 31


def take(
    *,
    company: Company,
    connection: PbxConnection,
    provider: str,
    updates: list[CallUpdate],
    payload: dict[str, Any],
) -> str:
    """Apply a webhook's updates; "duplicate" when it was taken before, "ignored" when it says
    nothing about a customer's call."""
    if not updates:
        return NOTHING
    answers = [_take_one(company, connection, provider, u, payload) for u in updates]
    return answers[0]


def _take_one(
    company: Company,
    connection: PbxConnection,
    provider: str,
    update: CallUpdate,
    payload: dict[str, Any],
) -> str:
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = CallEvent.objects.create(
                    provider=provider,
                    key=update.event_key[:300],
                    kind=update.kind,
                    payload=_bounded(payload),
                )
        except IntegrityError:
            log.info("telephony: %s event %s taken before", provider, update.event_key[:80])
            return DUPLICATE
        # A leg's end says nothing of the call's state, but how it ended (Mango's
        # disconnect_reason) is still noted.
        if update.kind == IGNORED and not update.end_reason:
            return NOTHING
        call = _apply(company, provider, update)
        event.call = call
        event.save(update_fields=["call"])
        if call.finished and call.logged_at is None:
            _log_on_card(company, connection, call)
        elif update.kind == RECORDING and call.activity_id:
            Activity.objects.filter(pk=call.activity_id).update(recording_url=_recording_url(call))
        if update.kind == RINGING and not call.finished:
            transaction.on_commit(lambda: popups.ring(company, call))
    return TAKEN


def _bounded(payload: dict[str, Any]) -> dict[str, Any]:
    return {str(k)[:60]: v for k, v in list(payload.items())[:MAX_PAYLOAD_KEYS]}


def _apply(company: Company, provider: str, update: CallUpdate) -> Call:
    """The call with this update applied; the row is locked until the transaction ends, so two
    events of one call arriving together are applied one after the other."""
    call, created = Call.objects.select_for_update().get_or_create(
        provider=provider,
        external_id=update.external_id[:128],
        defaults={"started_at": update.at or timezone.now()},
    )
    if update.direction and (created or not call.finished):
        call.direction = update.direction
    if update.number and not call.number:
        call.number = normalised(company, update.number)
    if update.line_number and not call.line_number:
        call.line_number = update.line_number[:64]
    if update.extension:
        call.extension = update.extension[:32]
        call.manager_id = (
            Extension.objects.filter(number=call.extension)
            .values_list("user_id", flat=True)
            .first()
        ) or call.manager_id
    if call.client_id is None and call.contact_id is None and call.number:
        call.client, call.contact = caller(call.number)
    if update.duration is not None:
        call.duration_seconds = max(call.duration_seconds, update.duration)
    if update.recording_ref:
        call.recording_ref = update.recording_ref[:1000]
    if update.end_reason:
        call.end_reason = update.end_reason[:16]
    _move_status(call, update)
    call.save()
    return call


def _move_status(call: Call, update: CallUpdate) -> None:
    """Status only moves forward (ringing → answered → ended/missed), so a late event of an
    earlier stage changes nothing."""
    now = update.at or timezone.now()
    if update.kind == ANSWERED and not call.finished:
        call.status = Call.Status.ANSWERED
        call.answered_at = call.answered_at or now
    elif update.kind in {ENDED, MISSED} and not call.finished:
        talked = bool(call.answered_at or call.duration_seconds)
        outgoing = call.direction == Call.Direction.OUTGOING
        if update.kind == ENDED and (talked or outgoing):
            call.status = Call.Status.ENDED
        else:
            call.status = Call.Status.ENDED if talked else Call.Status.MISSED
        call.ended_at = timezone.now()


def normalised(company: Company, number: str) -> str:
    """E.164 when the number parses in the company's region, else its digits as sent."""
    try:
        return parse_phone(number, region=region_of(company)).e164
    except ValidationError:
        return number.strip()[:64]


def caller(number: str) -> tuple[Client | None, Contact | None]:
    """Whose number this is: a contact person's (and their client) or a client's own."""
    phone = (
        Phone.objects.filter(e164=number)
        .select_related("client", "contact__client")
        .order_by("contact_id", "id")
        .first()
    )
    if phone is None:
        return None, None
    if phone.contact is not None:
        return phone.contact.client, phone.contact
    return phone.client, None


def _log_on_card(company: Company, connection: PbxConnection, call: Call) -> None:
    """An ended call on the card (with its talk time and recording); an unknown caller becomes
    a request; a missed call becomes a call-back task with the company's SLA. Once per call."""
    with translation.override(company.language or "ru"):
        unknown = call.client_id is None and call.contact_id is None
        if unknown and call.direction == Call.Direction.INCOMING and call.number:
            _as_request(company, connection, call)
        if call.client_id is not None or call.contact_id is not None:
            call.activity = Activity.objects.create(
                kind=Activity.Kind.CALL,
                client_id=call.client_id,
                contact_id=call.contact_id,
                author_id=call.manager_id,
                summary=f"{summary(call)} · {phone_text(call.number)}"[:300],
                happened_at=call.started_at,
                duration_seconds=call.duration_seconds
                if call.status == Call.Status.ENDED
                else None,
                recording_url=_recording_url(call),
            )
        if call.status == Call.Status.MISSED:
            call.callback_task = _callback_task(company, connection, call)
        call.logged_at = timezone.now()
        call.save(update_fields=["activity", "callback_task", "lead", "client", "logged_at"])
        call_logged.send(Call, company=company, call=call)
    prune_events()


def prune_events(*, batch: int = 500) -> int:
    """Forget a batch of webhooks older than KEEP_EVENTS_DAYS (their replays are refused by
    their timestamps by then, or are a provider's, whose retries stop within a day)."""
    cutoff = timezone.now() - timedelta(days=KEEP_EVENTS_DAYS)
    old = list(
        CallEvent.objects.filter(received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:batch]
    )
    if old:
        CallEvent.objects.filter(pk__in=old).delete()
    return len(old)


def summary(call: Call) -> str:
    if call.direction == Call.Direction.OUTGOING:
        return str(_("Outgoing call") if call.duration_seconds else _("Outgoing call, no answer"))
    return str(_("Missed call") if call.status == Call.Status.MISSED else _("Incoming call"))


def _recording_url(call: Call) -> str:
    return reverse("call_recording", args=[call.pk]) if call.recording_ref else ""


def _as_request(company: Company, connection: PbxConnection, call: Call) -> None:
    """An unknown caller is a request, as a web form's visitor is: the company's form rules
    choose the pipeline and the manager, and its stage rules run."""
    form = connection.request_form or _phone_form(connection)
    message = (
        _("Missed call to %(line)s") if call.status == Call.Status.MISSED else _("Call to %(line)s")
    ) % {"line": phone_text(call.line_number) if call.line_number else "—"}
    try:
        captured = receive(
            company=company,
            form=form,
            channel=PHONE,
            # One number calling again and again is one person: the per-address limit counts it.
            inbound=Inbound(
                values={"name": call.number, "phone": call.number, "message": message},
                ip=f"phone:{call.number}",
            ),
        )
    except RefusedError as exc:
        log.warning(
            "telephony: the call from an unknown number was not taken as a request: %s", exc.code
        )
        return
    call.lead = captured.lead
    if captured.deal is not None:
        call.client = captured.deal.client


def _phone_form(connection: PbxConnection) -> RequestForm:
    form = RequestForm.objects.create(
        name=str(_("Phone calls")),
        target=RequestForm.Target.DEAL,
        assign=RequestForm.Assign.CLIENT_MANAGER,
        per_ip_per_hour=20,
        per_form_per_hour=2000,
    )
    connection.request_form = form
    connection.save(update_fields=["request_form", "updated_at"])
    return form


def _callback_task(company: Company, connection: PbxConnection, call: Call) -> Task:
    """A call-back task for the client's manager (or whoever the extension is, or the owner),
    due within the company's call-back minutes of working time, with the SLA's escalation. A
    number that already has an open call-back task gets no second one."""
    earlier = (
        Call.objects.filter(number=call.number, callback_task__done_at__isnull=True)
        .exclude(pk=call.pk)
        .exclude(callback_task=None)
        .select_related("callback_task")
        .order_by("-started_at")
        .first()
    )
    if earlier is not None and earlier.callback_task is not None:
        return earlier.callback_task
    assignee = _assignee(company, call)
    deadline = add_working_minutes(company, timezone.now(), connection.callback_minutes)
    deal_id = None
    if call.lead_id is not None and call.lead is not None:
        deal_id = call.lead.deal_id
    task = Task.objects.create(
        title=(_("Call back %(number)s") % {"number": phone_text(call.number)})[:300],
        kind=Task.Kind.CALL,
        assignee_id=assignee,
        deadline=deadline,
        client_id=call.client_id,
        contact_id=call.contact_id,
        deal_id=deal_id,
        description=str(_("Missed call at %(when)s"))
        % {"when": timezone.localtime(call.started_at).strftime("%d.%m.%Y %H:%M")},
    )
    timers.start_sla(company, task)
    signals.task_created.send(Task, task=task, membership=None)
    notify(
        company,
        assignee,
        _("Missed call: %(number)s") % {"number": phone_text(call.number)},
        reverse("task_detail", args=[task.pk]),
    )
    return task


def _assignee(company: Company, call: Call) -> int | None:
    for user_id in (
        call.client.responsible_id if call.client else None,
        call.contact.responsible_id if call.contact else None,
        call.manager_id,
        call.lead.responsible_id if call.lead else None,
    ):
        if (
            user_id
            and Membership.objects.filter(company=company, user_id=user_id, is_active=True).exists()
        ):
            return user_id
    return (
        Membership.objects.filter(company=company, role=Membership.Role.OWNER, is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )
