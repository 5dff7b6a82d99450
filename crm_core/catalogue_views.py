"""The catalogue's pages: products, price lists, how prices are quoted (VAT in or on top),
and a deal's price list. Thin: the services decide, these pages ask and show."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from crm_core.forms import (
    DealPriceListForm,
    DiscountForm,
    PriceListForm,
    PricingSettingsForm,
    ProductForm,
)
from crm_core.models import DealItem, PriceList, Product, ProductPrice
from crm_core.queries.clients import page_of
from crm_core.queries.deals import deal_for
from crm_core.queries.products import product_suggestions
from crm_core.services import once
from crm_core.services.items import choose_price_list, set_discount
from crm_core.services.products import (
    delete_price_list,
    pricing_settings,
    save_price_list,
    save_pricing_settings,
    save_product,
)
from crm_core.settings_views import _admins_only
from crm_core.views import _errors_to_form, _fail, _membership


@member_required
@require_GET
def product_options(request: HttpRequest) -> HttpResponse:
    """The deal card's product suggestions for what has been typed (``item-name``)."""
    typed = str(request.GET.get("item-name", ""))[:300]
    return render(
        request, "crm_core/_product_options.html", {"products": product_suggestions(typed)}
    )


@member_required
@require_GET
def products(request: HttpRequest) -> HttpResponse:
    """The catalogue: everyone sees it (they sell from it); admins change it."""
    shown = Product.objects.order_by("-is_active", "name")
    query = request.GET.get("q", "").strip()
    if query:
        shown = shown.filter(name__icontains=query)
    paged = page_of(shown, request.GET.get("page"))
    page = paged.items
    price_lists = list(PriceList.objects.all())
    prices = {
        (p.product_id, p.price_list_id): p.price
        for p in ProductPrice.objects.filter(product__in=page)
    }
    rows = [(product, [prices.get((product.pk, pl.pk)) for pl in price_lists]) for product in page]
    return render(
        request,
        "crm_core/products.html",
        {
            "products": page,
            "page": paged,
            "query": urlencode({"q": query}) if query else "",
            "rows": rows,
            "price_lists": price_lists,
            "q": query,
            "can_edit": is_admin(_membership(request)),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int | None = None) -> HttpResponse:
    _admins_only(request)
    product = get_object_or_404(Product, pk=product_id) if product_id else None
    price_lists = list(PriceList.objects.all())
    initial: dict[str, object] = {}
    if product is not None:
        initial = {
            k: getattr(product, k)
            for k in ("name", "sku", "unit", "price", "vat_rate", "is_active")
        }
        for row in ProductPrice.objects.filter(product=product):
            initial[f"list_{row.price_list_id}"] = row.price
    form = ProductForm(request.POST or None, initial=initial, price_lists=price_lists)
    if request.method == "POST" and form.is_valid():
        try:
            with once.acting_once(None if product else request.POST.get(once.FIELD)):
                save_product(
                    membership=_membership(request), product=product, **form.service_data()
                )
        except once.AlreadySubmittedError:
            return redirect("products")  # the first click saved it
        except PermissionDenied as exc:
            _fail(request, exc)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("products")
    return render(request, "crm_core/product_edit.html", {"form": form, "product": product})


@member_required
@require_http_methods(["GET", "POST"])
def price_lists(request: HttpRequest) -> HttpResponse:
    """Price lists (add, rename, remove) and whether prices include VAT."""
    _admins_only(request)
    membership = _membership(request)
    part = request.POST.get("part")
    form = PriceListForm(request.POST if part == "list" else None)
    settings_form = PricingSettingsForm(
        request.POST if part == "vat" else None,
        initial={"prices_include_vat": "1" if pricing_settings().prices_include_vat else "0"},
    )
    if request.method == "POST":
        try:
            if part == "list" and form.is_valid():
                renamed = request.POST.get("price_list")
                target = get_object_or_404(PriceList, pk=int(renamed)) if renamed else None
                with once.acting_once(None if target else request.POST.get(once.FIELD)):
                    save_price_list(
                        membership=membership, name=form.cleaned_data["name"], price_list=target
                    )
                messages.success(request, _("Saved."))
                return redirect("price_lists")
            if part == "vat" and settings_form.is_valid():
                save_pricing_settings(
                    membership=membership,
                    prices_include_vat=settings_form.cleaned_data["prices_include_vat"],
                )
                messages.success(request, _("Saved."))
                return redirect("price_lists")
        except once.AlreadySubmittedError:
            return redirect("price_lists")
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except (PermissionDenied, ValueError) as exc:
            _fail(request, exc)
    return render(
        request,
        "crm_core/price_lists.html",
        {
            "form": form,
            "settings_form": settings_form,
            "price_lists": PriceList.objects.all(),
        },
    )


@member_required
@require_POST
def price_list_delete(request: HttpRequest, price_list_id: int) -> HttpResponse:
    _admins_only(request)
    price_list = get_object_or_404(PriceList, pk=price_list_id)
    delete_price_list(membership=_membership(request), price_list=price_list)
    messages.success(request, _("Price list “%(name)s” removed.") % {"name": price_list.name})
    return redirect("price_lists")


@member_required
@require_POST
def deal_price_list(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    form = DealPriceListForm(request.POST, prefix="pl")
    if not form.is_valid():
        messages.error(request, _("Choose a price list."))
        return redirect("deal_detail", deal_id=deal.pk)
    try:
        repriced = choose_price_list(
            membership=membership,
            deal=deal,
            price_list=form.cleaned_data["price_list"],
            reprice=form.cleaned_data["reprice"],
        )
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        if repriced:
            messages.success(request, _("Prices updated on %(count)s lines.") % {"count": repriced})
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
def deal_item_discount(request: HttpRequest, deal_id: int, item_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    item = get_object_or_404(DealItem, pk=item_id, deal=deal)
    form = DiscountForm(request.POST, prefix=f"line{item.pk}")
    if not form.is_valid():
        messages.error(request, _("Enter the discount as a number."))
        return redirect("deal_detail", deal_id=deal.pk)
    try:
        set_discount(
            membership=membership,
            item=item,
            discount=form.cleaned_data["discount"] or Decimal(0),
            discount_kind=form.cleaned_data["discount_kind"],
        )
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    return redirect("deal_detail", deal_id=deal.pk)
