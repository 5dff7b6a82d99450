"""Who a campaign goes to: the segment's contact persons, as the sending member sees them,
with a consent in force and an address no campaign may not write to (suppressed)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower

from crm_core.models import Contact
from marketing.models import Segment, Suppression
from marketing.services.consent import with_consent
from marketing.services.segments import contacts_of
from tenants.models import Membership


def reachable(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Of these, the ones a campaign may write to: an address, a consent, no suppression."""
    suppressed = Suppression.objects.filter(email=Lower(OuterRef("emails__0")))
    return with_consent(contacts.exclude(emails=[])).exclude(Exists(suppressed)).order_by()


def audience(membership: Membership, segment: Segment) -> QuerySet[Contact]:
    return reachable(contacts_of(membership, segment))
