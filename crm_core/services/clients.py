"""Creating and changing clients and contact persons."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from crm_core.access import require_write
from crm_core.models import Activity, Client, Contact, Phone
from crm_core.normalise import clean_inn, parse_phone
from crm_core.services.audit import record
from tenants.models import Company, Membership


@dataclass
class ClientInput:
    name: str
    kind: str = Client.Kind.LEGAL_ENTITY
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
        last, _, first = data.contact_name.strip().partition(" ")
        contact = Contact.objects.create(
            client=client,
            last_name=last,
            first_name=first,
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
        kind=Activity.Kind.NOTE, client=client, author=membership.user, summary="Client created"
    )
    record(membership, client, "create", {"name": (None, client.name), "inn": (None, client.inn)})
    return client


def _region(company: Company) -> str:
    # The company's default region for numbers typed without a country code.
    return {"KZT": "KZ", "BYN": "BY", "UZS": "UZ"}.get(company.currency, "RU")
