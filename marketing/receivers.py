"""What other parts of the CRM tell marketing: a web form took a request (with the consent
box ticked), a provider's webhook reported on a letter (anymail's tracking signal), a mailbox
received a delivery report (communications' ``mail_stored``)."""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import tracking
from django.db.models.signals import post_save
from django.dispatch import receiver

from communications.services.inbound import mail_stored
from crm_core.automation.models import CapturedRequest
from crm_core.models import Contact
from crm_core.signals import contacts_merging
from marketing.models import SegmentMember
from marketing.services import forms_consent, tracking_events

log = logging.getLogger(__name__)


@receiver(post_save, sender=CapturedRequest, dispatch_uid="marketing_form_consent")
def consent_from_form(sender: Any, instance: CapturedRequest, created: bool, **kwargs: Any) -> None:
    if created and instance.status == CapturedRequest.Status.CREATED:
        forms_consent.record_from_request(instance)


@receiver(contacts_merging, dispatch_uid="marketing_contacts_merging")
def lists_before_merge(sender: Any, keep: Contact, other: Contact, **kwargs: Any) -> None:
    """A static list holds a person once: other's place on a list keep is already on goes."""
    SegmentMember.objects.filter(
        contact=other,
        segment_id__in=SegmentMember.objects.filter(contact=keep).values("segment_id"),
    ).delete()


@receiver(tracking, dispatch_uid="marketing_provider_event")
def provider_event(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    tracking_events.apply_anymail(event)


@receiver(mail_stored, dispatch_uid="marketing_bounce_report")
def bounce_report(sender: Any, message: Any, raw: bytes, **kwargs: Any) -> None:
    tracking_events.apply_if_bounce_report(raw)
