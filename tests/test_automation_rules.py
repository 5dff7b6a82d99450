"""Stage rules: actions on entering a stage, waiting rules, dry run, Kirill's template, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm_core.automation.models import (
    AutomationSettings,
    RequestForm,
    RuleAction,
    StageRule,
    Timer,
    WebhookDelivery,
)
from crm_core.automation.services import rules, setup, timers, webhooks
from crm_core.automation.services.capture import WEB_FORM, Inbound, receive
from crm_core.models import Activity, Client, Contact, Deal, Notification, Stage, Task
from crm_core.services.deals import create_deal, move_deal


def _stage(crm: Any, position: int) -> Stage:
    return crm.pipeline.stages.order_by("position")[position]


def _deal(crm: Any) -> Deal:
    client = Client.objects.create(name="Петров", responsible=crm.manager.user)
    Contact.objects.create(client=client, last_name="Петров", emails=["petrov@example.com"])
    return create_deal(
        membership=crm.manager, title="Окна на дачу", pipeline=crm.pipeline, client=client
    )


def test_entering_a_stage_runs_every_action(
    crm: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with crm.a:
        measurement = _stage(crm, 1)
        rule = StageRule.objects.create(
            stage=measurement, name="Замер", trigger=StageRule.Trigger.ENTERS, is_active=True
        )
        for spec in (
            {
                "kind": "task",
                "who": "role",
                "role": "head",
                "title": "Замер: {deal}",
                "due_minutes": 60,
            },
            {"kind": "notify", "who": "manager", "text": "{deal} перешла на {stage}"},
            {"kind": "email_client", "title": "Замерщик едет", "text": "Здравствуйте, {client}!"},
            {"kind": "set_field", "field": "amount", "value": "15 000,50"},
            {"kind": "webhook", "url": "https://hooks.example/relata"},
        ):
            setup.add_action(membership=crm.owner, rule=rule, action=RuleAction(**spec))
        deal = _deal(crm)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            move_deal(membership=crm.manager, deal=deal, stage=measurement)
        task = Task.objects.get(deal=deal)
        assert task.assignee_id == crm.head.user_id
        assert task.title == "Замер: Окна на дачу"
        assert abs((task.deadline - timezone.now()) - timedelta(minutes=60)) < timedelta(minutes=1)
        assert Notification.objects.filter(
            user=crm.manager.user, text__startswith="Окна на дачу перешла на"
        ).exists()
        assert Activity.objects.filter(deal=deal, kind=Activity.Kind.EMAIL).exists()
        deal.refresh_from_db()
        assert deal.amount == Decimal("15000.50")
        delivery = WebhookDelivery.objects.get()
        assert delivery.payload["deal"]["id"] == deal.pk
        assert callbacks  # e-mails and the webhook leave only after the commit
        for callback in callbacks:
            if "send_mail" in callback.__code__.co_names:
                callback()
        assert any(m.to == ["petrov@example.com"] for m in mail.outbox)


def test_a_rolled_back_move_leaves_no_tasks(crm: Any) -> None:
    with crm.a:
        measurement = _stage(crm, 1)
        rule = StageRule.objects.create(
            stage=measurement, name="r", trigger=StageRule.Trigger.ENTERS, is_active=True
        )
        setup.add_action(
            membership=crm.owner, rule=rule, action=RuleAction(kind="task", title="Go")
        )
        deal = _deal(crm)
        with pytest.raises(ValidationError):
            move_deal(membership=crm.manager, deal=deal, stage=measurement, version=999)
        assert not Task.objects.filter(deal=deal).exists()


def test_dry_run_describes_and_changes_nothing(crm: Any) -> None:
    with crm.a:
        rule = StageRule.objects.create(
            stage=_stage(crm, 0), name="r", trigger=StageRule.Trigger.ENTERS, is_active=False
        )
        setup.add_action(
            membership=crm.owner,
            rule=rule,
            action=RuleAction(kind="task", title="Перезвонить {client}", due_minutes=15, sla=True),
        )
        setup.add_action(
            membership=crm.owner,
            rule=rule,
            action=RuleAction(kind="set_field", field="source", value="x"),
        )
        deal = _deal(crm)  # the rule is off, so creating the deal did nothing
        before = (Task.objects.count(), Timer.objects.count())
        lines = rules.dry_run(crm.a.company, rule, deal)
        assert "Перезвонить Петров" in lines[0]
        assert "SLA" in lines[0]
        assert "source" in lines[1]
        deal.refresh_from_db()
        assert deal.source == ""
        assert (Task.objects.count(), Timer.objects.count()) == before


def test_dry_run_page_for_admins(crm: Any) -> None:
    from tests.test_isolation import login_on_host

    with crm.a:
        rule = StageRule.objects.create(
            stage=_stage(crm, 0), name="r", trigger=StageRule.Trigger.ENTERS
        )
        setup.add_action(
            membership=crm.owner, rule=rule, action=RuleAction(kind="notify", text="Hi {deal}")
        )
        deal = _deal(crm)
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = owner.post(
        f"/automation/rules/{rule.pk}/dry-run/", {"deal": deal.pk}, HTTP_HOST=crm.a.host
    )
    assert page.status_code == 200
    assert "Hi Окна на дачу" in page.content.decode()
    missing = owner.post(
        f"/automation/rules/{rule.pk}/dry-run/", {"deal": 99999}, HTTP_HOST=crm.a.host
    )
    assert missing.status_code == 400


def test_unknown_placeholder_and_bad_values_are_refused_when_saved(crm: Any) -> None:
    with crm.a:
        rule = StageRule.objects.create(stage=_stage(crm, 0), name="r", trigger="enters")
        with pytest.raises(ValidationError) as bad:
            setup.add_action(
                membership=crm.owner, rule=rule, action=RuleAction(kind="task", title="{dael}")
            )
        assert "{dael}" in str(bad.value)
        with pytest.raises(ValidationError):
            setup.add_action(
                membership=crm.owner,
                rule=rule,
                action=RuleAction(kind="set_field", field="amount", value="много"),
            )
        with pytest.raises(ValidationError):
            setup.add_action(
                membership=crm.owner,
                rule=rule,
                action=RuleAction(kind="set_field", field="stage_id", value="1"),
            )
        assert not rule.actions.exists()


def test_stays_rule_fires_only_if_the_deal_is_still_there(crm: Any) -> None:
    with crm.a:
        first = _stage(crm, 0)
        rule = StageRule.objects.create(
            stage=first,
            name="stale",
            trigger=StageRule.Trigger.STAYS,
            stays_minutes=120,
            is_active=True,
        )
        setup.add_action(
            membership=crm.owner,
            rule=rule,
            action=RuleAction(kind="notify", text="{deal} застряла"),
        )
        stuck = _deal(crm)
        moved = _deal(crm)
        move_deal(membership=crm.manager, deal=moved, stage=_stage(crm, 1))
        assert Timer.objects.filter(kind=Timer.Kind.STAYS).count() == 2
        Timer.objects.update(due_at=timezone.now() - timedelta(seconds=1))
        assert timers.fire_due(crm.a.company) == 2
        outcomes = dict(Timer.objects.values_list("deal_id", "outcome"))
        assert outcomes[moved.pk] == "deal moved on"
        assert "застряла" in outcomes[stuck.pk]
        assert Notification.objects.filter(text="Окна на дачу застряла").count() == 1


def test_kirill_template_gives_a_callback_task_with_sla_for_a_website_request(crm: Any) -> None:
    with crm.a:
        made = setup.install_window_template(membership=crm.owner, company=crm.a.company)
        assert len(made) == 5
        assert setup.install_window_template(membership=crm.owner, company=crm.a.company) == []
        form = RequestForm.objects.create(name="Site", assignee=crm.manager.user)
        captured = receive(
            company=crm.a.company,
            form=form,
            channel=WEB_FORM,
            inbound=Inbound(values={"name": "Иван", "phone": "+79160001122"}),
        )
        task = Task.objects.get(deal=captured.deal)
        assert task.assignee_id == crm.manager.user_id
        assert task.kind == Task.Kind.CALL
        assert timedelta(minutes=14) < task.deadline - timezone.now() <= timedelta(minutes=15)
        assert Timer.objects.get(task=task).kind == Timer.Kind.SLA_OVERDUE
        assert task.deal is not None
        move_deal(membership=crm.manager, deal=task.deal, stage=_stage(crm, 1))
        assert Task.objects.filter(deal=captured.deal, kind=Task.Kind.MEASUREMENT).exists()


class _Hook(BaseHTTPRequestHandler):
    answers: list[str] = []
    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.seen.append((dict(self.headers), body))
        answer = _Hook.answers.pop(0) if _Hook.answers else "200"
        if answer == "slow":
            time.sleep(2.5)
            answer = "200"
        try:
            self.send_response(int(answer))
            self.end_headers()
            self.wfile.write(b"ok" if answer == "200" else b"boom")
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server(settings: Any) -> Iterator[str]:
    settings.AUTOMATION_WEBHOOK_ALLOW_LOOPBACK = True  # the receiver listens on 127.0.0.1
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.seen.clear()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_webhook_is_signed_retried_after_500_and_timeout_and_logged(
    crm: Any, hook_server: str, settings: Any
) -> None:
    settings.AUTOMATION_WEBHOOK_TIMEOUT_SECONDS = 1
    settings.AUTOMATION_WEBHOOK_BACKOFF_SECONDS = 10
    _Hook.answers[:] = ["500", "slow", "200"]
    with crm.a:
        deal = _deal(crm)
        delivery = webhooks.enqueue(
            url=hook_server, event="deal.stage_rule", payload=webhooks.deal_payload(deal)
        )
        assert webhooks.attempt(delivery.pk) == 10
        delivery.refresh_from_db()
        assert (delivery.status, delivery.response_status) == ("retrying", 500)
        assert delivery.response_body == "boom"
        assert webhooks.attempt(delivery.pk) == 20  # exponential: 10, 20, 40…
        delivery.refresh_from_db()
        assert delivery.status == "retrying"
        assert "Timeout" in delivery.error
        assert webhooks.attempt(delivery.pk) is None
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("delivered", 3)
        headers, body = _Hook.seen[-1]
        secret = AutomationSettings.current().webhook_secret
        expected = hmac.new(
            secret.encode(), headers["X-Relata-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["X-Relata-Signature"] == f"sha256={expected}"
        assert json.loads(body)["deal"]["title"] == "Окна на дачу"


def test_webhook_gives_up_visibly_and_refuses_private_addresses_in_production(
    crm: Any, hook_server: str, settings: Any
) -> None:
    settings.AUTOMATION_WEBHOOK_MAX_ATTEMPTS = 2
    _Hook.answers[:] = ["500", "500"]
    with crm.a:
        delivery = webhooks.enqueue(url=hook_server, event="e", payload={})
        webhooks.attempt(delivery.pk)
        assert webhooks.attempt(delivery.pk) is None
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.FAILED
        settings.AUTOMATION_WEBHOOK_ALLOW_LOOPBACK = False
        private = webhooks.enqueue(url=hook_server, event="e", payload={})
        webhooks.attempt(private.pk)
        private.refresh_from_db()
        assert "private" in private.error
        assert private.response_status is None


def test_webhook_log_is_only_for_admins_and_only_this_company(crm: Any) -> None:
    from tests.test_isolation import login_on_host

    with crm.a:
        WebhookDelivery.objects.create(url="https://a.example/hook", event="e")
    with crm.b:
        WebhookDelivery.objects.create(url="https://b.example/hook", event="e")
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = owner.get("/automation/webhooks/", HTTP_HOST=crm.a.host).content.decode()
    assert "a.example" in page
    assert "b.example" not in page
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/automation/webhooks/", HTTP_HOST=crm.a.host).status_code == 404


def test_admin_builds_a_rule_on_the_page_without_code(crm: Any) -> None:
    from tests.test_isolation import login_on_host

    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    with crm.a:
        stage = _stage(crm, 2)
    made = owner.post(
        "/automation/rules/new/",
        {
            "part": "rule",
            "name": "Расчёт",
            "stage": stage.pk,
            "trigger": "enters",
            "stays_minutes": 0,
            "is_active": "on",
        },
        HTTP_HOST=crm.a.host,
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    with crm.a:
        rule = StageRule.objects.get(name="Расчёт")
    bad = owner.post(
        f"/automation/rules/{rule.pk}/",
        {
            "part": "action",
            "kind": "task",
            "who": "manager",
            "title": "{oops}",
            "task_kind": "call",
            "due_minutes": 120,
        },
        HTTP_HOST=crm.a.host,
    )
    assert bad.status_code == 200
    assert "{oops}" in bad.content.decode()
    good = owner.post(
        f"/automation/rules/{rule.pk}/",
        {
            "part": "action",
            "kind": "task",
            "who": "manager",
            "title": "Рассчитать {deal}",
            "task_kind": "call",
            "due_minutes": 120,
            "sla": "on",
        },
        HTTP_HOST=crm.a.host,
    )
    assert good.status_code == 302
    with crm.a:
        action = rule.actions.get()
        assert (action.sla, action.due_minutes) == (True, 120)
        deal = _deal(crm)
        move_deal(membership=crm.manager, deal=deal, stage=stage)
        task = Task.objects.get(deal=deal)
        assert task.title == "Рассчитать Окна на дачу"
        assert Timer.objects.filter(task=task, kind=Timer.Kind.SLA_OVERDUE).exists()
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get(f"/automation/rules/{rule.pk}/", HTTP_HOST=crm.a.host).status_code == 404


def test_a_lost_retry_is_found_by_the_sweep(crm: Any) -> None:
    with crm.a:
        now = timezone.now()
        lost = WebhookDelivery.objects.create(
            url="https://x.example/",
            event="e",
            status="retrying",
            next_attempt_at=now - timedelta(hours=1),
        )
        WebhookDelivery.objects.create(
            url="https://x.example/",
            event="e",
            status="retrying",
            next_attempt_at=now + timedelta(minutes=1),
        )
        WebhookDelivery.objects.create(url="https://x.example/", event="e", status="delivered")
        assert webhooks.stuck(now) == [lost.pk]
    with crm.b:
        assert webhooks.stuck(now) == []
