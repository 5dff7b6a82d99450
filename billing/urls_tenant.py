"""Billing on a company's host (owners and admins)."""

from django.urls import path

from billing import views

urlpatterns = [
    path("settings/billing/", views.company_billing, name="company_billing"),
    path("settings/billing/checkout/", views.checkout, name="billing_checkout"),
    path("settings/billing/plan/", views.choose_plan, name="billing_plan"),
    path("settings/billing/cancel/", views.cancel, name="billing_cancel"),
    path("settings/billing/resume/", views.resume, name="billing_resume"),
    path("settings/billing/portal/", views.portal, name="billing_portal"),
]
