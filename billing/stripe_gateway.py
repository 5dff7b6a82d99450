"""The one place that talks to Stripe, through the official SDK.

Every call configures the SDK from settings (key, API base, pinned API version), so tests can
point it at a local fake server and production at Stripe. Without a secret key billing runs in
an explicit test mode: nothing is sent anywhere and the UI says so.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings

# Pinned: since 2025-03-31 the billing period lives on subscription items, and the code reads
# it there. A new version is adopted deliberately, never by a dashboard default.
API_VERSION = "2025-03-31.basil"
DEFAULT_API_BASE = "https://api.stripe.com"


class BillingNotConfiguredError(RuntimeError):
    """Raised when a call to Stripe is attempted in test mode (no secret key)."""


def _plain(obj: Any) -> dict[str, Any]:
    """The SDK's objects as plain dicts (recursively), so the rest of the code reads fields
    the same way from an API answer and from a stored webhook payload."""
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)


def live() -> bool:
    """True when a Stripe secret key is configured; False means the explicit test mode."""
    return bool(settings.STRIPE_SECRET_KEY)


def _configure() -> None:
    if not live():
        raise BillingNotConfiguredError("Stripe is not configured (payments are in test mode)")
    stripe.api_key = settings.STRIPE_SECRET_KEY
    stripe.api_base = settings.STRIPE_API_BASE or DEFAULT_API_BASE
    stripe.api_version = API_VERSION
    # Retries belong to Celery (with backoff and our own idempotency keys), not to the SDK.
    stripe.max_network_retries = 0


def create_customer(*, email: str, name: str, company_id: int, key: str) -> dict[str, Any]:
    _configure()
    return _plain(
        stripe.Customer.create(
            email=email, name=name, metadata={"company_id": str(company_id)}, idempotency_key=key
        )
    )


def checkout_session(
    *,
    customer: str,
    price: str,
    quantity: int,
    company_id: int,
    success_url: str,
    cancel_url: str,
    key: str,
) -> dict[str, Any]:
    _configure()
    return _plain(
        stripe.checkout.Session.create(
            mode="subscription",
            customer=customer,
            client_reference_id=str(company_id),
            line_items=[{"price": price, "quantity": quantity}],
            subscription_data={"metadata": {"company_id": str(company_id)}},
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=key,
        )
    )


def price_for(*, lookup_key: str, product_name: str, cents: int, currency: str) -> dict[str, Any]:
    """The monthly per-seat Price for this amount, found by its lookup key or created once.

    Prices in Stripe cannot change their amount, so the key carries it: when an operator
    edits a plan's price, the next Checkout gets a new Price and running subscriptions keep
    theirs until they change plan.
    """
    _configure()
    found = stripe.Price.list(lookup_keys=[lookup_key], active=True, limit=1)
    if found.data:
        return _plain(found.data[0])
    return _plain(
        stripe.Price.create(
            unit_amount=cents,
            currency=currency.lower(),
            recurring={"interval": "month"},
            product_data={"name": product_name},
            lookup_key=lookup_key,
            idempotency_key=f"relata-price-{lookup_key}",
        )
    )


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    _configure()
    return _plain(stripe.checkout.Session.retrieve(session_id))


def open_checkout_sessions(customer: str) -> list[dict[str, Any]]:
    """The customer's Checkout pages that can still be paid (Stripe expires them in 24 h)."""
    _configure()
    found = stripe.checkout.Session.list(customer=customer, status="open", limit=10)
    return [_plain(session) for session in found.data]


def cancel_subscription(*, subscription_id: str, key: str) -> dict[str, Any]:
    """End a subscription now: no further invoices. Refunds stay an operator's decision."""
    _configure()
    return _plain(stripe.Subscription.cancel(subscription_id, idempotency_key=key))


def cancel_at_period_end(*, subscription_id: str, cancel: bool, key: str) -> dict[str, Any]:
    """Stop (or, with ``cancel=False``, keep) renewing at the end of the paid period."""
    _configure()
    return _plain(
        stripe.Subscription.modify(
            subscription_id, cancel_at_period_end=cancel, idempotency_key=key
        )
    )


def change_price(
    *, subscription_id: str, item_id: str, price: str, quantity: int, key: str
) -> dict[str, Any]:
    """Move the seats to another plan's Price, prorated like a seat change."""
    _configure()
    return _plain(
        stripe.Subscription.modify(
            subscription_id,
            items=[{"id": item_id, "price": price, "quantity": quantity}],
            proration_behavior="create_prorations",
            idempotency_key=key,
        )
    )


def credit_customer(
    *, customer: str, cents: int, currency: str, description: str, key: str
) -> dict[str, Any]:
    """Money off the customer's next invoices: a negative customer balance transaction."""
    _configure()
    return _plain(
        stripe.Customer.create_balance_transaction(
            customer,
            amount=-cents,
            currency=currency.lower(),
            description=description,
            idempotency_key=key,
        )
    )


def portal_session(*, customer: str, return_url: str) -> dict[str, Any]:
    _configure()
    return _plain(stripe.billing_portal.Session.create(customer=customer, return_url=return_url))


def retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    _configure()
    return _plain(stripe.Subscription.retrieve(subscription_id))


def subscriptions_of(customer: str) -> list[dict[str, Any]]:
    _configure()
    found = stripe.Subscription.list(customer=customer, status="all", limit=10)
    return [_plain(subscription) for subscription in found.data]


def set_quantity(*, subscription_id: str, item_id: str, quantity: int, key: str) -> dict[str, Any]:
    """Change the number of seats, prorated (Stripe's default behaviour, stated explicitly)."""
    _configure()
    return _plain(
        stripe.Subscription.modify(
            subscription_id,
            items=[{"id": item_id, "quantity": quantity}],
            proration_behavior="create_prorations",
            idempotency_key=key,
        )
    )


def free_until(*, subscription_id: str, until: int, key: str) -> dict[str, Any]:
    """Give free time on a paid subscription: Stripe's trial end moves the next charge."""
    _configure()
    return _plain(
        stripe.Subscription.modify(
            subscription_id, trial_end=until, proration_behavior="none", idempotency_key=key
        )
    )


def invoices_of(customer: str, limit: int = 24) -> list[dict[str, Any]]:
    _configure()
    return [_plain(invoice) for invoice in stripe.Invoice.list(customer=customer, limit=limit).data]


def retrieve_invoice(invoice_id: str) -> dict[str, Any] | None:
    """The invoice as Stripe has it now; None if Stripe has no such invoice (an outage
    still raises, so the task retries)."""
    _configure()
    try:
        return _plain(stripe.Invoice.retrieve(invoice_id))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise


def construct_event(payload: bytes, signature: str) -> Any:
    """Verify the signature (and its age: Stripe's 300-second tolerance) and parse the event."""
    return stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
    )


def first_item(subscription: dict[str, Any]) -> dict[str, Any]:
    return subscription["items"]["data"][0]
