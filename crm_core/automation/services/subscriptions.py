"""Outgoing webhooks for integrations: admins subscribe an address to CRM events; each event
becomes a delivery in the same queue as the stage rules' webhooks (signing, retries with
backoff, the delivery log, "send again"), written in the event's own transaction and sent by
Celery once it commits."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer

from crm_core.access import require_admin
from crm_core.automation.models import WebhookDelivery, WebhookSubscription
from crm_core.automation.services import webhooks
from crm_core.models import Contact, Deal, Stage, Task
from crm_core.services.audit import record
from tenants.models import Membership

Event = WebhookSubscription.Event


@transaction.atomic
def save_subscription(
    *,
    membership: Membership,
    url: str,
    events: list[str],
    is_active: bool = True,
    description: str = "",
    subscription: WebhookSubscription | None = None,
) -> WebhookSubscription:
    """Create or change a subscription (owners and admins). The address must be http(s); where
    it points is checked at every delivery (SSRF), since DNS can change after saving."""
    require_admin(membership)
    unknown = sorted(set(events) - set(Event.values))
    if unknown:
        raise ValidationError({"events": [_("Unknown events: %s") % ", ".join(unknown)]})
    if not events:
        raise ValidationError({"events": [_("Choose at least one event.")]})
    if not url.lower().startswith(("https://", "http://")):
        raise ValidationError({"url": [_("The address must start with https:// or http://")]})
    refusal = webhooks.address_refusal(url.strip())
    if refusal:
        raise ValidationError({"url": [refusal]})
    created = subscription is None
    subscription = subscription or WebhookSubscription()
    before = {"url": subscription.url, "events": subscription.events}
    subscription.url = url.strip()
    subscription.events = sorted(set(events))
    subscription.is_active = is_active
    subscription.description = description.strip()
    subscription.full_clean()
    subscription.save()
    record(
        membership,
        subscription,
        "create" if created else "update",
        {
            "url": (before["url"] or None, subscription.url),
            "events": (before["events"] or None, subscription.events),
            "is_active": (None, subscription.is_active),
        },
    )
    return subscription


def has_subscribers(event: str) -> bool:
    """Whether anyone listens to ``event`` (a bulk action asks once, before building payloads)."""
    return WebhookSubscription.objects.filter(is_active=True, events__contains=[event]).exists()


def publish(event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue ``event`` for every active subscription to it (in the current company's schema)."""
    subscribers = WebhookSubscription.objects.filter(is_active=True, events__contains=[event])
    return [
        webhooks.enqueue(url=sub.url, event=event, payload=payload, subscription=sub)
        for sub in subscribers
    ]


def _as_api(serializer: Any, obj: Any) -> dict[str, Any]:
    """The record as the REST API shows it, so an integration parses one shape."""
    from crm_core.api import serializers as s

    data: dict[str, Any] = json.loads(JSONRenderer().render(getattr(s, serializer)(obj).data))
    return data


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def deal_created(deal: Deal) -> None:
    publish(Event.DEAL_CREATED, {"deal": _as_api("DealOut", deal)})


def deal_stage_changed(deal: Deal, from_stage: Stage | None, to_stage: Stage) -> None:
    publish(
        Event.DEAL_STAGE_CHANGED,
        {
            "deal": _as_api("DealOut", deal),
            "from_stage": from_stage.pk if from_stage is not None else None,
            "to_stage": to_stage.pk,
        },
    )


def deal_updated(deal: Deal, changes: dict[str, tuple[Any, Any]]) -> None:
    publish(
        Event.DEAL_UPDATED,
        {
            "deal": _as_api("DealOut", deal),
            "changes": {k: {"old": _plain(o), "new": _plain(n)} for k, (o, n) in changes.items()},
        },
    )


def contact_saved(contact: Contact, *, created: bool) -> None:
    event = Event.CONTACT_CREATED if created else Event.CONTACT_UPDATED
    publish(event, {"contact": _as_api("ContactOut", contact)})


def task_created(task: Task) -> None:
    publish(Event.TASK_CREATED, {"task": _as_api("TaskOut", task)})


def task_completed(task: Task) -> None:
    publish(Event.TASK_COMPLETED, {"task": _as_api("TaskOut", task)})
