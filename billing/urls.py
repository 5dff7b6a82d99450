"""Billing on the public site: the pricing page and Stripe's webhook."""

from django.urls import path

from billing import views

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
