"""Creating and changing clients and contact persons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core import signals
from crm_core.access import require_change, require_write
from crm_core.models import Activity, Client, Contact, Phone
from crm_core.normalise import clean_inn, parse_phone
from crm_core.services.audit import record
from crm_core.services.deals import StaleRecordError
from tenants.models import Company, Membership


@dataclass
class ClientInput:
    name: str
    kind: str = Client.Kind.LEGAL_ENTITY
    relationship: str = Client.Relationship.CUSTOMER
    inn: str = ""
    foreign_tax_id: bool = False
    kpp: str = ""
    phones: list[str] = field(default_factory=list)
    email: str = ""
    contact_name: str = ""
    source: str = ""


@transaction.atomic
def create_client(*, membership: Membership, company: Company, data: ClientInput) -> Client:
    require_write(membership)
    errors: dict[str, list[ValidationError]] = {}
    inn, inn_status = "", ""
    try:
        inn, inn_status = clean_inn(data.inn, foreign=data.foreign_tax_id)
    except ValidationError as exc:
        errors["inn"] = [exc]
    phones = []
    for raw in data.phones:
        if raw.strip():
            try:
                phones.append(parse_phone(raw, region=_region(company)))
            except ValidationError as exc:
                errors.setdefault("phones", []).append(exc)
    if errors:
        raise ValidationError(errors)
    client = Client.objects.create(
        kind=data.kind,
        relationship=data.relationship,
        name=data.name.strip(),
        inn=inn,
        inn_status=inn_status,
        kpp=data.kpp.strip(),
        source=data.source.strip(),
        responsible=membership.user,
        created_by=membership.user,
    )
    contact = None
    if data.contact_name.strip() or data.email.strip():
        last, _space, first = data.contact_name.strip().partition(" ")
        contact = Contact.objects.create(
            client=client,
            last_name=last[:100],
            first_name=first[:100],
            emails=[data.email.strip().lower()] if data.email.strip() else [],
            responsible=membership.user,
        )
    Phone.objects.bulk_create(
        Phone(
            client=client if contact is None else None,
            contact=contact,
            e164=p.e164,
            extension=p.extension,
            raw=p.raw,
        )
        for p in phones
    )
    Activity.objects.create(
        kind=Activity.Kind.NOTE, client=client, author=membership.user, summary=_("Client created")
    )
    record(membership, client, "create", {"name": (None, client.name), "inn": (None, client.inn)})
    signals.client_created.send(Client, client=client, membership=membership)
    return client


def _region(company: Company) -> str:
    # The company's default region for numbers typed without a country code.
    return {"KZT": "KZ", "BYN": "BY", "UZS": "UZ"}.get(company.currency, "RU")


CLIENT_FIELDS = (
    "kind",
    "relationship",
    "name",
    "full_name",
    "kpp",
    "legal_address",
    "postal_address",
    "bank_name",
    "bik",
    "bank_account",
    "correspondent_account",
    "website",
    "industry",
    "tags",
    "source",
    "responsible_id",
    "custom",
)


@transaction.atomic
def update_client(
    *,
    membership: Membership,
    client: Client,
    version: int,
    inn: str,
    foreign_tax_id: bool,
    **fields: object,
) -> Client:
    """Save the client's card if nobody saved it since ``version`` was read; every changed
    field goes to the audit log with its old and new value."""
    current = Client.objects.select_for_update().get(pk=client.pk)
    require_change(membership, current.responsible_id)
    if current.version != version:
        raise StaleRecordError(
            _("This client was changed by someone else a moment ago. Reload it and try again."),
            code="stale",
        )
    try:
        fields["inn"], fields["inn_status"] = clean_inn(inn, foreign=foreign_tax_id)
    except ValidationError as exc:
        raise ValidationError({"inn": [exc]}) from exc
    allowed = {*CLIENT_FIELDS, "inn", "inn_status"}
    changes = {
        name: (getattr(current, name), value)
        for name, value in fields.items()
        if name in allowed and getattr(current, name) != value
    }
    if not changes:
        return current
    for name, (_old, new) in changes.items():
        setattr(current, name, new)
    current.version += 1
    current.save(update_fields=[*changes, "version", "updated_at"])
    record(membership, current, "update", changes)
    return current


@dataclass
class ContactInput:
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    position: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    telegram: str = ""
    whatsapp: str = ""
    custom: dict[str, object] = field(default_factory=dict)


def _locked_contact(contact: Contact, version: int | None) -> Contact:
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if version is not None and current.version != version:
        raise StaleRecordError(
            _("This person was changed by someone else a moment ago. Reload and try again."),
            code="stale",
        )
    return current


def _phone_changes(contact: Contact, phones: list[Any]) -> dict[str, tuple[Any, Any]]:
    """The person's phones as a change for the audit log, if the new ones differ."""
    before = sorted((p.e164, p.extension, p.raw) for p in contact.phones.all())
    after = sorted((p.e164, p.extension, p.raw) for p in phones)
    if before == after:
        return {}
    return {"phones": ([p[2] for p in before], [p[2] for p in after])}


@transaction.atomic
def save_contact(
    *,
    membership: Membership,
    company: Company,
    client: Client | None,
    data: ContactInput,
    contact: Contact | None = None,
    version: int | None = None,
) -> Contact:
    """Add a contact person (to a client, or on their own) or change one; the phones given
    replace the person's phones, each normalised to E.164 with the text as typed kept.
    Changing a person, or adding one to a client, needs the right to change that record;
    seeing it through a deal is not enough. With ``version`` (what the person saw), a change
    is refused if someone saved the person since, as for clients and deals."""
    require_write(membership)
    if contact is not None:
        contact = _locked_contact(contact, version)
        owner = contact.client.responsible_id if contact.client_id else None  # type: ignore[union-attr]
        require_change(membership, contact.responsible_id, owner)
    elif client is not None:
        require_change(membership, client.responsible_id)
    if not (data.last_name.strip() or data.first_name.strip()):
        raise ValidationError({"last_name": _("Enter the person's name.")})
    phones, errors = [], []
    for raw in data.phones:
        if raw.strip():
            try:
                phones.append(parse_phone(raw, region=_region(company)))
            except ValidationError as exc:
                errors.append(exc)
    if errors:
        raise ValidationError({"phones": errors})
    values = {
        "last_name": data.last_name.strip()[:100],
        "first_name": data.first_name.strip()[:100],
        "middle_name": data.middle_name.strip()[:100],
        "position": data.position.strip()[:200],
        "emails": list(dict.fromkeys(e.strip().lower() for e in data.emails if e.strip())),
        "messengers": {
            k: v.strip() for k, v in (("telegram", data.telegram), ("whatsapp", data.whatsapp)) if v
        },
        "custom": data.custom,
    }
    created = contact is None
    if contact is None:
        contact = Contact.objects.create(client=client, responsible=membership.user, **values)
        record(membership, contact, "create", {"name": (None, str(contact))})
    else:
        changes = {
            k: (getattr(contact, k), v) for k, v in values.items() if getattr(contact, k) != v
        }
        changes.update(_phone_changes(contact, phones))
        for name, value in values.items():
            setattr(contact, name, value)
        if changes:
            contact.version += 1
        contact.save()
        if changes:
            record(membership, contact, "update", changes)
        contact.phones.all().delete()
    Phone.objects.bulk_create(
        Phone(contact=contact, e164=p.e164, extension=p.extension, raw=p.raw) for p in phones
    )
    signals.contact_saved.send(Contact, contact=contact, created=created, membership=membership)
    return contact


@transaction.atomic
def log_on_record(
    *,
    membership: Membership,
    text: str,
    client: Client | None = None,
    contact: Contact | None = None,
    kind: str = Activity.Kind.NOTE,
) -> Activity:
    """A note or a call's result written on a client's card or a contact person's card (a
    contact person's entry shows on their client's card too). Whoever sees the record may
    write in its feed, as on a deal: it changes none of the record's fields."""
    require_write(membership)
    if not text.strip():
        raise ValidationError(_("Write what came of it."), code="required")
    if client is None and contact is not None:
        client = contact.client
    return Activity.objects.create(
        kind=kind,
        client=client,
        contact=contact,
        author=membership.user,
        summary=text.strip()[:300],
        body=text.strip(),
    )
