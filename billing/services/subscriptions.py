"""A company's subscription: the trial, Checkout, the Portal, and following Stripe's state.

Stripe is the source of truth for a paid subscription. Webhook events are only hints: each
one makes us re-read the subscription from Stripe and copy its current state, so duplicates
and events arriving out of order all end in the same place.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import stripe_gateway
from billing.models import (
    BillingLogEntry,
    FailedPayment,
    Invoice,
    Plan,
    StripeEvent,
    Subscription,
)
from billing.queries import default_plan, seats_in_use, seats_reserved
from tenants.models import Company, Membership

logger = logging.getLogger(__name__)

Status = Company.Status
CENTS = Decimal("0.01")
TERMINAL = ("canceled", "incomplete_expired")
# Stripe's subscription status → what the company may do.
STATUS_FROM_STRIPE = {
    "trialing": Status.TRIALING,
    "active": Status.ACTIVE,
    "past_due": Status.PAST_DUE,
    # Stripe marks a subscription unpaid when its payment retries are exhausted (the Relata
    # account is configured so): the company becomes read-only, nothing is deleted.
    "unpaid": Status.SUSPENDED,
    "paused": Status.SUSPENDED,
    "canceled": Status.CANCELED,
    "incomplete_expired": Status.CANCELED,
}

# Events after which a customer may have a second subscription (two Checkouts both paid).
EVENTS_STARTING_A_SUBSCRIPTION = ("checkout.session.completed", "customer.subscription.created")


def ensure_subscription(company: Company) -> Subscription:
    """The company's subscription row; a new one starts the trial on the default plan."""
    subscription = Subscription.objects.filter(company=company).select_related("plan").first()
    if subscription is not None:
        return subscription
    plan = default_plan()
    days = plan.trial_days if plan else 14
    subscription, _created = Subscription.objects.get_or_create(
        company=company,
        defaults={"plan": plan, "trial_ends_at": company.created_at + timedelta(days=days)},
    )
    return subscription


def _require_billing_admin(actor: Membership) -> None:
    if actor.role not in (Membership.Role.OWNER, Membership.Role.ADMIN) or not actor.is_active:
        raise PermissionDenied("owners and admins only")


def _ensure_customer(subscription: Subscription, actor: Membership) -> str:
    if subscription.stripe_customer_id:
        return subscription.stripe_customer_id
    company = subscription.company
    customer = stripe_gateway.create_customer(
        email=actor.user.email,
        name=company.name,
        company_id=company.pk,
        key=f"relata-customer-{company.pk}",
    )
    Subscription.objects.filter(pk=subscription.pk).update(stripe_customer_id=customer["id"])
    subscription.stripe_customer_id = customer["id"]
    return subscription.stripe_customer_id


def live_subscriptions(customer: str) -> list[dict[str, Any]]:
    """The customer's subscriptions in Stripe that can still charge (oldest first)."""
    found = [
        remote
        for remote in stripe_gateway.subscriptions_of(customer)
        if str(remote.get("status")) not in TERMINAL
    ]
    return sorted(found, key=lambda remote: (int(remote.get("created") or 0), str(remote["id"])))


def start_checkout(*, actor: Membership, success_url: str, cancel_url: str, nonce: str) -> str:
    """A Stripe Checkout page for the company's paid seats; returns its URL.

    One company, one subscription. Under the company's row lock (two admins, two tabs) Stripe
    is asked what the customer already has: a live subscription, even one whose webhook has
    not arrived yet, refuses a new Checkout, and a Checkout page still open is handed out
    again instead of a second one. ``nonce`` (from the form) keys the creation, so a double
    click that slips past both yields the same session.
    """
    _require_billing_admin(actor)
    subscription = ensure_subscription(actor.company)
    plan = subscription.plan
    if plan is None:
        raise ValidationError(_("Choose a plan first."))
    price = price_of(plan)
    with transaction.atomic():
        Company.objects.select_for_update().get(pk=actor.company.pk)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if paying_through_stripe(subscription):
            raise ValidationError(_("The company already has a subscription."))
        customer = _ensure_customer(subscription, actor)
        if live_subscriptions(customer):
            raise ValidationError(
                _(
                    "The company already has a subscription; its payment is being confirmed. "
                    "Reload this page in a minute."
                )
            )
        for session in stripe_gateway.open_checkout_sessions(customer):
            if session.get("mode") == "subscription" and session.get("url"):
                return str(session["url"])
        session = stripe_gateway.checkout_session(
            customer=customer,
            price=price,
            quantity=max(seats_in_use(actor.company), 1),
            company_id=actor.company.pk,
            success_url=success_url,
            cancel_url=cancel_url,
            key=f"relata-checkout-{actor.company.pk}-{nonce[:64]}",
        )
        return str(session["url"])


def price_of(plan: Plan) -> str:
    """The Stripe Price a plan is paid with: the one an operator set, or one made for the
    plan's current amount (found again by its lookup key, so it is created once)."""
    if plan.stripe_price_id:
        return plan.stripe_price_id
    cents = int((plan.price_per_seat * 100).to_integral_value())
    if cents <= 0:
        raise ValidationError(_("This plan is free: there is nothing to pay."))
    currency = plan.currency.lower()
    price = stripe_gateway.price_for(
        lookup_key=f"relata_{plan.code}_{cents}_{currency}"[:200],
        product_name=f"Relata {plan.name}",
        cents=cents,
        currency=currency,
    )
    return str(price["id"])


def choose_plan(*, actor: Membership, plan: Plan, nonce: str = "") -> Subscription:
    """The company's plan from now on. In the trial it is only recorded (Checkout then charges
    for it); a paying company's Stripe subscription moves to the plan's price at once, its
    seats prorated. A plan whose seat limit the team already exceeds is refused, saying why."""
    _require_billing_admin(actor)
    company = actor.company
    if not plan.is_public:
        subscription = ensure_subscription(company)
        if subscription.plan_id != plan.pk:
            raise ValidationError(_("This plan is not offered."))
    with transaction.atomic():
        Company.objects.select_for_update().get(pk=company.pk)
        subscription = Subscription.objects.select_for_update().get(
            pk=ensure_subscription(company).pk
        )
        taken = seats_in_use(company) + seats_reserved(company)
        if plan.seat_cap is not None and taken > plan.seat_cap:
            raise ValidationError(
                _(
                    "The plan %(plan)s allows %(cap)s paid seats, and your team already takes "
                    "%(taken)s. Make some members read-only (they are free) or deactivate "
                    "them first, or choose a larger plan."
                )
                % {"plan": plan.name, "cap": plan.seat_cap, "taken": taken}
            )
        if subscription.plan_id == plan.pk:
            return subscription
        old = subscription.plan
        if paying_through_stripe(subscription) and stripe_gateway.live():
            remote = stripe_gateway.change_price(
                subscription_id=subscription.stripe_subscription_id,
                item_id=subscription.stripe_item_id,
                price=price_of(plan),
                quantity=max(subscription.paid_seats, 1),
                key=f"relata-plan-{company.pk}-{plan.pk}-{nonce[:64]}",
            )
            subscription.plan = plan
            subscription.save(update_fields=["plan", "updated_at"])
            subscription = sync_from_stripe(subscription, remote, why="plan changed")
        else:
            subscription.plan = plan
            subscription.save(update_fields=["plan", "updated_at"])
        BillingLogEntry.objects.create(
            company=company,
            kind=BillingLogEntry.Kind.STATUS,
            message=f"plan {old} → {plan} (chosen by the company)",
            actor=actor.user,
        )
    return subscription


def confirm_checkout(company: Company, session_id: str) -> Subscription | None:
    """Back from a paid Checkout: read the session and its subscription from Stripe at once
    rather than wait for the webhook (which does the same again, harmlessly). A session of
    another customer is ignored, so a crafted link cannot attach someone else's payment."""
    subscription = ensure_subscription(company)
    if not subscription.stripe_customer_id or not stripe_gateway.live():
        return None
    session = stripe_gateway.retrieve_checkout_session(session_id)
    if str(session.get("customer") or "") != subscription.stripe_customer_id:
        logger.warning("company %s: checkout session of another customer ignored", company.pk)
        return None
    if not session.get("subscription"):
        return None
    remote = stripe_gateway.retrieve_subscription(str(session["subscription"]))
    subscription = sync_from_stripe(subscription, remote, why="returned from Checkout")
    cancel_extra_subscriptions(subscription, why="returned from Checkout")
    sync_invoices(subscription)
    return subscription


def stop_at_period_end(*, actor: Membership, stop: bool, nonce: str) -> Subscription:
    """Cancel at the end of the paid period (``stop``), or take that back. Access stays full
    until the period ends; Stripe then ends the subscription and its webhook does the rest."""
    _require_billing_admin(actor)
    subscription = ensure_subscription(actor.company)
    if not paying_through_stripe(subscription):
        raise ValidationError(_("There is no paid subscription to cancel."))
    remote = stripe_gateway.cancel_at_period_end(
        subscription_id=subscription.stripe_subscription_id,
        cancel=stop,
        key=f"relata-period-end-{actor.company.pk}-{int(stop)}-{nonce[:64]}",
    )
    subscription = sync_from_stripe(
        subscription, remote, why="canceled at period end" if stop else "resumed"
    )
    BillingLogEntry.objects.create(
        company=actor.company,
        kind=BillingLogEntry.Kind.STATUS,
        message="cancel at period end" if stop else "cancellation taken back",
        actor=actor.user,
    )
    return subscription


def _stamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _money(cents: Any) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(CENTS)


def store_invoice(company: Company, remote: dict[str, Any]) -> Invoice:
    """Our copy of a Stripe invoice of ``company``'s customer (created or brought up to date)."""
    lines = (remote.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") if lines else None) or {}
    transitions = remote.get("status_transitions") or {}
    invoice, _created = Invoice.objects.update_or_create(
        stripe_invoice_id=str(remote["id"]),
        company=company,
        defaults={
            "number": str(remote.get("number") or ""),
            "status": str(remote.get("status") or ""),
            "total": _money(remote.get("total")),
            "amount_paid": _money(remote.get("amount_paid")),
            "currency": str(remote.get("currency") or "").upper(),
            "created_at": _stamp(remote.get("created")) or timezone.now(),
            "paid_at": _stamp(transitions.get("paid_at")),
            "period_start": _stamp(period.get("start") or remote.get("period_start")),
            "period_end": _stamp(period.get("end") or remote.get("period_end")),
            "hosted_invoice_url": str(remote.get("hosted_invoice_url") or ""),
            "invoice_pdf": str(remote.get("invoice_pdf") or ""),
            "attempts": int(remote.get("attempt_count") or 0),
        },
    )
    return invoice


def sync_invoices(subscription: Subscription) -> int:
    """Copy the customer's recent invoices from Stripe. Returns how many were read."""
    if not subscription.stripe_customer_id or not stripe_gateway.live():
        return 0
    found = stripe_gateway.invoices_of(subscription.stripe_customer_id)
    for remote in found:
        if str(remote.get("customer") or "") == subscription.stripe_customer_id:
            store_invoice(subscription.company, remote)
    return len(found)


def cancel_extra_subscriptions(subscription: Subscription, *, why: str) -> list[str]:
    """A customer should have one live subscription. Any other (a second Checkout paid before
    the first one's webhook) is canceled at once so it never charges again, and written down
    for operators, who decide about refunding what it already charged. Returns their ids."""
    if not subscription.stripe_customer_id:
        return []
    live = live_subscriptions(subscription.stripe_customer_id)
    if not live:
        return []
    tracked = subscription.stripe_subscription_id
    keep = next((remote for remote in live if str(remote["id"]) == tracked), None)
    if keep is None:
        # The one we track ended (or we never learnt of one): the oldest live one is ours.
        keep = live[0]
        subscription = sync_from_stripe(subscription, keep, why=why)
    canceled = []
    for remote in live:
        if remote["id"] == keep["id"]:
            continue
        extra = str(remote["id"])
        stripe_gateway.cancel_subscription(
            subscription_id=extra, key=f"relata-cancel-extra-{extra}"
        )
        BillingLogEntry.objects.create(
            company=subscription.company,
            kind=BillingLogEntry.Kind.FAILURE,
            message=f"second Stripe subscription {extra} (besides {keep['id']}) canceled "
            f"({why}); check whether its first invoice needs a refund",
        )
        logger.warning("company %s: extra subscription %s canceled", subscription.company_id, extra)
        canceled.append(extra)
    return canceled


def end_subscription_now(company: Company, *, why: str, actor: Any = None) -> list[str]:
    """Cancel every live Stripe subscription of the company at once (no further invoices, no
    waiting for the period's end), before its data goes. Raises if Stripe refuses, so the
    caller stops. Returns the canceled ids."""
    subscription = Subscription.objects.filter(company=company).first()
    if subscription is None or not subscription.stripe_customer_id or not stripe_gateway.live():
        return []
    canceled = []
    for remote in live_subscriptions(subscription.stripe_customer_id):
        ended = stripe_gateway.cancel_subscription(
            subscription_id=str(remote["id"]), key=f"relata-end-{company.pk}-{remote['id']}"
        )
        BillingLogEntry.objects.create(
            company=company,
            kind=BillingLogEntry.Kind.STATUS,
            message=f"Stripe subscription {remote['id']} canceled now: {why}",
            actor=actor,
        )
        if str(remote["id"]) == subscription.stripe_subscription_id:
            Subscription.objects.filter(pk=subscription.pk).update(
                stripe_status=str(ended.get("status") or "canceled")
            )
        canceled.append(str(remote["id"]))
    return canceled


def end_before_purge(sender: Any, *, company: Company, **kwargs: Any) -> None:
    """tenants' company_purging: no charge may outlive a deleted company."""
    end_subscription_now(company, why="company deleted")


def portal_url(*, actor: Membership, return_url: str) -> str:
    _require_billing_admin(actor)
    subscription = ensure_subscription(actor.company)
    if not subscription.stripe_customer_id:
        raise ValidationError(_("There is nothing to manage yet: subscribe first."))
    session = stripe_gateway.portal_session(
        customer=subscription.stripe_customer_id, return_url=return_url
    )
    return str(session["url"])


# --- Following Stripe ------------------------------------------------------------------------


def _period_end(remote: Any) -> datetime | None:
    item = stripe_gateway.first_item(remote)
    # API 2025-03-31+: the period is on the item; older payloads carry it on the subscription.
    value = item.get("current_period_end") or remote.get("current_period_end")
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def set_company_status(company: Company, status: str, *, why: str, actor: Any = None) -> bool:
    """Change the company's status and write it down for operators. Returns True if changed."""
    if company.status == status:
        return False
    old = company.status
    company.status = status
    company.save(update_fields=["status"])
    BillingLogEntry.objects.create(
        company=company,
        kind=BillingLogEntry.Kind.STATUS,
        message=f"{old} → {status}: {why}",
        actor=actor,
    )
    if status == Status.CANCELED and company.deletion_scheduled_at is None:
        # The final export reads a consistent snapshot in a transaction of its own, so the
        # deletion is scheduled after this one commits.
        company_id = company.pk
        transaction.on_commit(lambda: _enqueue_deletion(company_id))
    return True


def billing_status(subscription: Subscription) -> str:
    """The status the company's billing allows when it is given back (a cancelled deletion,
    an operator's restore): a live Stripe subscription's, as Stripe says (a status this code
    does not know gives no access); without one, a trial while its trial or a free period
    runs; anything else is read-only (its export works) until it subscribes: a company whose
    subscription ended is never "active" with nobody paying."""
    now = timezone.now()
    if paying_through_stripe(subscription):
        return STATUS_FROM_STRIPE.get(subscription.stripe_status, Status.SUSPENDED)
    if _still_free(subscription.trial_ends_at, now) or _still_free(subscription.free_until, now):
        # (expire_trials suspends it when both have passed.)
        return Status.TRIALING
    return Status.SUSPENDED


def paying_through_stripe(subscription: Subscription) -> bool:
    """A Stripe subscription that has not ended (one that has is history, not a payer)."""
    return bool(subscription.stripe_subscription_id) and subscription.stripe_status not in TERMINAL


def reopen(company: Company, *, why: str, actor: Any = None) -> str:
    """A closed company taken back before its deletion, as usable as its billing allows
    (`billing_status`: closing it ended its Stripe subscription, so it is read-only until it
    subscribes again). Returns the status it got."""
    from tenants.services.deletion import cancel_deletion

    status = billing_status(ensure_subscription(company))
    with transaction.atomic():
        cancel_deletion(company)
        set_company_status(company, status, why=why, actor=actor)
    return status


def _still_free(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


def _enqueue_deletion(company_id: int) -> None:
    from billing.tasks import schedule_canceled_deletion

    schedule_canceled_deletion.delay(company_id)


def schedule_canceled_deletion(company_id: int) -> Company | None:
    """A canceled company's data is kept for the stated period with a final export, then
    deleted on schedule (tenants.services.deletion). Idempotent."""
    from tenants.services.deletion import schedule_deletion

    company = Company.objects.filter(
        pk=company_id, status=Status.CANCELED, deletion_scheduled_at__isnull=True
    ).first()
    if company is None:
        return None
    return schedule_deletion(
        company, when=timezone.now() + timedelta(days=settings.BILLING_RETENTION_DAYS)
    )


def sync_from_stripe(subscription: Subscription, remote: Any, *, why: str) -> Subscription:
    """Copy Stripe's current state of the subscription onto ours (and the company's status)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        company = Company.objects.select_for_update().get(pk=subscription.company_id)
        # A subscription that ended in Stripe never changes again; once we have copied its end,
        # the company's status is ours (an operator may have restored it) and stays.
        ended_before = (
            subscription.stripe_status in TERMINAL
            and subscription.stripe_subscription_id == str(remote["id"])
        )
        item = stripe_gateway.first_item(remote)
        quantity = int(item["quantity"])
        if subscription.paid_seats != quantity and subscription.stripe_subscription_id:
            BillingLogEntry.objects.create(
                company=company,
                kind=BillingLogEntry.Kind.SEATS,
                message=f"paid seats {subscription.paid_seats} → {quantity} ({why})",
            )
        subscription.stripe_subscription_id = str(remote["id"])
        subscription.stripe_status = str(remote["status"])
        subscription.paid_seats = quantity
        subscription.stripe_item_id = str(item["id"])
        subscription.current_period_end = _period_end(remote)
        subscription.cancel_at_period_end = bool(remote.get("cancel_at_period_end"))
        subscription.save()
        status = STATUS_FROM_STRIPE.get(subscription.stripe_status)
        if status is not None and company.status != Status.CANCELED and not ended_before:
            set_company_status(company, status, why=f"Stripe says {remote['status']} ({why})")
    return subscription


def _customer_of(obj: dict[str, Any], event_type: str) -> str:
    if event_type.startswith("customer.") and not event_type.startswith("customer.subscription"):
        return str(obj.get("id") or "")
    return str(obj.get("customer") or "")


def _subscription_id_of(obj: dict[str, Any], event_type: str) -> str:
    if event_type.startswith("customer.subscription."):
        return str(obj.get("id") or "")
    if obj.get("subscription"):
        return str(obj["subscription"])
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    return str(details.get("subscription") or "")


def store_event(event: Any) -> StripeEvent | None:
    """Keep a verified event once; None if Stripe already delivered it."""
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            return StripeEvent.objects.create(
                event_id=str(event["id"]),
                type=str(event["type"]),
                payload=event.to_dict() if hasattr(event, "to_dict") else dict(event),
            )
    except IntegrityError:
        return None


def process_event(event_id: int) -> StripeEvent:
    """Act on a stored event by re-reading the subscription from Stripe. Idempotent."""
    event = StripeEvent.objects.get(pk=event_id)
    if event.state == StripeEvent.State.PROCESSED:
        return event
    obj = event.payload.get("data", {}).get("object", {})
    customer = _customer_of(obj, event.type)
    subscription = (
        Subscription.objects.filter(stripe_customer_id=customer).select_related("company").first()
        if customer
        else None
    )
    if subscription is None:
        event.state = StripeEvent.State.UNKNOWN_CUSTOMER
        event.error = f"no company has Stripe customer {customer or '(none)'}"
        event.save(update_fields=["state", "error"])
        BillingLogEntry.objects.create(
            kind=BillingLogEntry.Kind.FAILURE,
            message=f"Stripe event {event.event_id} ({event.type}) for unknown customer "
            f"{customer or '(none)'}: stored, not applied",
        )
        logger.warning("stripe event %s for unknown customer %s", event.event_id, customer)
        return event
    event.company = subscription.company
    sub_id = _subscription_id_of(obj, event.type)
    current = subscription.stripe_subscription_id
    if current and subscription.stripe_status not in TERMINAL:
        # A late event about an older, ended subscription must not replace the current one.
        sub_id = current
    if event.type == "invoice.paid":
        paid_at = datetime.fromtimestamp(int(event.payload.get("created", 0)), tz=UTC)
        if subscription.last_payment_at is None or subscription.last_payment_at < paid_at:
            Subscription.objects.filter(pk=subscription.pk).update(last_payment_at=paid_at)
    elif event.type == "invoice.payment_failed":
        record_failed_payment(subscription, obj, event)
    if event.type.startswith("invoice.") and obj.get("id"):
        # The event is a hint: the invoice as Stripe has it now is what we keep.
        remote_invoice = stripe_gateway.retrieve_invoice(str(obj["id"]))
        if remote_invoice is None:
            logger.warning("stripe event %s: no invoice %s in Stripe", event.event_id, obj["id"])
        elif str(remote_invoice.get("customer") or "") == subscription.stripe_customer_id:
            store_invoice(subscription.company, remote_invoice)
    if sub_id:
        remote = stripe_gateway.retrieve_subscription(sub_id)
        subscription = sync_from_stripe(subscription, remote, why=f"event {event.type}")
        if event.type in EVENTS_STARTING_A_SUBSCRIPTION:
            cancel_extra_subscriptions(subscription, why=f"event {event.type}")
            # Its first invoice is paid by now; its own event may come later or never.
            sync_invoices(subscription)
        event.state = StripeEvent.State.PROCESSED
    else:
        event.state = StripeEvent.State.IGNORED
    event.processed_at = timezone.now()
    event.error = ""
    event.save(update_fields=["state", "processed_at", "error", "company"])
    return event


def record_failed_payment(
    subscription: Subscription, invoice: dict[str, Any], event: StripeEvent
) -> bool:
    """Count a failed payment once per invoice attempt, however many times its event comes
    (a task retried after a Stripe timeout re-runs this). True if it was new."""
    with transaction.atomic():
        _row, created = FailedPayment.objects.get_or_create(
            # An invoice without an id (never from Stripe) counts once per event.
            invoice_id=str(invoice.get("id") or event.event_id),
            attempt=int(invoice.get("attempt_count") or 0),
            defaults={
                "company_id": subscription.company_id,
                "failed_at": datetime.fromtimestamp(int(event.payload.get("created", 0)), tz=UTC),
                "event_id": event.event_id,
            },
        )
        if created:
            Subscription.objects.filter(pk=subscription.pk).update(
                failed_payments=F("failed_payments") + 1
            )
    return created


def expire_trials(now: datetime | None = None) -> list[str]:
    """Trials that ended without a card: the company becomes read-only (export still works)."""
    now = now or timezone.now()
    # Companies that never opened their billing page have no row yet: their trial counts
    # from sign-up all the same.
    for company in Company.objects.filter(status=Status.TRIALING, subscription__isnull=True):
        ensure_subscription(company)
    # Without a card, or with a Stripe subscription that has ended (a company taken back
    # after it closed lives on its trial or free period like one that never paid).
    without_payer = Q(stripe_subscription_id="") | Q(stripe_status__in=TERMINAL)
    ended = Subscription.objects.filter(
        without_payer, company__status=Status.TRIALING, trial_ends_at__lt=now
    ).select_related("company")
    slugs = []
    for subscription in ended:
        if subscription.free_until and subscription.free_until > now:
            continue
        if set_company_status(subscription.company, Status.SUSPENDED, why="trial ended"):
            slugs.append(subscription.company.slug)
    return slugs
