"""Admin writes: rules and their actions, forms, working hours, and Kirill's industry template."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from crm_core.access import require_admin
from crm_core.automation.models import (
    AutomationSettings,
    Holiday,
    RequestForm,
    RuleAction,
    StageRule,
    WorkingHours,
)
from crm_core.automation.services import placeholders
from crm_core.automation.services.rules import parse_field_value
from crm_core.models import Pipeline, Stage, Task
from crm_core.services import limits
from crm_core.services.audit import record
from tenants.models import Company, Membership


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_api_key(*, membership: Membership, form: RequestForm) -> str:
    """A new API key for the form (the old one stops working). Shown once; only its hash stays."""
    require_admin(membership)
    key = f"rf_{form.public_id[:6]}_{secrets.token_urlsafe(24)}"
    RequestForm.objects.filter(pk=form.pk).update(api_key_hash=hash_key(key))
    record(membership, form, "api_key", {"api_key": (None, "issued")})
    return key


@transaction.atomic
def save_form(*, membership: Membership, form: RequestForm) -> RequestForm:
    require_admin(membership)
    created = form.pk is None
    form.full_clean()
    form.save()
    record(membership, form, "create" if created else "update", {"name": (None, form.name)})
    return form


def check_action(action: RuleAction) -> None:
    """Refuse an action that could not run, with the reason, when it is saved (not at 3 a.m.)."""
    errors: dict[str, list[str]] = {}
    for name in ("title", "text"):
        try:
            placeholders.check(getattr(action, name))
        except ValidationError as exc:
            errors[name] = exc.messages
    if action.kind == RuleAction.Kind.SET_FIELD:
        try:
            parse_field_value(action.field, action.value)
        except ValidationError as exc:
            errors["value" if exc.code == "value" else "field"] = exc.messages
    if action.kind == RuleAction.Kind.WEBHOOK and not action.url:
        errors["url"] = [_("Give the address to call.")]
    if action.kind in (RuleAction.Kind.TASK, RuleAction.Kind.EMAIL_CLIENT) and not action.title:
        errors["title"] = [_("Write the task or the subject.")]
    if (
        action.who == RuleAction.Who.PERSON
        and not action.person_id
        and action.kind
        in (
            RuleAction.Kind.TASK,
            RuleAction.Kind.NOTIFY,
        )
    ):
        errors["person"] = [_("Choose the person.")]
    if action.who == RuleAction.Who.ROLE and action.role not in Membership.Role.values:
        errors["role"] = [_("Choose a role.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_rule(*, membership: Membership, rule: StageRule) -> StageRule:
    require_admin(membership)
    created = rule.pk is None
    if created:
        limits.check_automation_rule(membership.company)
    rule.save()
    record(
        membership,
        rule,
        "create" if created else "update",
        {"name": (None, rule.name), "active": (None, rule.is_active)},
    )
    return rule


@transaction.atomic
def add_action(*, membership: Membership, rule: StageRule, action: RuleAction) -> RuleAction:
    require_admin(membership)
    check_action(action)
    action.rule = rule
    action.position = rule.actions.count()
    action.save()
    record(membership, rule, "add_action", {"action": (None, str(action))})
    return action


# A stage rule as a template gives it: (open stage's position, rule name, trigger, actions).
RuleSpec = tuple[int, str, str, list[dict[str, Any]]]

# Kirill's window company (docs: product.md): request → call back within 15 minutes →
# measurement → quote within 2 hours → payment document → installation.
WINDOW_RULES: list[RuleSpec] = [
    (
        0,
        gettext_noop("Call the new client back"),
        StageRule.Trigger.ENTERS,
        [
            {
                "kind": RuleAction.Kind.TASK,
                "title": gettext_noop("Call the client back: {deal}"),
                "task_kind": Task.Kind.CALL,
                "due_minutes": 15,
                "sla": True,
            }
        ],
    ),
    (
        1,
        gettext_noop("Measurement visit"),
        StageRule.Trigger.ENTERS,
        [
            {
                "kind": RuleAction.Kind.TASK,
                "title": gettext_noop("Go measure for {deal}"),
                "task_kind": Task.Kind.MEASUREMENT,
                "due_minutes": 24 * 60,
            }
        ],
    ),
    (
        2,
        gettext_noop("Quote within 2 hours"),
        StageRule.Trigger.ENTERS,
        [
            {
                "kind": RuleAction.Kind.TASK,
                "title": gettext_noop("Calculate the cost and call the client: {deal}"),
                "task_kind": Task.Kind.CALL,
                "due_minutes": 120,
                "sla": True,
            }
        ],
    ),
    (
        3,
        gettext_noop("Contract and payment"),
        StageRule.Trigger.ENTERS,
        [
            {
                "kind": RuleAction.Kind.TASK,
                "title": gettext_noop("Send the contract and the invoice: {deal}"),
                "task_kind": Task.Kind.OTHER,
                "due_minutes": 24 * 60,
            }
        ],
    ),
    (
        4,
        gettext_noop("Installation"),
        StageRule.Trigger.ENTERS,
        [
            {
                "kind": RuleAction.Kind.TASK,
                "title": gettext_noop("Install the windows: {deal}"),
                "task_kind": Task.Kind.INSTALLATION,
                "due_minutes": 7 * 24 * 60,
            }
        ],
    ),
]


@transaction.atomic
def install_window_template(
    *, membership: Membership, company: Company, switch_on: bool = True
) -> list[StageRule]:
    """Kirill's rules on the first five stages of the default pipeline."""
    pipeline = Pipeline.objects.order_by("-is_default", "position", "id").first()
    if pipeline is None:
        raise ValidationError(_("Create a pipeline first."), code="no_pipeline")
    return install_rules(
        membership=membership,
        company=company,
        pipeline=pipeline,
        rules=WINDOW_RULES,
        switch_on=switch_on,
    )


@transaction.atomic
def install_rules(
    *,
    membership: Membership,
    company: Company,
    pipeline: Pipeline,
    rules: list[RuleSpec],
    switch_on: bool = True,
) -> list[StageRule]:
    """A template's rules on the pipeline's open stages, by position. Idempotent: a rule
    with the same name on the stage is not made twice."""
    require_admin(membership)
    stages = list(
        Stage.objects.filter(pipeline=pipeline, outcome=Stage.Outcome.OPEN).order_by(
            "position", "id"
        )
    )
    made = []
    with override(company.language):
        for index, name, trigger, actions in rules:
            if index >= len(stages):
                break
            rule, created = StageRule.objects.get_or_create(
                stage=stages[index],
                name=_(name),
                defaults={"trigger": trigger, "is_active": switch_on},
            )
            if created:
                for position, spec in enumerate(actions):
                    RuleAction.objects.create(
                        rule=rule, position=position, **{**spec, "title": _(str(spec["title"]))}
                    )
                made.append(rule)
    record(membership, pipeline, "automation_template", {"rules": (None, len(made))})
    return made


def _parse_hours(text: str) -> dict[int, tuple[dt.time, dt.time]]:
    days: dict[int, tuple[dt.time, dt.time]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            day, span = line.split(maxsplit=1)
            opens, closes = (dt.time.fromisoformat(p.strip()) for p in span.split("-"))
            weekday = int(day) - 1
        except ValueError as exc:
            raise ValidationError(
                {"hours": _("Line %(n)s: write e.g. 1 09:00-18:00.") % {"n": number}}
            ) from exc
        if not 0 <= weekday <= 6 or opens >= closes:
            raise ValidationError(
                {
                    "hours": _("Line %(n)s: a weekday 1–7 and opening before closing.")
                    % {"n": number}
                }
            )
        days[weekday] = (opens, closes)
    return days


def _parse_holidays(text: str) -> set[dt.date]:
    days = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                days.add(dt.date.fromisoformat(line.strip()))
            except ValueError as exc:
                raise ValidationError(
                    {"holidays": _("Line %(n)s: write a date as 2026-01-01.") % {"n": number}}
                ) from exc
    return days


@transaction.atomic
def save_hours(
    *, membership: Membership, escalate_after_minutes: int, hours: str, holidays: str
) -> None:
    """Replace the working hours and holidays (both checked first: all or nothing)."""
    require_admin(membership)
    days, free = _parse_hours(hours), _parse_holidays(holidays)
    WorkingHours.objects.all().delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(weekday=d, opens=o, closes=c) for d, (o, c) in sorted(days.items())
    )
    Holiday.objects.all().delete()
    Holiday.objects.bulk_create(Holiday(day=d) for d in sorted(free))
    row = AutomationSettings.current()
    row.escalate_after_minutes = escalate_after_minutes
    row.save(update_fields=["escalate_after_minutes"])
    record(membership, row, "update", {"hours": (None, hours), "holidays": (None, holidays)})


def hours_text() -> str:
    return "\n".join(
        f"{w.weekday + 1} {w.opens:%H:%M}-{w.closes:%H:%M}" for w in WorkingHours.objects.all()
    )


def holidays_text() -> str:
    return "\n".join(f"{h.day:%Y-%m-%d}" for h in Holiday.objects.all())


def save_repeat_window(*, membership: Membership, minutes: int) -> None:
    """How long a repeat request from the same phone or e-mail joins the open deal (admins)."""
    require_admin(membership)
    if not 0 <= minutes <= 30 * 24 * 60:
        raise ValidationError(
            {"repeat_window_minutes": _("Between 0 and 43200 minutes (30 days).")},
            code="out_of_range",
        )
    row = AutomationSettings.current()
    before = row.repeat_window_minutes
    row.repeat_window_minutes = minutes
    row.save(update_fields=["repeat_window_minutes"])
    record(membership, row, "update", {"repeat_window_minutes": (before, minutes)})
