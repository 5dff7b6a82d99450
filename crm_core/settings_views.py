"""Company settings inside the CRM: custom fields and the price list (owners and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm_core.access import is_admin, member_required
from crm_core.forms import CustomFieldChangeForm, CustomFieldForm, ProductForm
from crm_core.models import CustomField, Product
from crm_core.services.fields import add_field, change_field
from crm_core.services.products import save_product
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
def custom_fields(request: HttpRequest) -> HttpResponse:
    _admins_only(request)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = add_field(membership=_membership(request), **form.cleaned_data)
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


@member_required
@require_GET
def products(request: HttpRequest) -> HttpResponse:
    """The price list: everyone sees it (they sell from it); admins change it."""
    shown = Product.objects.order_by("-is_active", "name")
    query = request.GET.get("q", "").strip()
    if query:
        shown = shown.filter(name__icontains=query)
    return render(
        request,
        "crm_core/products.html",
        {"products": shown[:500], "q": query, "can_edit": is_admin(_membership(request))},
    )


@member_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int | None = None) -> HttpResponse:
    _admins_only(request)
    product = get_object_or_404(Product, pk=product_id) if product_id else None
    initial = (
        {k: getattr(product, k) for k in ("name", "sku", "unit", "price", "is_active")}
        if product
        else {}
    )
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            save_product(membership=_membership(request), product=product, **form.cleaned_data)
        except PermissionDenied as exc:
            _fail(request, exc)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("products")
    return render(request, "crm_core/product_edit.html", {"form": form, "product": product})
