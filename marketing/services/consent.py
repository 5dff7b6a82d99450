"""Consent to mailings, per contact person: given (where, when, the exact text), withdrawn
(kept, with the date), and the rule every campaign obeys — no consent in force, no letter.

An unsubscribe withdraws the consent and suppresses the address, so a later consent entered
by mistake does not bring the person back silently: an employee must record a new consent
with its text, which lifts the suppression (the person asked again)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.access import require_change
from crm_core.models import Contact
from marketing.models import Consent, Suppression
from tenants.models import Membership


def _clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the text the person agreed to.")})
    if len(text) > 5000:
        raise ValidationError({"text": _("At most 5,000 characters.")})
    return text


@transaction.atomic
def record_consent(
    *,
    membership: Membership | None,
    contact: Contact | None,
    email: str,
    source: str,
    text: str,
    details: str = "",
    given_at: dt.datetime | None = None,
) -> Consent:
    """Record a consent; an employee records it only on a contact person they may change.
    A new consent lifts an unsubscribe of the same address (the person agreed again); a
    bounce or spam complaint stays."""
    if membership is not None and contact is not None:
        require_change(membership, contact.responsible_id)
    if source not in Consent.Source.values:
        raise ValidationError({"source": _("Choose where the consent was given.")})
    email = email.strip().lower()
    if contact is not None and email and email not in [e.lower() for e in contact.emails]:
        raise ValidationError({"email": _("This is not one of the person's addresses.")})
    if contact is None and not email:
        raise ValidationError({"email": _("Say which address agreed.")})
    if given_at is not None and given_at > timezone.now():
        raise ValidationError({"given_at": _("The date is in the future.")})
    consent = Consent.objects.create(
        contact=contact,
        email=email,
        source=source,
        details=details[:300],
        text=_clean_text(text),
        given_at=given_at or timezone.now(),
        recorded_by_id=membership.user_id if membership else None,
    )
    addresses = [email] if email else [e.lower() for e in (contact.emails if contact else [])]
    Suppression.objects.filter(email__in=addresses, reason=Suppression.Reason.UNSUBSCRIBED).delete()
    return consent


@transaction.atomic
def withdraw_consent(*, membership: Membership | None, consent: Consent) -> None:
    if membership is not None and consent.contact is not None:
        require_change(membership, consent.contact.responsible_id)
    Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


def withdraw_all(*, email: str, contact_id: int | None) -> int:
    """Every consent in force of this address or contact person ends now (an unsubscribe)."""
    mine = Q(email__iexact=email) if email else Q(pk__in=[])
    if contact_id is not None:
        mine |= Q(contact_id=contact_id)
    return Consent.objects.filter(mine, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


def with_consent(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Only the contact persons with a consent in force: their own, or one given for their
    first address (a web form's, before they were a contact person)."""
    in_force = Consent.objects.filter(withdrawn_at__isnull=True)
    return contacts.annotate(
        _consented=Exists(in_force.filter(contact_id=OuterRef("pk")))
        | Exists(in_force.annotate(low=Lower("email")).filter(low=Lower(OuterRef("emails__0"))))
    ).filter(_consented=True)


def consent_in_force(contact: Contact) -> bool:
    return with_consent(Contact.objects.filter(pk=contact.pk)).exists()
