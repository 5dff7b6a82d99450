"""Which contact person, client and deal a message is about, by its addresses."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from crm_core.models import Client, Contact, Deal, Stage


@dataclass(frozen=True)
class Match:
    contact: Contact | None = None
    client: Client | None = None
    deal: Deal | None = None


def match_addresses(addresses: list[str]) -> Match:
    """The first address that belongs to a contact person decides (the sender of a received
    message, the first recipient of a sent one); the deal is that person's — or their
    client's — most recently touched open deal."""
    wanted = [a.lower() for a in addresses if a]
    if not wanted:
        return Match()
    contacts = list(
        Contact.objects.filter(emails__overlap=wanted).select_related("client").order_by("id")
    )
    if not contacts:
        return Match()
    contact = next(
        (c for address in wanted for c in contacts if address in [e.lower() for e in c.emails]),
        contacts[0],
    )
    deal = (
        Deal.objects.filter(
            Q(contacts=contact) | (Q(client=contact.client) if contact.client_id else Q(pk=None)),
            closed_at__isnull=True,
            stage__outcome=Stage.Outcome.OPEN,
        )
        .order_by("-updated_at", "-id")
        .first()
    )
    return Match(contact=contact, client=contact.client, deal=deal)
