"""Stage rules: what happens to a deal when it enters a stage, is created there, or stays.

Actions run inside the transaction of the write that triggered them (a move, a new deal), so a
rolled-back move leaves no tasks behind; e-mails and webhook calls leave after the commit.
``run_actions(..., dry_run=True)`` describes what would happen and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core import signals
from crm_core.automation.models import RuleAction, StageRule, Timer
from crm_core.automation.services import placeholders, timers, webhooks
from crm_core.automation.services.clock import add_working_minutes
from crm_core.automation.services.notify import heads_of, is_active_member, notify
from crm_core.models import Activity, Contact, Deal, Stage, Task
from relata.inputs import whole_number
from tenants.models import Company, Membership, User

DEAL_FIELDS = ("title", "amount", "source", "expected_close")


def on_deal_at_stage(company: Company, deal: Deal, *, created: bool) -> None:
    """A deal arrived at its current stage: run the immediate rules, start the waiting ones."""
    triggers = [StageRule.Trigger.ENTERS, StageRule.Trigger.STAYS]
    if created:
        triggers.append(StageRule.Trigger.CREATED)
    rules = StageRule.objects.filter(
        stage_id=deal.stage_id, is_active=True, trigger__in=triggers
    ).prefetch_related("actions")
    for rule in rules:
        if rule.trigger == StageRule.Trigger.STAYS:
            timers.schedule(
                kind=Timer.Kind.STAYS,
                due_at=deal.stage_entered_at + dt.timedelta(minutes=rule.stays_minutes),
                deal=deal,
                rule=rule,
                stage_entered_at=deal.stage_entered_at,
            )
        else:
            run_actions(company, rule, deal)


def has_rules_at(stage: Stage) -> bool:
    """Whether a deal arriving at ``stage`` sets off anything (a bulk move asks once)."""
    return StageRule.objects.filter(
        stage=stage,
        is_active=True,
        trigger__in=[StageRule.Trigger.ENTERS, StageRule.Trigger.STAYS],
    ).exists()


def run_actions(
    company: Company, rule: StageRule, deal: Deal, *, dry_run: bool = False
) -> list[str]:
    """Do (or, in a dry run, describe) every action of the rule; returns one line per action."""
    lines = []
    for action in rule.actions.all():
        handler = _HANDLERS[RuleAction.Kind(action.kind)]
        lines.append(handler(company, rule, action, deal, dry_run))
    return lines


def dry_run(company: Company, rule: StageRule, deal: Deal) -> list[str]:
    lines = []
    if rule.trigger == StageRule.Trigger.STAYS:
        lines.append(
            _("Waits until the deal has been at “%(stage)s” for %(minutes)s minutes, then:")
            % {"stage": rule.stage.name, "minutes": rule.stays_minutes}
        )
    with transaction.atomic():
        lines += run_actions(company, rule, deal, dry_run=True)
        # Belt and braces: nothing a dry run touched may stay.
        transaction.set_rollback(True)
    return lines


def _people(company: Company, action: RuleAction, deal: Deal) -> list[int]:
    if action.who == RuleAction.Who.MANAGER:
        ids = [deal.responsible_id] if deal.responsible_id else []
    elif action.who == RuleAction.Who.PERSON:
        ids = [action.person_id] if action.person_id else []
    elif action.who == RuleAction.Who.HEAD:
        ids = heads_of(company, deal.responsible_id)
    else:
        ids = _least_busy_with_role(company, action.role)
    return [i for i in ids if is_active_member(company, i)]


def _least_busy_with_role(company: Company, role: str) -> list[int]:
    members = list(
        Membership.objects.filter(company=company, role=role, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    if not members:
        return []
    load = dict(
        Task.objects.filter(assignee_id__in=members, done_at__isnull=True)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    return [min(sorted(members), key=lambda m: load.get(m, 0))]


def _name(user_id: int) -> str:
    user = User.objects.filter(pk=user_id).first()
    return user.get_full_name() if user else str(user_id)


def _task(company: Company, rule: StageRule, action: RuleAction, deal: Deal, dry_run: bool) -> str:
    people = _people(company, action, deal)
    title = placeholders.fill(action.title, deal, company)
    if not people:
        return _("Task “%(title)s”: nobody to give it to (skipped)") % {"title": title}
    deadline = add_working_minutes(company, timezone.now(), action.due_minutes)
    when = timezone.localtime(deadline).strftime("%d.%m.%Y %H:%M")
    line = _("Task “%(title)s” for %(who)s, due %(when)s") % {
        "title": title,
        "who": ", ".join(_name(p) for p in people),
        "when": when,
    }
    if action.sla:
        line += " · " + _("SLA with escalation")
    if dry_run:
        return line
    for person in people:
        task = Task.objects.create(
            title=title[:300],
            kind=action.task_kind,
            assignee_id=person,
            deadline=deadline,
            deal=deal,
            client_id=deal.client_id,
            description=placeholders.fill(action.text, deal, company),
        )
        if action.sla:
            timers.start_sla(company, task)
        signals.task_created.send(Task, task=task, membership=None)
    return line


def _notify(
    company: Company, rule: StageRule, action: RuleAction, deal: Deal, dry_run: bool
) -> str:
    people = _people(company, action, deal)
    text = placeholders.fill(action.text or action.title, deal, company)
    line = _("Notice “%(text)s” to %(who)s") % {
        "text": text,
        "who": ", ".join(_name(p) for p in people) or "—",
    }
    if not dry_run:
        for person in people:
            notify(company, person, text, f"/deals/{deal.pk}/")
    return line


def client_email(deal: Deal) -> str:
    if not deal.client_id:
        return ""
    for emails in Contact.objects.filter(client_id=deal.client_id).values_list("emails", flat=True):
        if emails:
            return str(emails[0])
    return ""


def _email_client(
    company: Company, rule: StageRule, action: RuleAction, deal: Deal, dry_run: bool
) -> str:
    address = client_email(deal)
    subject = placeholders.fill(action.title, deal, company)
    if not address:
        return _("E-mail “%(subject)s”: the client has no e-mail (skipped)") % {"subject": subject}
    line = _("E-mail “%(subject)s” to %(to)s") % {"subject": subject, "to": address}
    if dry_run:
        return line
    body = placeholders.fill(action.text, deal, company)
    Activity.objects.create(
        kind=Activity.Kind.EMAIL,
        deal=deal,
        client_id=deal.client_id,
        summary=subject[:300],
        body=body,
    )
    transaction.on_commit(lambda: send_mail(subject, body, None, [address], fail_silently=True))
    return line


def parse_field_value(field: str, value: str) -> object:
    """The stored value for "change a field", or a clear error (checked when the rule is saved)."""
    if field == "amount":
        try:
            return Decimal(value.replace(" ", "").replace(",", "."))
        except InvalidOperation as exc:
            raise ValidationError(_("The amount must be a number."), code="value") from exc
    if field == "expected_close":
        # "+N": N days after the rule runs (up to ten years).
        if value.startswith("+") and (days := whole_number(value[1:], below=3_651)) is not None:
            return timezone.localdate() + dt.timedelta(days=days)
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(
                _("Write a date as 2025-12-31 or a number of days ahead as +7."), code="value"
            ) from exc
    if field in ("title", "source") or field.startswith("custom:"):
        return value
    raise ValidationError(_("This field cannot be changed by a rule."), code="field")


def _set_field(
    company: Company, rule: StageRule, action: RuleAction, deal: Deal, dry_run: bool
) -> str:
    value = parse_field_value(action.field, action.value)
    line = _("Field %(field)s := %(value)s") % {"field": action.field, "value": value}
    if dry_run:
        return line
    current = Deal.objects.select_for_update().get(pk=deal.pk)
    if action.field.startswith("custom:"):
        key = action.field.removeprefix("custom:")
        old = current.custom.get(key)
        current.custom = {**current.custom, key: value}
        changes = {action.field: (old, value)}
        Deal.objects.filter(pk=deal.pk).update(
            custom=current.custom, version=F("version") + 1, updated_at=timezone.now()
        )
    else:
        old = getattr(current, action.field)
        changes = {action.field: (old, value)}
        Deal.objects.filter(pk=deal.pk).update(
            **{action.field: value}, version=F("version") + 1, updated_at=timezone.now()
        )
    current.refresh_from_db()
    signals.deal_changed.send(Deal, deal=current, changes=changes, membership=None)
    return line


def _webhook(
    company: Company, rule: StageRule, action: RuleAction, deal: Deal, dry_run: bool
) -> str:
    line = _("Webhook to %(url)s") % {"url": action.url}
    if not dry_run:
        webhooks.enqueue(
            url=action.url,
            event="deal.stage_rule",
            payload=webhooks.deal_payload(deal, rule),
            rule=rule,
        )
    return line


_HANDLERS = {
    RuleAction.Kind.TASK: _task,
    RuleAction.Kind.NOTIFY: _notify,
    RuleAction.Kind.EMAIL_CLIENT: _email_client,
    RuleAction.Kind.SET_FIELD: _set_field,
    RuleAction.Kind.WEBHOOK: _webhook,
}
