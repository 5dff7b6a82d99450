"""Outgoing webhooks: the address checked is the address connected to (no DNS rebinding),
private and special addresses are refused, and a delivery is attempted by one worker at a time."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import pytest

from crm_core.automation.models import WebhookDelivery
from crm_core.automation.services import webhooks
from tests.test_automation_rules import _Hook, hook_server

__all__ = ["hook_server"]  # the receiver fixture, shared with the stage-rule tests


class Resolver:
    """A DNS the test controls: answers in turn, the last answer repeating."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_a_name_rebinding_to_loopback_after_the_check_is_not_followed(
    crm: Any, hook_server: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answers a public address to the check, then 127.0.0.1 (where our receiver
    stands for an internal service). The connection goes to the checked address only."""
    settings.AUTOMATION_WEBHOOK_TIMEOUT_SECONDS = 1
    port = urlsplit(hook_server).port
    # 8.8.8.8 passes the check; this machine cannot reach it, so the attempt fails — the point
    # is that it is never made to 127.0.0.1, which a second look-up would have answered.
    resolver = Resolver(["8.8.8.8"], ["127.0.0.1"])
    monkeypatch.setattr(webhooks, "resolve_host", resolver)
    with crm.a:
        delivery = webhooks.enqueue(url=f"http://rebind.example:{port}/hook", event="e", payload={})
        webhooks.attempt(delivery.pk)
        delivery.refresh_from_db()
    assert resolver.asked == ["rebind.example"]  # resolved once
    assert _Hook.seen == []
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.error


def test_the_connection_uses_the_checked_address_with_the_name_as_host(
    crm: Any, hook_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = urlsplit(hook_server).port
    resolver = Resolver(["127.0.0.1"], ["203.0.113.9"])
    monkeypatch.setattr(webhooks, "resolve_host", resolver)
    with crm.a:
        delivery = webhooks.enqueue(
            url=f"http://hooks.example:{port}/hook?x=1", event="e", payload={}
        )
        assert webhooks.attempt(delivery.pk) is None
        delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert resolver.asked == ["hooks.example"]
    headers, _body = _Hook.seen[-1]
    assert headers["Host"] == f"hooks.example:{port}"


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.5"],
        ["192.168.1.1"],
        ["169.254.169.254"],  # cloud metadata (link-local)
        ["224.0.0.1"],  # multicast
        ["240.0.0.1"],  # reserved
        ["0.0.0.0"],  # noqa: S104
        ["100.64.0.1"],  # shared address space (carrier NAT)
        ["fe80::1"],
        ["fc00::1"],
        ["8.8.8.8", "10.0.0.5"],  # one bad answer among good ones
    ],
)
def test_private_and_special_addresses_are_refused(
    addresses: list[str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AUTOMATION_WEBHOOK_ALLOW_LOOPBACK = True  # even with the test switch on
    monkeypatch.setattr(webhooks, "resolve_host", Resolver(addresses))
    with pytest.raises(webhooks.RefusedAddressError):
        webhooks.pin_address("hooks.example", 443)


def test_loopback_is_refused_unless_the_test_switch_is_on(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "resolve_host", Resolver(["127.0.0.1"]))
    settings.AUTOMATION_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(webhooks.RefusedAddressError):
        webhooks.pin_address("localhost", 80)
    monkeypatch.setattr(webhooks, "resolve_host", Resolver(["::1"]))
    with pytest.raises(webhooks.RefusedAddressError):
        webhooks.pin_address("localhost", 80)
    settings.AUTOMATION_WEBHOOK_ALLOW_LOOPBACK = True
    assert webhooks.pin_address("localhost", 80) == "::1"


def test_only_http_and_https_are_sent(crm: Any) -> None:
    with pytest.raises(webhooks.RefusedAddressError):
        webhooks.post_pinned("file:///etc/passwd", b"{}", {})


def test_a_resend_racing_a_retry_sends_once(
    committed_companies: Any, hook_server: str, settings: Any
) -> None:
    """Two workers start an attempt of the same delivery at the same moment (the admin's resend
    and the scheduled retry): one conditional UPDATE gives the attempt to one of them."""
    from django.db import connection as thread_connection

    settings.AUTOMATION_WEBHOOK_TIMEOUT_SECONDS = 5
    company = committed_companies("Webhook race")
    with company:
        delivery = WebhookDelivery.objects.create(
            url=hook_server, event="e", status=WebhookDelivery.Status.FAILED, attempts=6
        )
        assert webhooks.resend(delivery)
        assert not webhooks.resend(delivery)  # the second click finds it pending
    _Hook.answers[:] = ["slow", "slow"]  # the receiver takes 2.5 s: both workers overlap
    start = threading.Barrier(2)
    results: list[float | None] = []

    def worker() -> None:
        try:
            with company:
                start.wait()
                results.append(webhooks.attempt(delivery.pk))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [None, None]
    assert len(_Hook.seen) == 1
    with company:
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("delivered", 1)
        assert delivery.claimed_until is None
        # Delivered is final: a late retry or a resend sends nothing more.
        assert webhooks.attempt(delivery.pk) is None
        assert not webhooks.resend(delivery)
    assert len(_Hook.seen) == 1


def test_a_claim_left_by_a_dead_worker_is_taken_over(crm: Any, hook_server: str) -> None:
    from datetime import timedelta

    from django.utils import timezone

    with crm.a:
        delivery = WebhookDelivery.objects.create(url=hook_server, event="e")
        assert webhooks.claim(delivery.pk) is not None
        assert webhooks.attempt(delivery.pk) is None  # held by the first worker
        assert _Hook.seen == []
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            claimed_until=timezone.now() - timedelta(minutes=20)
        )
        assert delivery.pk in webhooks.stuck()
        assert webhooks.attempt(delivery.pk) is None
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(_Hook.seen) == 1
