"""Click-to-call: the PBX rings the manager's own extension, then dials the customer."""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from crm_core.access import require_write
from crm_core.models import Phone
from crm_core.queries.clients import visible_clients, visible_contacts
from telephony.models import Extension
from telephony.providers import adapter_for
from telephony.services.connection import credentials, current
from tenants.models import Membership

log = logging.getLogger("telephony.dial")


def dial(*, membership: Membership, number: str) -> Phone:
    """Ask the PBX to connect the member with ``number`` — a phone of a client or contact person
    the member sees (any other number is "not found", whoever's it is). Raises ValidationError
    with a message for the member, or telephony's DialError when the provider refuses."""
    require_write(membership)
    connection = current()
    if connection is None or not connection.is_active:
        raise ValidationError(_("Telephony is not connected."), code="not_connected")
    phone = (
        Phone.objects.filter(e164=number.strip())
        .filter(
            Q(client__in=visible_clients(membership)) | Q(contact__in=visible_contacts(membership))
        )
        .first()
    )
    if phone is None:
        raise ObjectDoesNotExist("no such phone among the member's clients")
    extension = Extension.objects.filter(user_id=membership.user_id).order_by("number").first()
    if extension is None:
        raise ValidationError(
            _("Your extension is not set: ask an admin to add it in the telephony settings."),
            code="no_extension",
        )
    adapter_for(connection.provider).dial(
        credentials(connection), extension=extension.number, number=phone.e164
    )
    log.info("telephony: click-to-call from extension %s", extension.number)
    return phone
