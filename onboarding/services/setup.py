"""The guided start of a new company: its progress, and what each step does.

Every function takes the acting membership (an owner or admin of the company whose schema is
active) and touches only that company's schema.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.documents.services.setup import save_requisites
from crm_core.documents.services.values import requisites as document_requisites
from crm_core.models import Client, Contact, Deal, Phone, Pipeline, Task
from crm_core.normalise import clean_inn
from onboarding import lookup
from onboarding.industries import WINDOWS, SampleDeal
from onboarding.models import CompanyDetails, ImportBatch, ImportedRecord, SetupProgress
from onboarding.services.undo import discard
from tenants.models import Company, Membership
from tenants.services import team

Step = SetupProgress.Step
STEPS = list(Step)
DONE, SKIPPED = "done", "skipped"


def require_admin(membership: Membership) -> None:
    if membership.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise PermissionDenied("owners and admins set the company up")


def progress() -> SetupProgress:
    row, _created = SetupProgress.objects.get_or_create(pk=1)
    return row


def next_step(row: SetupProgress) -> str | None:
    return next((s.value for s in STEPS if s.value not in row.steps), None)


def is_open(row: SetupProgress) -> bool:
    """Whether the CRM still offers "continue setting up"."""
    return row.finished_at is None and row.dismissed_at is None


@transaction.atomic
def mark(membership: Membership, step: str, outcome: str) -> SetupProgress:
    """Record a step as done or skipped; the last one finishes the setup."""
    require_admin(membership)
    if step not in Step.values or outcome not in (DONE, SKIPPED):
        raise ValidationError(_("No such step."))
    row = SetupProgress.objects.select_for_update().get(pk=progress().pk)
    # A step done once stays done even if it is skipped when revisited later.
    if row.steps.get(step) != DONE:
        row.steps[step] = outcome
    if next_step(row) is None and row.finished_at is None:
        row.finished_at = timezone.now()
    row.save()
    return row


def dismiss(membership: Membership) -> SetupProgress:
    require_admin(membership)
    row = progress()
    row.dismissed_at = timezone.now()
    row.save(update_fields=["dismissed_at", "updated_at"])
    return row


def resume(membership: Membership) -> SetupProgress:
    """Back to the setup from settings: offered again until finished or dismissed again."""
    require_admin(membership)
    row = progress()
    row.dismissed_at = None
    row.save(update_fields=["dismissed_at", "updated_at"])
    return row


# ------------------------------------------------------------------------ company details


def details() -> CompanyDetails:
    row, _created = CompanyDetails.objects.get_or_create(pk=1)
    return row


def look_up(inn: str) -> lookup.FoundCompany | None:
    """The requisites of the company with this INN, if a lookup source is configured.

    Raises ValidationError for an INN that fails its checksum and lookup.LookupFailed when no
    source is configured or it does not answer."""
    digits, _status = clean_inn(inn)
    if not digits:
        raise ValidationError(_("Type the INN."))
    return lookup.find(digits)


@transaction.atomic
def save_details(membership: Membership, values: dict[str, str], *, source: str = "") -> None:
    require_admin(membership)
    row = details()
    inn, _status = clean_inn(values.get("inn", ""))
    row.inn = inn
    for name in ("legal_name", "kpp", "ogrn", "legal_address", "director", "phone"):
        setattr(row, name, values.get(name, "").strip())
    row.source = source
    row.full_clean()
    row.save()
    # What the owner typed here is what quotes, invoices and contracts print: the documents'
    # requisites get every detail given (bank details are added there later).
    given = {
        "full_name": row.legal_name,
        "inn": row.inn,
        "kpp": row.kpp,
        "ogrn": row.ogrn,
        "address": row.legal_address,
        "director": row.director,
        "phone": row.phone,
    }
    if row.legal_name and not document_requisites().name:
        given["name"] = row.legal_name
    save_requisites(membership=membership, **{k: v for k, v in given.items() if v})
    mark(membership, Step.DETAILS, DONE)


# ------------------------------------------------------------------------ bank details

BANK_FIELDS = ("bank_name", "bik", "correspondent_account", "bank_account")


def bank_details() -> dict[str, str]:
    ours = document_requisites()
    return {name: getattr(ours, name) for name in BANK_FIELDS}


@transaction.atomic
def save_bank_details(membership: Membership, values: dict[str, str]) -> None:
    """The bank details invoices print, checked by their control digits (ValidationError by
    field otherwise, and nothing saved)."""
    require_admin(membership)
    save_requisites(
        membership=membership, **{name: values.get(name, "").strip() for name in BANK_FIELDS}
    )
    mark(membership, Step.BANK, DONE)


# ------------------------------------------------------------------------ sample data


@transaction.atomic
def add_sample_data(
    membership: Membership,
    company: Company,
    *,
    sample: tuple[SampleDeal, ...] = WINDOWS.sample,
    pipeline: Pipeline | None = None,
) -> ImportBatch:
    """A few clients, deals and tasks marked as sample (tag and batch), to try the CRM on.
    Made once: a second call returns the same sample."""
    require_admin(membership)
    row = SetupProgress.objects.select_for_update().get(pk=progress().pk)
    if row.sample_batch and row.sample_batch.status == ImportBatch.Status.DONE:
        return row.sample_batch
    pipeline = pipeline or Pipeline.objects.order_by("-is_default", "position", "id").first()
    if pipeline is None:
        raise ValidationError(_("Create a pipeline first."))
    stages = list(pipeline.stages.filter(outcome="open").order_by("position", "id"))
    tag = str(_("sample"))
    now = timezone.now()
    made: list[tuple[str, int]] = []
    for one in sample:
        client = Client.objects.create(name=one.client, tags=[tag])
        last, first = one.person
        contact = Contact.objects.create(client=client, last_name=last, first_name=first)
        number = Phone.objects.create(contact=contact, e164=one.phone, raw=one.phone)
        deal = Deal.objects.create(
            title=one.deal,
            client=client,
            pipeline=pipeline,
            stage=stages[min(one.stage, len(stages) - 1)],
            amount=Decimal(one.amount),
            currency=company.currency,
            responsible_id=membership.user_id,
        )
        deal.contacts.add(contact)
        task = Task.objects.create(
            title=one.task,
            deal=deal,
            client=client,
            deadline=now + dt.timedelta(days=1),
            assignee_id=membership.user_id,
        )
        made += [
            ("client", client.pk),
            ("contact", contact.pk),
            ("phone", number.pk),
            ("deal", deal.pk),
            ("task", task.pk),
        ]
    batch = ImportBatch.objects.create(
        file_name=_("Sample data"),
        file_format="sample",
        status=ImportBatch.Status.DONE,
        created_by_id=membership.user_id,
        finished_at=timezone.now(),
        counts={"rows": len(sample), "created": len(sample)},
        total_rows=len(sample),
    )
    ImportedRecord.objects.bulk_create(
        ImportedRecord(
            batch=batch, entity=entity, record_id=pk, action=ImportedRecord.Action.CREATED
        )
        for entity, pk in made
    )
    row.sample_batch = batch
    row.save(update_fields=["sample_batch", "updated_at"])
    return batch


@transaction.atomic
def remove_sample_data(membership: Membership) -> list[dict[str, Any]]:
    """One click: the sample goes, and nothing else. A sample record someone has since worked
    on (a task, a note, an edit) is kept and reported, like an import's honest undo."""
    require_admin(membership)
    row = SetupProgress.objects.select_for_update().get(pk=progress().pk)
    batch = row.sample_batch
    if batch is None or batch.status != ImportBatch.Status.DONE:
        return []
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    batch.undo_report = discard(batch, honest=True)
    batch.status = ImportBatch.Status.UNDONE
    batch.undone_at = timezone.now()
    batch.save(update_fields=["status", "undone_at", "checkpoint", "undo_report"])
    return batch.undo_report


def has_sample_data() -> bool:
    row = progress()
    return bool(row.sample_batch and row.sample_batch.status == ImportBatch.Status.DONE)


# ------------------------------------------------------------------------ colleagues


def invite(membership: Membership, *, email: str, role: str, link: team.LinkBuilder) -> Any:
    """An invitation through the team's own service (seats, roles and e-mails as there)."""
    require_admin(membership)
    return team.invite(actor=membership, email=email, role=role, link=link)
