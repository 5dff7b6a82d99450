"""Company settings inside the CRM: custom fields (owners and admins); the catalogue's pages
are crm_core.catalogue_views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm_core.access import is_admin, member_required
from crm_core.forms import CustomFieldChangeForm, CustomFieldForm
from crm_core.models import CustomField
from crm_core.once_views import acts_once
from crm_core.services.fields import add_field, change_field
from crm_core.services.limits import PlanLimitReachedError
from crm_core.views import _errors_to_form, _fail, _membership


def _admins_only(request: HttpRequest) -> None:
    if not is_admin(_membership(request)):
        raise Http404("owners and admins only")


@member_required
@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    """Everything an owner or admin sets up, on one page (the navigation stays short)."""
    _admins_only(request)
    return render(request, "crm_core/settings.html")


@member_required
@require_http_methods(["GET", "POST"])
@acts_once
def custom_fields(request: HttpRequest) -> HttpResponse:
    _admins_only(request)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = add_field(membership=_membership(request), **form.cleaned_data)
        except PlanLimitReachedError as exc:
            _fail(request, exc)
            return redirect("custom_fields")
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Field “%(label)s” added.") % {"label": field.label})
            return redirect("custom_fields")
    return render(
        request,
        "crm_core/custom_fields.html",
        {"form": form, "fields": CustomField.objects.order_by("entity", "position", "id")},
    )


@member_required
@require_http_methods(["GET", "POST"])
def custom_field_change(request: HttpRequest, field_id: int) -> HttpResponse:
    _admins_only(request)
    field = get_object_or_404(CustomField, pk=field_id)
    form = CustomFieldChangeForm(
        request.POST or None,
        initial={
            "label": field.label,
            "choices": "\n".join(field.choices),
            "show_in_list": field.show_in_list,
            "is_active": field.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            change_field(membership=_membership(request), field=field, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("custom_fields")
    return render(request, "crm_core/custom_field.html", {"form": form, "field": field})
