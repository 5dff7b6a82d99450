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
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing import stripe_gateway
from billing.queries import public_plans, seat_summary
from billing.services import subscriptions
from relata import jsonlimits
from tenants.models import Membership
from tenants.queries.team import can_manage_team
from tenants.urlbuilding import company_url

logger = logging.getLogger(__name__)


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/pricing.html", {"plans": list(public_plans())})


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


@require_GET
def company_billing(request: HttpRequest) -> HttpResponse:
    if getattr(request, "company", None) is not None and not request.user.is_authenticated:
        return redirect("company_login")
    actor = _billing_admin(request)
    subscription = subscriptions.ensure_subscription(actor.company)
    if request.GET.get("paid") and not subscription.stripe_subscription_id:
        messages.info(
            request,
            _("Thank you! The subscription turns active as soon as the payment is confirmed."),
        )
    try:
        invoices = subscriptions.invoices(actor.company)
        invoices_error = None
    except Exception:
        logger.exception("could not list invoices")
        invoices, invoices_error = [], _("Invoices cannot be shown right now. Try again later.")
    return render(
        request,
        "billing/company_billing.html",
        {
            "subscription": subscription,
            "seats": seat_summary(actor.company),
            "live": stripe_gateway.live(),
            "invoices": invoices,
            "invoices_error": invoices_error,
            "nonce": uuid.uuid4().hex,
        },
    )


@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    actor = _billing_admin(request)
    if not stripe_gateway.live():
        messages.error(request, _("Payments are in test mode: nothing can be charged."))
        return redirect("company_billing")
    back = company_url(request, actor.company, "/settings/billing/")
    try:
        url = subscriptions.start_checkout(
            actor=actor,
            success_url=back + "?paid=1",
            cancel_url=back,
            nonce=request.POST.get("nonce", "") or uuid.uuid4().hex,
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("company_billing")
    return HttpResponseRedirect(url)


@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    actor = _billing_admin(request)
    if not stripe_gateway.live():
        messages.error(request, _("Payments are in test mode: nothing can be charged."))
        return redirect("company_billing")
    try:
        url = subscriptions.portal_url(
            actor=actor, return_url=company_url(request, actor.company, "/settings/billing/")
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("company_billing")
    return HttpResponseRedirect(url)
