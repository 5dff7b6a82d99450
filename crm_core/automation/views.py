"""Automation settings (owners and admins) and the SLA panel of a deal (any member who sees it).

Thin: reads through queries, writes through services.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from crm_core.automation import queries
from crm_core.automation.forms import (
    DryRunForm,
    HoursForm,
    RepeatWindowForm,
    RequestFormForm,
    RuleActionForm,
    StageRuleForm,
)
from crm_core.automation.models import (
    AutomationSettings,
    RequestForm,
    RuleAction,
    StageRule,
    WebhookDelivery,
)
from crm_core.automation.services import rules as rule_service
from crm_core.automation.services import setup, webhooks
from crm_core.models import Deal
from crm_core.once_views import acts_once
from crm_core.queries.deals import deal_for
from crm_core.services.limits import PlanLimitReachedError
from crm_core.views import _errors_to_form, _fail, _membership
from tenants.models import Company


def _admin(request: HttpRequest) -> None:
    if not is_admin(_membership(request)):
        raise Http404("owners and admins only")


def _company(request: HttpRequest) -> Company:
    return request.company  # type: ignore[attr-defined]


@member_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(
        request,
        "automation/overview.html",
        {
            "forms": queries.forms(),
            "rules": queries.rules(),
            "repeat_form": RepeatWindowForm(
                initial={
                    "repeat_window_minutes": AutomationSettings.current().repeat_window_minutes
                }
            ),
        },
    )


@member_required
@require_POST
def install_template(request: HttpRequest) -> HttpResponse:
    _admin(request)
    try:
        made = setup.install_window_template(
            membership=_membership(request), company=_company(request)
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Rules added: %(n)s.") % {"n": len(made)})
    return redirect("automation_overview")


@member_required
@require_http_methods(["GET", "POST"])
@acts_once
def form_edit(request: HttpRequest, form_id: int | None = None) -> HttpResponse:
    _admin(request)
    instance = get_object_or_404(RequestForm, pk=form_id) if form_id else RequestForm()
    form = RequestFormForm(request.POST or None, instance=instance, company=_company(request))
    if request.method == "POST" and form.is_valid():
        try:
            saved = setup.save_form(membership=_membership(request), form=form.save(commit=False))
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Form saved."))
            return redirect("automation_form", saved.pk)
    public_url = embed_url = ""
    if instance.pk:
        public_url = request.build_absolute_uri(
            reverse("automation_public_form", args=[instance.public_id])
        )
        embed_url = request.build_absolute_uri(
            reverse("automation_embed", args=[instance.public_id])
        )
    return render(
        request,
        "automation/form_edit.html",
        {
            "form": form,
            "instance": instance,
            "public_url": public_url,
            "embed_url": embed_url,
            "api_url": request.build_absolute_uri(reverse("automation_api_request")),
            "requests": queries.recent_requests(instance) if instance.pk else [],
        },
    )


@member_required
@require_POST
def form_key(request: HttpRequest, form_id: int) -> HttpResponse:
    _admin(request)
    form = get_object_or_404(RequestForm, pk=form_id)
    key = setup.issue_api_key(membership=_membership(request), form=form)
    messages.success(
        request, _("The form's API key (shown only now, copy it): %(key)s") % {"key": key}
    )
    return redirect("automation_form", form.pk)


@member_required
@require_http_methods(["GET", "POST"])
@acts_once
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    _admin(request)
    rule = get_object_or_404(StageRule, pk=rule_id) if rule_id else StageRule()
    form = StageRuleForm(
        request.POST if request.POST.get("part") == "rule" else None, instance=rule
    )
    action_form = RuleActionForm(
        request.POST if request.POST.get("part") == "action" else None, company=_company(request)
    )
    if request.method == "POST" and request.POST.get("part") == "rule" and form.is_valid():
        try:
            saved = setup.save_rule(membership=_membership(request), rule=form.save(commit=False))
        except PlanLimitReachedError as exc:
            _fail(request, exc)
            return redirect("automation_overview")
        messages.success(request, _("Rule saved."))
        return redirect("automation_rule", saved.pk)
    if (
        request.method == "POST"
        and request.POST.get("part") == "action"
        and rule.pk
        and action_form.is_valid()
    ):
        try:
            setup.add_action(
                membership=_membership(request),
                rule=rule,
                action=action_form.save(commit=False),
            )
        except ValidationError as exc:
            _errors_to_form(action_form, exc)
        else:
            messages.success(request, _("Action added."))
            return redirect("automation_rule", rule.pk)
    return render(
        request,
        "automation/rule_edit.html",
        {
            "form": form,
            "rule": rule,
            "action_form": action_form,
            "actions": rule.actions.all() if rule.pk else [],
            "dry_form": DryRunForm(),
        },
    )


@member_required
@require_POST
def action_remove(request: HttpRequest, rule_id: int, action_id: int) -> HttpResponse:
    _admin(request)
    action = get_object_or_404(RuleAction, pk=action_id, rule_id=rule_id)
    action.delete()
    return redirect("automation_rule", rule_id)


@member_required
@require_POST
def rule_dry_run(request: HttpRequest, rule_id: int) -> HttpResponse:
    _admin(request)
    rule = get_object_or_404(StageRule.objects.select_related("stage"), pk=rule_id)
    form = DryRunForm(request.POST)
    lines: list[str] = []
    if form.is_valid():
        deal = Deal.objects.select_related("stage", "client").filter(pk=form.cleaned_data["deal"])
        found = deal.first()
        if found is None:
            form.add_error("deal", _("There is no deal with this number."))
        else:
            lines = rule_service.dry_run(_company(request), rule, found)
    return render(
        request,
        "automation/_dry_run.html",
        {"rule": rule, "lines": lines, "dry_form": form},
        status=200 if form.is_valid() and not form.errors else 400,
    )


@member_required
@require_http_methods(["GET", "POST"])
def working_hours(request: HttpRequest) -> HttpResponse:
    _admin(request)
    settings_row = AutomationSettings.current()
    form = HoursForm(
        request.POST or None,
        initial={
            "escalate_after_minutes": settings_row.escalate_after_minutes,
            "hours": setup.hours_text(),
            "holidays": setup.holidays_text(),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            setup.save_hours(membership=_membership(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Working hours saved."))
            return redirect("automation_hours")
    return render(request, "automation/hours.html", {"form": form})


@member_required
@require_GET
def webhook_log(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(
        request,
        "automation/webhooks.html",
        {
            "deliveries": queries.deliveries(),
            "secret": AutomationSettings.current().webhook_secret,
        },
    )


@member_required
@require_POST
def webhook_resend(request: HttpRequest, delivery_id: int) -> HttpResponse:
    _admin(request)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
    if webhooks.resend(delivery):
        messages.success(request, _("The delivery will be tried again."))
    else:
        messages.info(request, _("This delivery is already being sent or was delivered."))
    return redirect("automation_webhooks")


@member_required
@require_GET
def deal_sla(request: HttpRequest, deal_id: int) -> HttpResponse:
    """The SLA panel of a deal (countdown or breach), for any member who may see the deal."""
    deal = deal_for(_membership(request), deal_id)
    return render(
        request, "automation/_sla.html", {"sla": queries.sla_for_deal(deal), "deal": deal}
    )
