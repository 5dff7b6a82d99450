"""Outgoing webhooks for integrations: subscriptions to deal/contact/task events, queued in the
event's transaction, delivered by a real Celery worker to a real HTTP receiver, signed with
the subscription's secret; managed by admins on a page and through the API; per company."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client as HttpClient
from django.utils import timezone

from crm_core.automation.models import WebhookDelivery, WebhookSubscription
from crm_core.automation.services import webhooks
from crm_core.automation.services.subscriptions import save_subscription
from crm_core.models import Pipeline, Stage
from crm_core.services.clients import ContactInput, save_contact
from crm_core.services.deals import create_deal, move_deal, update_deal
from crm_core.services.tasks import complete_task, create_task
from tests.test_api import Api, assert_error, token_for
from tests.test_automation_rules import _Hook, hook_server
from tests.test_isolation import login_on_host

__all__ = ["hook_server"]

ALL = [e.value for e in WebhookSubscription.Event]


def test_every_crm_event_is_queued_for_its_subscribers_only(crm: Any) -> None:
    with crm.a:
        everything = save_subscription(
            membership=crm.owner, url="https://hooks.example/all", events=ALL
        )
        deals_only = save_subscription(
            membership=crm.owner, url="https://hooks.example/deals", events=["deal.created"]
        )
        save_subscription(
            membership=crm.owner,
            url="https://hooks.example/off",
            events=ALL,
            is_active=False,
        )
        pipeline = Pipeline.objects.get(is_default=True)
        deal = create_deal(
            membership=crm.manager, title="Окна", pipeline=pipeline, amount=Decimal(100)
        )
        second = Stage.objects.filter(pipeline=pipeline).order_by("position")[1]
        deal = move_deal(membership=crm.manager, deal=deal, stage=second, version=deal.version)
        deal = update_deal(membership=crm.manager, deal=deal, version=deal.version, title="Окна x2")
        contact = save_contact(
            membership=crm.manager,
            company=crm.a.company,
            client=None,
            data=ContactInput(last_name="Петров"),
        )
        save_contact(
            membership=crm.manager,
            company=crm.a.company,
            client=None,
            contact=contact,
            data=ContactInput(last_name="Петров", first_name="Иван"),
        )
        task = create_task(
            membership=crm.manager,
            title="Позвонить",
            deadline=timezone.now() + timedelta(hours=1),
            deal=deal,
        )
        complete_task(membership=crm.manager, task=task)
        sent = list(
            WebhookDelivery.objects.filter(subscription=everything)
            .order_by("id")
            .values_list("event", flat=True)
        )
        assert sent == ALL
        assert list(
            WebhookDelivery.objects.filter(subscription=deals_only).values_list("event", flat=True)
        ) == ["deal.created"]
        assert not WebhookDelivery.objects.filter(url="https://hooks.example/off").exists()
        moved = WebhookDelivery.objects.get(subscription=everything, event="deal.stage_changed")
        assert moved.payload["to_stage"] == second.pk
        assert moved.payload["deal"]["id"] == deal.pk
        changed = WebhookDelivery.objects.get(subscription=everything, event="deal.updated")
        assert changed.payload["changes"]["title"] == {"old": "Окна", "new": "Окна x2"}
        assert changed.payload["deal"]["version"] == deal.version
        updated = WebhookDelivery.objects.get(subscription=everything, event="contact.updated")
        assert updated.payload["contact"]["first_name"] == "Иван"
    # Company B, subscribed to everything, heard nothing of A's events.
    with crm.b:
        save_subscription(membership=_b_owner(crm), url="https://b.example/all", events=ALL)
        assert not WebhookDelivery.objects.exists()


def _b_owner(crm: Any) -> Any:
    from tenants.models import Membership

    return Membership.objects.get(company=crm.b.company, user=crm.b.owner)


def test_only_admins_subscribe_and_bad_input_is_refused(crm: Any) -> None:
    with crm.a:
        with pytest.raises(PermissionDenied):
            save_subscription(membership=crm.manager, url="https://x.example", events=ALL)
        for url, events, field in [
            ("https://x.example", [], "events"),
            ("https://x.example", ["deal.deleted"], "events"),
            ("ftp://x.example", ALL, "url"),
            ("not an address", ALL, "url"),
        ]:
            with pytest.raises(ValidationError) as refused:
                save_subscription(membership=crm.owner, url=url, events=events)
            assert field in refused.value.message_dict
        assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://224.0.0.1/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_private_loopback_link_local_and_multicast_addresses_are_refused_when_saved(
    crm: Any, url: str, settings: Any
) -> None:
    settings.AUTOMATION_WEBHOOK_ALLOW_LOOPBACK = False
    with crm.a:
        with pytest.raises(ValidationError) as refused:
            save_subscription(membership=crm.owner, url=url, events=ALL)
        host = urlsplit(url).hostname
        assert host is not None
        assert host in refused.value.message_dict["url"][0]
        assert not WebhookSubscription.objects.exists()
        # A public address, and a name that does not resolve yet (checked at every delivery).
        save_subscription(membership=crm.owner, url="https://93.184.215.14/hook", events=ALL)
        save_subscription(membership=crm.owner, url="https://hooks.invalid/x", events=ALL)

    # The stage rules' webhook action says the same on its form.
    from crm_core.automation.forms import RuleActionForm

    with crm.a:
        form = RuleActionForm(
            data={"kind": "webhook", "url": url, "who": "responsible"}, company=crm.a.company
        )
        assert not form.is_valid()
        assert "url" in form.errors


def test_a_rolled_back_change_sends_nothing_and_a_switched_off_subscription_stops(
    crm: Any, hook_server: str
) -> None:
    with crm.a:
        sub = save_subscription(membership=crm.owner, url=hook_server, events=["deal.created"])
        pipeline = Pipeline.objects.get(is_default=True)

        def made_then_rolled_back() -> None:
            with transaction.atomic():
                create_deal(membership=crm.manager, title="Не будет", pipeline=pipeline)
                raise RuntimeError

        with pytest.raises(RuntimeError):
            made_then_rolled_back()
        assert not WebhookDelivery.objects.exists()
        create_deal(membership=crm.manager, title="Будет", pipeline=pipeline)
        delivery = WebhookDelivery.objects.get()
        sub.is_active = False
        sub.save()
        assert webhooks.attempt(delivery.pk) is None
        delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert _Hook.seen == []


def test_a_real_worker_delivers_signed_events_after_commit(
    committed_companies: Any, run_process: Any, tmp_path: Path, hook_server: str, settings: Any
) -> None:
    from conftest import child_env, wait_for
    from tenants.models import Membership

    company = committed_companies("Webhook subscribers")
    owner = Membership.objects.get(company=company.company, user=company.owner)
    with company:
        sub = save_subscription(
            membership=owner, url=hook_server, events=["deal.created", "task.completed"]
        )
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "-Q", "celery", "-l", "info"],
        env=child_env(
            CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
            REDIS_URL=os.environ.get("REDIS_URL", ""),
            AUTOMATION_WEBHOOK_ALLOW_LOOPBACK="1",
        ),
        log=tmp_path / "worker.log",
    )
    with company:
        pipeline = Pipeline.objects.get(is_default=True)
        deal = create_deal(
            membership=owner, title="Окна в офис", pipeline=pipeline, amount=Decimal(5000)
        )
    try:
        wait_for(lambda: len(_Hook.seen) >= 1, timeout=60, what="the delivery")
    except AssertionError:
        print((tmp_path / "worker.log").read_text())  # noqa: T201
        raise
    headers, body = _Hook.seen[0]
    expected = hmac.new(
        sub.secret.encode(), headers["X-Relata-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Relata-Signature"] == f"sha256={expected}"
    assert headers["X-Relata-Event"] == "deal.created"
    sent = json.loads(body)
    assert (sent["event"], sent["deal"]["id"], sent["deal"]["title"]) == (
        "deal.created",
        deal.pk,
        "Окна в офис",
    )
    assert sent["deal"]["amount"] == "5000.00"

    def delivered() -> bool:
        with company:
            return WebhookDelivery.objects.filter(
                pk=sent["delivery"], status="delivered", attempts=1
            ).exists()

    wait_for(delivered, timeout=30, what="the delivery log")
    assert len(_Hook.seen) == 1


def test_subscriptions_through_the_api_for_admin_tokens_of_this_company(crm: Any) -> None:
    admin = token_for(crm, crm.owner, access="write", resources=["webhooks"])
    made = admin.call(
        "post",
        "/webhooks/",
        {"url": "https://hooks.example/crm", "events": ["deal.created", "task.created"]},
    )
    assert made.status_code == 201, made.body
    assert made.body["secret"].startswith("whsec_")
    listed = admin.call("get", "/webhooks/")
    assert [s["id"] for s in listed.body["results"]] == [made.body["id"]]
    assert "secret" not in listed.body["results"][0]  # shown once, on creation
    off = admin.call("patch", f"/webhooks/{made.body['id']}/", {"is_active": False})
    assert off.status_code == 200, off.body
    assert off.body["is_active"] is False
    bad = admin.call("post", "/webhooks/", {"url": "https://x.example", "events": ["nope"]})
    assert_error(bad, 400, "invalid")
    # A manager's token, a read-only token, a token without the resource: refused.
    assert_error(token_for(crm, crm.manager).call("get", "/webhooks/"), 403, "permission_denied")
    reader = token_for(crm, crm.owner, access="read")
    assert reader.call("get", "/webhooks/").status_code == 200
    assert_error(
        reader.call("post", "/webhooks/", {"url": "https://x.example", "events": ALL}),
        403,
        "permission_denied",
    )
    deals_only = token_for(crm, crm.owner, resources=["deals"])
    assert_error(deals_only.call("get", "/webhooks/"), 403, "permission_denied")
    # A's token on B's host, and B's admin asking for A's subscription: nothing.
    assert_error(
        Api(crm.b.host, admin.secret).call("get", "/webhooks/"), 401, "authentication_failed"
    )
    from crm_core.api.services import issue_token

    with crm.b:
        b_secret = issue_token(
            membership=_b_owner(crm), name="b", access="write", resources=[]
        ).secret
    b_api = Api(crm.b.host, b_secret)
    assert b_api.call("get", "/webhooks/").body["results"] == []
    assert_error(b_api.call("get", f"/webhooks/{made.body['id']}/"), 404, "not_found")


def test_the_subscriptions_page_is_for_admins_and_shows_only_this_company(crm: Any) -> None:
    with crm.b:
        save_subscription(membership=_b_owner(crm), url="https://b.example/hook", events=ALL)
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    made = owner.post(
        "/automation/subscriptions/",
        {"url": "https://a.example/hook", "events": ["deal.created", "contact.updated"]},
        HTTP_HOST=crm.a.host,
    )
    assert made.status_code == 302
    page = owner.get("/automation/subscriptions/", HTTP_HOST=crm.a.host).content.decode()
    assert "a.example/hook" in page
    assert "b.example" not in page
    with crm.a:
        sub = WebhookSubscription.objects.get()
        assert sub.events == ["contact.updated", "deal.created"]
    owner.post(f"/automation/subscriptions/{sub.pk}/switch/", HTTP_HOST=crm.a.host)
    with crm.a:
        sub.refresh_from_db()
        assert not sub.is_active
    refused = owner.post(
        "/automation/subscriptions/",
        {"url": "https://a.example/x", "events": []},
        HTTP_HOST=crm.a.host,
    )
    assert refused.status_code == 200  # the form again, with the error
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/automation/subscriptions/", HTTP_HOST=crm.a.host).status_code == 404
    assert HttpClient().get("/automation/subscriptions/", HTTP_HOST=crm.a.host).status_code == 302


def test_tasks_closed_with_their_deal_are_announced_like_a_tasks_own_done(crm: Any) -> None:
    """Closing a won deal's open tasks (card, board or bulk: one set-based service) queues a
    ``task.completed`` per task for the subscribers, as a task's own "Done" does."""
    with crm.a:
        hook = save_subscription(
            membership=crm.owner, url="https://hooks.example/tasks", events=["task.completed"]
        )
        pipeline = Pipeline.objects.get(is_default=True)
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=pipeline)
        tasks = [
            create_task(
                membership=crm.manager,
                title=title,
                deadline=timezone.now() + timedelta(hours=1),
                deal=deal,
            )
            for title in ("Позвонить", "Отправить договор")
        ]
        won = Stage.objects.get(pipeline=pipeline, outcome=Stage.Outcome.WON)
        move_deal(membership=crm.manager, deal=deal, stage=won, close_tasks=True)
        sent = WebhookDelivery.objects.filter(subscription=hook, event="task.completed")
        assert sorted(d.payload["task"]["id"] for d in sent) == sorted(t.pk for t in tasks)
        assert all(d.payload["task"]["done_at"] for d in sent)
    with crm.b:
        assert not WebhookDelivery.objects.exists()
