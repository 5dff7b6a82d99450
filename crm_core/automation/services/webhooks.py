"""Outgoing webhooks: signed with the company's secret, retried with exponential backoff.

Each delivery is a row (what the admin reads in the delivery log); the HTTP call happens in a
Celery task after the triggering transaction commits. A timeout, a refused connection or an
answer other than 2xx is recorded on the row and retried after 1, 2, 4, 8… × the base delay,
until the attempts run out ("gave up", still visible and re-sendable by the admin).

Signature: ``X-Relata-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with
``X-Relata-Timestamp``, so a receiver can check both origin and freshness.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.automation.models import (
    AutomationSettings,
    StageRule,
    WebhookDelivery,
    WebhookSubscription,
)
from crm_core.models import Deal
from relata import outbound
from tenants.services import dispatch

logger = logging.getLogger(__name__)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def deal_payload(deal: Deal, rule: StageRule | None = None) -> dict[str, Any]:
    return {
        "deal": {
            "id": deal.pk,
            "title": deal.title,
            "amount": str(deal.amount),
            "currency": deal.currency,
            "pipeline_id": deal.pipeline_id,
            "stage_id": deal.stage_id,
            "stage": deal.stage.name,
            "client_id": deal.client_id,
            "responsible_id": deal.responsible_id,
            "source": deal.source,
        },
        "rule": {"id": rule.pk, "name": rule.name} if rule else None,
    }


def enqueue(
    *,
    url: str,
    event: str,
    payload: dict[str, Any],
    rule: StageRule | None = None,
    subscription: WebhookSubscription | None = None,
) -> WebhookDelivery:
    """Record the delivery now; send it once the current transaction has committed."""
    delivery = WebhookDelivery.objects.create(
        url=url, event=event, payload=payload, rule=rule, subscription=subscription
    )
    transaction.on_commit(lambda: _send_later(delivery.pk))
    return delivery


# The name under which companies with deliveries the broker did not take are remembered.
BACKLOG = "webhooks"


def _send_later(delivery_id: int, countdown: float = 0) -> bool:
    """Hand the delivery to Celery. The row is the source of truth (a transactional outbox):
    when the broker is down, the change that wrote it still succeeds, and the backlog sweep
    sends it once the broker is back. False when the broker did not take it."""
    from crm_core.automation.tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_id,), countdown=countdown)
    except Exception:
        logger.warning("broker unavailable: webhook delivery %s waits for the sweep", delivery_id)
        dispatch.mark(BACKLOG)
        return False
    return True


def send_backlog() -> int:
    """Hand every delivery of the current company that waits for its first try, or for a retry
    that is due, to Celery. Returns how many the broker took; -1 when it refused one."""
    due = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.PENDING)
        | Q(status=WebhookDelivery.Status.RETRYING, next_attempt_at__lte=timezone.now())
    ).values_list("pk", flat=True)
    sent = 0
    for delivery_id in due.iterator():
        if not _send_later(delivery_id):
            return -1
        sent += 1
    return sent


def backoff(attempts: int) -> float:
    return float(settings.AUTOMATION_WEBHOOK_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))


class RefusedAddressError(Exception):
    pass


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the name has now. A module attribute so tests can stand in a resolver
    they control (DNS rebinding cannot be staged with the system's)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedAddressError(f"cannot resolve {host}") from exc
    return [str(info[4][0]) for info in infos]


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.is_loopback:
        return bool(settings.AUTOMATION_WEBHOOK_ALLOW_LOOPBACK)
    return outbound.is_public(str(address))


def pin_address(host: str, port: int) -> str:
    """Resolve once and choose the address the connection will use. Every address the name
    has must be allowed: a name answering one public and one private address is refused, so
    which one a resolver puts first does not matter."""
    addresses = resolve_host(host, port)
    if not addresses:
        raise RefusedAddressError(f"cannot resolve {host}")
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if not _allowed(address):
            raise RefusedAddressError(f"{host} is a private address ({address})")
    return addresses[0]


def address_refusal(url: str) -> str | None:
    """Why a webhook address is refused when it is saved, or None. Every delivery checks again
    (DNS can change); this only spares an admin a subscription that could never be delivered:
    loopback, private, link-local, reserved and multicast addresses, literal or resolved. A name
    that does not resolve now is accepted — its server may not be up yet."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("The address must start with https:// or http://")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return _("The port of the address is not a number between 1 and 65535.")
    try:
        addresses = resolve_host(parts.hostname, port)
    except RefusedAddressError:
        return None
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if not _allowed(address):
            return _(
                "%(host)s points to %(address)s, a private, loopback, link-local or multicast "
                "address that Relata never sends to. Use the integration's public address."
            ) % {"host": parts.hostname, "address": address}
    return None


def post_pinned(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to ``url`` connecting to the address checked by ``pin_address`` — never resolving
    the name a second time (DNS rebinding: a name that answers a public address to the check and
    127.0.0.1 to the connection). The request still carries the name in Host, and for https the
    name is sent as SNI and the certificate is checked against the name, not the address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddressError(f"not an http(s) address: {url}")
    secure = parts.scheme == "https"
    default_port = 443 if secure else 80
    port = parts.port or default_port
    address = pin_address(parts.hostname, port)
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    host_header = name if port == default_port else f"{name}:{port}"
    timeout = urllib3.Timeout(total=settings.AUTOMATION_WEBHOOK_TIMEOUT_SECONDS)
    pool: urllib3.HTTPConnectionPool
    if secure:
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with pool:
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
        )
        try:
            answer = response.read(8000).decode("utf-8", errors="replace")
        finally:
            response.release_conn()
    return response.status, answer


# How long a claimed attempt may take beyond the HTTP timeout before another worker may take it.
CLAIM_MARGIN = timedelta(seconds=60)


def claim(delivery_id: int) -> WebhookDelivery | None:
    """Take the next attempt of a delivery for this worker, or None when it is delivered, given
    up, or being sent by another worker right now. One conditional UPDATE decides, so a resend,
    a retry and the stuck sweep racing for the same delivery send it once."""
    now = timezone.now()
    taken = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
            | Q(status=WebhookDelivery.Status.SENDING, claimed_until__lt=now)
        )
        .update(
            status=WebhookDelivery.Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_until=now
            + timedelta(seconds=settings.AUTOMATION_WEBHOOK_TIMEOUT_SECONDS)
            + CLAIM_MARGIN,
        )
    )
    if not taken:
        return None
    return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


def attempt(delivery_id: int) -> float | None:
    """One try. Returns the seconds to wait before the next try, or None when done (or when
    another worker holds this delivery's attempt)."""
    delivery = claim(delivery_id)
    if delivery is None:
        return None
    body = json.dumps(
        {"event": delivery.event, "delivery": delivery.pk, **delivery.payload},
        ensure_ascii=False,
        sort_keys=True,
    ).encode()
    timestamp = str(int(time.time()))
    subscription = delivery.subscription
    if subscription is not None and not subscription.is_active:
        # Switched off by the admin after the event: nothing more goes to that address.
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            status=WebhookDelivery.Status.FAILED,
            error="subscription switched off",
            claimed_until=None,
            next_attempt_at=None,
        )
        return None
    secret = (
        subscription.secret
        if subscription is not None
        else AutomationSettings.current().webhook_secret
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Relata-Webhooks/1",
        "X-Relata-Event": delivery.event,
        "X-Relata-Delivery": str(delivery.pk),
        "X-Relata-Timestamp": timestamp,
        "X-Relata-Signature": sign(secret, timestamp, body),
    }
    status_code: int | None = None
    answer, error = "", ""
    try:
        status_code, answer = post_pinned(delivery.url, body, headers)
        answer = answer[:2000]
    except (urllib3.exceptions.HTTPError, OSError, RefusedAddressError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = timezone.now()
    outcome: dict[str, Any] = {
        "response_status": status_code,
        "response_body": answer,
        "error": error or ("" if status_code and status_code < 300 else f"HTTP {status_code}"),
        "claimed_until": None,
        "next_attempt_at": None,
    }
    retry_in: float | None = None
    if status_code is not None and 200 <= status_code < 300:
        outcome.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now)
    elif delivery.attempts >= settings.AUTOMATION_WEBHOOK_MAX_ATTEMPTS:
        outcome.update(status=WebhookDelivery.Status.FAILED)
    else:
        retry_in = backoff(delivery.attempts)
        outcome.update(
            status=WebhookDelivery.Status.RETRYING,
            next_attempt_at=now + timedelta(seconds=retry_in),
        )
    # Written only if this worker still holds the claim (it was not taken over as stuck).
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.SENDING, attempts=delivery.attempts
    ).update(**outcome)
    logger.info(
        "webhook %s to %s: attempt %s, %s",
        delivery.pk,
        delivery.url,
        delivery.attempts,
        outcome["status"],
    )
    return retry_in


# A retry that has not happened this long after its time was lost (a worker died holding it).
STUCK_AFTER = timedelta(minutes=15)


def stuck(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Deliveries waiting for an attempt that never came: sent again by the periodic sweep.
    Delivery is at least once; receivers tell repeats apart by X-Relata-Delivery."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    return list(
        WebhookDelivery.objects.filter(
            Q(status=WebhookDelivery.Status.RETRYING, next_attempt_at__lt=cutoff)
            | Q(status=WebhookDelivery.Status.PENDING, created_at__lt=cutoff)
            | Q(status=WebhookDelivery.Status.SENDING, claimed_until__lt=cutoff)
        ).values_list("pk", flat=True)[:limit]
    )


def send_stuck() -> int:
    ids = stuck()
    for delivery_id in ids:
        _send_later(delivery_id)
    return len(ids)


def resend(delivery: WebhookDelivery) -> bool:
    """The admin asks to try a delivery that gave up once more (with fresh attempts). Only a
    delivery that gave up: one still waiting, being sent or retrying has a try of its own coming,
    and a second click on "send again" finds it pending already. False when nothing was done."""
    reopened = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.FAILED
    ).update(status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=None)
    if reopened:
        transaction.on_commit(lambda: _send_later(delivery.pk))
    return bool(reopened)
