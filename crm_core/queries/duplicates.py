"""Possible duplicates of a client being entered: same INN, phone or e-mail.

Checked against the whole company (a duplicate is a duplicate even if a colleague owns it),
but only records the member may see are named; the others are only counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
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


def clients_matching(
    *,
    inns: list[str],
    numbers: list[str],
    emails: list[str],
    own_contacts: Collection[int] = (),
) -> set[int]:
    """Ids of the clients with one of these INNs, phone numbers (E.164, theirs or a contact
    person's) or contact e-mails. Each look-up reads its own index and returns ids; one query
    OR-ing the joins made PostgreSQL scan every contact (30 s at a million). Contact persons in
    ``own_contacts`` (the asking client's own) are not looked up: they lead back to it."""
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
    contact_ids.difference_update(own_contacts)
    if contact_ids:
        ids |= set(
            Contact.objects.filter(pk__in=contact_ids, client__isnull=False).values_list(
                "client_id", flat=True
            )
        )
    return ids


def duplicates_of(
    membership: Membership, client: Client, *, contacts: Sequence[Contact] | None = None
) -> list[Client]:
    """Other visible clients sharing this one's INN, any of its phones or any e-mail of its
    contact persons: the candidates offered for a merge on the card. ``contacts``: all of the
    client's contact persons with their phones prefetched, when the caller has read them."""
    if contacts is None:
        contacts = list(Contact.objects.filter(client=client).prefetch_related("phones"))
    people = [(person.pk, person.emails) for person in contacts]
    numbers = {phone.e164 for phone in client.phones.all()}
    numbers |= {phone.e164 for person in contacts for phone in person.phones.all()}
    ids = clients_matching(
        inns=[client.inn] if client.inn and client.inn_status == Client.TaxIdStatus.VALID else [],
        numbers=sorted(numbers),
        emails=sorted({e for _pk, emails in people for e in emails}),
        own_contacts={pk for pk, _emails in people},
    )
    ids.discard(client.pk)
    candidates = Client.objects.filter(pk__in=sorted(ids)[:20])
    visible_ids = visible_user_ids(membership)
    return [c for c in candidates if visible_ids is None or c.responsible_id in visible_ids]
