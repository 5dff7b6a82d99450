"""Billing pages: the public pricing page, Stripe's webhook, and a company's billing settings.

Thin: the work is in billing.services; lookups are by the request's company only.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing import stripe_gateway
from billing.models import LIMIT_KEYS, Plan
from billing.queries import (
    failed_payments_of,
    invoices_of,
    monthly_total,
    public_plans,
    seat_summary,
)
from billing.services import subscriptions
from billing.templatetags.billing_format import plan_name
from relata import jsonlimits
from tenants.models import Membership
from tenants.queries.team import can_manage_team
from tenants.urlbuilding import company_url

logger = logging.getLogger(__name__)


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "billing/pricing.html",
        {"plans": list(public_plans()), "limit_keys": LIMIT_KEYS},
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store once, acknowledge at once; the work happens in a Celery task."""
    from billing.tasks import process_stripe_event

    signature = request.headers.get("Stripe-Signature", "")
    try:
        # Bounded before Stripe's SDK parses it (its json.loads recurses per nesting level).
        jsonlimits.check(request.body, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        event = stripe_gateway.construct_event(request.body, signature)
    except Exception as exc:
        # A forged, stale (older than 300 s) or malformed delivery: refused and logged.
        logger.warning("stripe webhook refused: %s: %s", type(exc).__name__, exc)
        return HttpResponse(status=400)
    stored = subscriptions.store_event(event)
    if stored is not None:
        event_pk = stored.pk
        transaction.on_commit(lambda: _enqueue(process_stripe_event, event_pk))
    return HttpResponse(status=200)


def _enqueue(task: object, event_pk: int) -> None:
    try:
        task.delay(event_pk)  # type: ignore[attr-defined]
    except Exception:
        # The event is stored; the nightly reconciliation re-reads every subscription anyway.
        logger.exception("could not enqueue stripe event %s", event_pk)


def _billing_admin(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if getattr(request, "company", None) is None or not can_manage_team(membership):
        raise Http404("owners and admins only")
    return membership  # type: ignore[return-value]


def _refusal(request: HttpRequest, exc: Exception) -> HttpResponse:
    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("company_billing")


def _chosen_plan(request: HttpRequest) -> Plan | None:
    code = request.POST.get("plan", "")
    return Plan.objects.filter(code=code).first() if code else None


@require_GET
def company_billing(request: HttpRequest) -> HttpResponse:
    if getattr(request, "company", None) is not None and not request.user.is_authenticated:
        return redirect("company_login")
    actor = _billing_admin(request)
    session_id = request.GET.get("session_id", "")
    if session_id and stripe_gateway.live():
        try:
            confirmed = subscriptions.confirm_checkout(actor.company, session_id[:200])
        except Exception:
            # The webhook brings the same news a little later.
            logger.exception("could not confirm checkout session")
            confirmed = None
        if confirmed is not None and subscriptions.paying_through_stripe(confirmed):
            messages.success(request, _("Thank you! The subscription is active."))
        else:
            messages.info(
                request,
                _("Thank you! The subscription turns active as soon as the payment is confirmed."),
            )
        return redirect("company_billing")
    subscription = subscriptions.ensure_subscription(actor.company)
    seats = seat_summary(actor.company)
    return render(
        request,
        "billing/company_billing.html",
        {
            "subscription": subscription,
            "paying": subscriptions.paying_through_stripe(subscription),
            "seats": seats,
            "monthly_total": monthly_total(seats),
            "plans": list(public_plans()),
            "live": stripe_gateway.live(),
            # Which settings to set is for whoever runs this installation, not every admin.
            "show_setup_hint": settings.DEBUG or request.user.is_staff,
            "invoices": invoices_of(actor.company),
            "failed_payments": failed_payments_of(actor.company),
            "nonce": uuid.uuid4().hex,
        },
    )


@require_POST
def choose_plan(request: HttpRequest) -> HttpResponse:
    """A plan for the trial (paid later through Checkout) or, when paying, a switch."""
    actor = _billing_admin(request)
    plan = _chosen_plan(request)
    if plan is None:
        messages.error(request, _("Choose one of the plans."))
        return redirect("company_billing")
    try:
        subscriptions.choose_plan(
            actor=actor, plan=plan, nonce=request.POST.get("nonce", "") or uuid.uuid4().hex
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refusal(request, exc)
    messages.success(request, _("Plan %(plan)s chosen.") % {"plan": plan_name(plan)})
    return redirect("company_billing")


@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    actor = _billing_admin(request)
    if not stripe_gateway.live():
        messages.error(request, _("Online payment is not set up on this installation yet."))
        return redirect("company_billing")
    back = company_url(request, actor.company, "/settings/billing/")
    try:
        plan = _chosen_plan(request)
        if plan is not None:
            subscriptions.choose_plan(actor=actor, plan=plan)
        url = subscriptions.start_checkout(
            actor=actor,
            # Stripe puts the session's id in place of the placeholder.
            success_url=back + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=back,
            nonce=request.POST.get("nonce", "") or uuid.uuid4().hex,
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refusal(request, exc)
    return HttpResponseRedirect(url)


@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    return _period_end(request, stop=True)


@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    return _period_end(request, stop=False)


def _period_end(request: HttpRequest, *, stop: bool) -> HttpResponse:
    actor = _billing_admin(request)
    if not stripe_gateway.live():
        messages.error(request, _("Online payment is not set up on this installation yet."))
        return redirect("company_billing")
    try:
        subscription = subscriptions.stop_at_period_end(
            actor=actor, stop=stop, nonce=request.POST.get("nonce", "") or uuid.uuid4().hex
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refusal(request, exc)
    if stop and subscription.current_period_end:
        messages.success(
            request,
            _("The subscription ends on %(date)s. Until then everything works as usual.")
            % {"date": date_format(timezone.localtime(subscription.current_period_end))},
        )
    elif stop:
        messages.success(request, _("The subscription ends at the end of the paid period."))
    else:
        messages.success(request, _("The subscription continues."))
    return redirect("company_billing")


@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    actor = _billing_admin(request)
    if not stripe_gateway.live():
        messages.error(request, _("Online payment is not set up on this installation yet."))
        return redirect("company_billing")
    try:
        url = subscriptions.portal_url(
            actor=actor, return_url=company_url(request, actor.company, "/settings/billing/")
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refusal(request, exc)
    return HttpResponseRedirect(url)
