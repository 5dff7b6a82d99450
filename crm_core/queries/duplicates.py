"""Possible duplicates of a client being entered: same INN, phone or e-mail.

Checked against the whole company (a duplicate is a duplicate even if a colleague owns it),
but only records the member may see are named; the others are only counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q

from crm_core.access import visible_user_ids
from crm_core.models import Client
from crm_core.normalise import clean_inn, parse_phone
from tenants.models import Membership


@dataclass
class Duplicates:
    visible: list[Client] = field(default_factory=list)
    hidden: int = 0

    @property
    def found(self) -> bool:
        return bool(self.visible or self.hidden)


def find_duplicates(
    membership: Membership, *, inn: str = "", phone: str = "", email: str = "", region: str = "RU"
) -> Duplicates:
    match = Q()
    try:
        inn_digits, status = clean_inn(inn)
        if inn_digits and status == "valid":
            match |= Q(inn=inn_digits)
    except ValidationError:
        pass
    if phone.strip():
        try:
            number = parse_phone(phone, region=region)
            match |= Q(phones__e164=number.e164) | Q(contacts__phones__e164=number.e164)
        except ValidationError:
            pass
    if "@" in email:
        match |= Q(contacts__emails__contains=[email.strip().lower()])
    if not match:
        return Duplicates()
    candidates = list(Client.objects.filter(match).distinct()[:20])
    ids = visible_user_ids(membership)
    shown = [c for c in candidates if ids is None or c.responsible_id in ids]
    return Duplicates(visible=shown, hidden=len(candidates) - len(shown))


def duplicates_of(membership: Membership, client: Client) -> list[Client]:
    """Other visible clients sharing this one's INN, any of its phones or any e-mail of its
    contact persons: the candidates offered for a merge on the card."""
    from crm_core.models import Contact, Phone

    phones = set(
        Phone.objects.filter(Q(client=client) | Q(contact__client=client)).values_list(
            "e164", flat=True
        )
    )
    emails = {
        e
        for row in Contact.objects.filter(client=client).values_list("emails", flat=True)
        for e in row
    }
    match = Q()
    if client.inn and client.inn_status == Client.TaxIdStatus.VALID:
        match |= Q(inn=client.inn)
    if phones:
        match |= Q(phones__e164__in=phones) | Q(contacts__phones__e164__in=phones)
    if emails:
        match |= Q(contacts__emails__overlap=list(emails))
    if not match:
        return []
    candidates = Client.objects.filter(match).exclude(pk=client.pk).distinct()[:20]
    ids = visible_user_ids(membership)
    return [c for c in candidates if ids is None or c.responsible_id in ids]
