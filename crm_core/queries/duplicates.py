"""Possible duplicates of a client being entered: same INN, phone or e-mail.

Checked against the whole company (a duplicate is a duplicate even if a colleague owns it),
but only records the member may see are named; the others are only counted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from crm_core.access import visible_user_ids
from crm_core.models import Client, Contact, Phone
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
    inns, numbers, emails = [], [], []
    try:
        inn_digits, status = clean_inn(inn)
        if inn_digits and status == "valid":
            inns.append(inn_digits)
    except ValidationError:
        pass
    if phone.strip():
        with contextlib.suppress(ValidationError):
            numbers.append(parse_phone(phone, region=region).e164)
    if "@" in email:
        emails.append(email.strip().lower())
    ids = clients_matching(inns=inns, numbers=numbers, emails=emails)
    if not ids:
        return Duplicates()
    candidates = list(Client.objects.filter(pk__in=sorted(ids)[:20]))
    visible_ids = visible_user_ids(membership)
    shown = [c for c in candidates if visible_ids is None or c.responsible_id in visible_ids]
    return Duplicates(visible=shown, hidden=len(candidates) - len(shown))


def clients_matching(*, inns: list[str], numbers: list[str], emails: list[str]) -> set[int]:
    """Ids of the clients with one of these INNs, phone numbers (E.164, theirs or a contact
    person's) or contact e-mails. Each look-up reads its own index and returns ids; one query
    OR-ing the joins made PostgreSQL scan every contact (30 s at a million)."""
    ids: set[int] = set()
    if inns:
        ids |= set(Client.objects.filter(inn__in=inns).values_list("pk", flat=True))
    contact_ids: set[int] = set()
    if numbers:
        for client_id, contact_id in Phone.objects.filter(e164__in=numbers).values_list(
            "client_id", "contact_id"
        ):
            if client_id:
                ids.add(client_id)
            if contact_id:
                contact_ids.add(contact_id)
    if emails:
        # No LIMIT: with one, the planner gambles on a sequential scan (see queries/search.py).
        contact_ids |= set(
            Contact.objects.filter(emails__overlap=emails).order_by().values_list("pk", flat=True)
        )
    if contact_ids:
        ids |= set(
            Contact.objects.filter(pk__in=contact_ids, client__isnull=False).values_list(
                "client_id", flat=True
            )
        )
    return ids


def duplicates_of(membership: Membership, client: Client) -> list[Client]:
    """Other visible clients sharing this one's INN, any of its phones or any e-mail of its
    contact persons: the candidates offered for a merge on the card."""
    people = list(Contact.objects.filter(client=client).values_list("pk", "emails"))
    numbers = set(Phone.objects.filter(client=client).values_list("e164", flat=True))
    if people:
        numbers |= set(
            Phone.objects.filter(contact_id__in=[pk for pk, _emails in people]).values_list(
                "e164", flat=True
            )
        )
    ids = clients_matching(
        inns=[client.inn] if client.inn and client.inn_status == Client.TaxIdStatus.VALID else [],
        numbers=sorted(numbers),
        emails=sorted({e for _pk, emails in people for e in emails}),
    )
    ids.discard(client.pk)
    candidates = Client.objects.filter(pk__in=sorted(ids)[:20])
    visible_ids = visible_user_ids(membership)
    return [c for c in candidates if visible_ids is None or c.responsible_id in visible_ids]
