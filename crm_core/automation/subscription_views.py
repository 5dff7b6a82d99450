"""The admin's page of outgoing webhook subscriptions: add one, switch it off or on."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm_core.access import member_required
from crm_core.automation.models import WebhookSubscription
from crm_core.automation.services.subscriptions import save_subscription
from crm_core.automation.views import _admin, _errors_to_form
from crm_core.once_views import acts_once
from crm_core.views import _membership


class SubscriptionForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("Address"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookSubscription.Event.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)


@member_required
@require_http_methods(["GET", "POST"])
@acts_once
def subscriptions(request: HttpRequest) -> HttpResponse:
    _admin(request)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = save_subscription(membership=_membership(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Subscribed. Deliveries are signed with its secret."))
            return redirect(f"{request.path}#subscription-{made.pk}")
    return render(
        request,
        "automation/subscriptions.html",
        {"form": form, "subscriptions": WebhookSubscription.objects.all()[:100]},
    )


@member_required
@require_POST
def subscription_switch(request: HttpRequest, subscription_id: int) -> HttpResponse:
    _admin(request)
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    save_subscription(
        membership=_membership(request),
        subscription=subscription,
        url=subscription.url,
        events=subscription.events,
        description=subscription.description,
        is_active=not subscription.is_active,
    )
    return redirect("automation_subscriptions")
