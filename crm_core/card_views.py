"""The record cards: the deal card (header, fields edited in place, one feed with a composer),
the client card and the contact person's card (the same: fields edited in place, each refused
when stale, a composer posting into the feed). Thin: reads through queries, writes through
services. Each write answers an htmx request with the fragment to swap and anything else with
a redirect back to the card (the page works without JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.forms import BoundField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_core.access import may_change, member_required
from crm_core.client_views import _client_form, contact_initial
from crm_core.customfields import PREFIX, add_fields, definitions, merged_values, shown
from crm_core.forms import (
    REMIND_LABELS,
    AttachmentForm,
    ContactForm,
    DealPriceListForm,
    DiscountForm,
    ItemForm,
    TaskDetailsForm,
    TaskForm,
    with_members,
)
from crm_core.models import (
    Activity,
    Client,
    Contact,
    CustomField,
    Deal,
    PriceList,
    Stage,
)
from crm_core.once_views import acts_once
from crm_core.queries.cards import Feed, client_feed, contact_feed, deal_feed
from crm_core.queries.clients import client_for, contact_for, visible_contacts
from crm_core.queries.deals import deal_for
from crm_core.queries.duplicates import duplicates_of
from crm_core.services import once
from crm_core.services.clients import ContactInput, log_on_record, save_contact, update_client
from crm_core.services.deals import (
    CALL_RESULTS,
    call_result_text,
    log_call,
    log_call_result,
    update_deal,
)
from crm_core.services.files import attach_file
from crm_core.services.items import calculation
from crm_core.services.limits import PlanLimitReachedError
from crm_core.services.products import pricing_settings
from crm_core.services.tasks import QUICK_DUE, create_task, quick_deadline
from crm_core.views import _deal_edit_form, _members, _membership
from relata.inputs import whole_number
from tenants.models import Membership, User

# The deal's fields that are saved one at a time from the card (custom fields too: cf_…).
INLINE_FIELDS = (
    "title",
    "amount",
    "currency",
    "expected_close",
    "source",
    "tags",
    "responsible",
    "contact_ids",
)


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _error_text(exc: Exception) -> str:
    if isinstance(exc, PermissionDenied):
        return _("Your role can only look, not change.")
    return " ".join(getattr(exc, "messages", [str(exc)]))


# --- The deal card ------------------------------------------------------------------------


def _deal_context(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    membership = _membership(request)
    fields = definitions(CustomField.Entity.DEAL)
    # One read each of what several parts of the card show: the deal's contact persons with
    # their phones (the fields panel and the edit form), the members (the edit and task forms).
    prefetch_related_objects([deal], "contacts__phones", "client__phones")
    members = _members(membership)
    edit_form = _deal_edit_form(deal, fields, membership, members=members)
    stages = list(deal.pipeline.stages.filter(is_archived=False).order_by("position", "id"))
    open_stages = [s for s in stages if s.outcome == Stage.Outcome.OPEN]
    current_index = next((i for i, s in enumerate(open_stages) if s.pk == deal.stage_id), None)
    feed = deal_feed(deal, membership)
    now = timezone.now()
    return {
        "deal": deal,
        "stages": stages,
        "open_stages": open_stages,
        "won_stages": [s for s in stages if s.outcome == Stage.Outcome.WON],
        "lost_stages": [s for s in stages if s.outcome == Stage.Outcome.LOST],
        "passed_stage_ids": {s.pk for s in open_stages[: current_index or 0]},
        "closed": deal.stage.outcome != Stage.Outcome.OPEN,
        "may_edit_deal": membership.role != Membership.Role.READ_ONLY,
        "open_task_count": len(feed.pinned),
        "age": now - deal.created_at,
        "in_stage": now - deal.stage_entered_at,
        "feed": feed,
        "call_results": list(CALL_RESULTS.items()),
        "quick_due": _quick_due_choices(),
        "task_form": with_members(TaskForm(prefix="task"), members),
        "remind_choices": REMIND_LABELS,
        **_calculation(deal),
        "attachments": deal.attachments.all(),
        "attachment_form": AttachmentForm(),
        "edit_form": edit_form,
        "inline_fields": [
            _deal_card_field(deal, edit_form, name)
            for name in INLINE_FIELDS
            if name != "title" and name in edit_form.fields
        ],
        "custom_fields": [_deal_card_field(deal, edit_form, PREFIX + f.key) for f in fields],
        "deal_contacts": deal.contacts.all(),
        "custom_values": shown(fields, deal.custom),
    }


def _deal_card_field(deal: Deal, form: forms.Form, name: str) -> CardField:
    chips = list(deal.tags) if name == "tags" else []
    return CardField(form[name], reverse("deal_field", args=[deal.pk, name]), chips, [])


def _quick_due_choices() -> list[tuple[str, str]]:
    labels = {
        "today": _("Today"),
        "tomorrow": _("Tomorrow"),
        "in3days": _("In 3 days"),
        "nextweek": _("Next week"),
    }
    return [(key, labels[key]) for key in QUICK_DUE]


@member_required
@require_GET
def deal_card(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = deal_for(_membership(request), deal_id)
    return render(request, "crm_core/deal.html", _deal_context(request, deal))


@member_required
@require_GET
def deal_feed_fragment(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = deal_for(_membership(request), deal_id)
    return _feed_response(request, deal)


def _feed_response(
    request: HttpRequest,
    deal: Deal,
    error: str = "",
    status: int = 200,
    *,
    plan_limit: bool = False,
) -> HttpResponse:
    response = render(
        request,
        "crm_core/components/deal_feed_fragment.html",
        {
            "deal": deal,
            "feed": deal_feed(deal, _membership(request)),
            "feed_error": error,
            # Refused by the plan (storage full): the error links to the billing page.
            "plan_limit": plan_limit,
        },
        status=status,
    )
    response["X-Record-Version"] = str(
        Deal.objects.values_list("version", flat=True).get(pk=deal.pk)
    )
    return response


def _composer_answer(
    request: HttpRequest, deal: Deal, exc: Exception | None = None, ok: str = ""
) -> HttpResponse:
    """After a composer post: the feed fragment for htmx, otherwise back to the card."""
    limit = isinstance(exc, PlanLimitReachedError)
    if _htmx(request):
        if exc is not None:
            return _feed_response(request, deal, _error_text(exc), 400, plan_limit=limit)
        return _feed_response(request, deal)
    if exc is not None:
        # Tagged so the page adds "Choose a plan" (relata/base.html), as every limit does.
        messages.error(request, _error_text(exc), extra_tags="plan-limit" if limit else "")
    elif ok:
        messages.success(request, ok)
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
@acts_once(in_place=True)
def deal_note(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    try:
        log_call(
            membership=membership,
            deal=deal,
            result=str(request.POST.get("note-text", "")),
            kind=Activity.Kind.NOTE,
        )
    except (ValidationError, PermissionDenied) as exc:
        return _composer_answer(request, deal, exc)
    return _composer_answer(request, deal)


@member_required
@require_POST
@acts_once(in_place=True)
def deal_call(request: HttpRequest, deal_id: int) -> HttpResponse:
    """A call's result in one click (the button pressed); the comment is optional."""
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    try:
        log_call_result(
            membership=membership,
            deal=deal,
            result=str(request.POST.get("result", "")),
            comment=str(request.POST.get("log-result", "")),
        )
    except (ValidationError, PermissionDenied) as exc:
        return _composer_answer(request, deal, exc)
    return _composer_answer(request, deal)


def _task_deadline(request: HttpRequest, form: TaskForm) -> datetime:
    """A quick choice (today, tomorrow, in 3 days, next week) or the date typed in."""
    due = str(request.POST.get("task-due", ""))
    if due in QUICK_DUE:
        return quick_deadline(due)
    deadline = form.cleaned_data.get("deadline") if form.is_valid() else None
    if deadline is None:
        raise ValidationError(_("Choose when the task is due."), code="due")
    return deadline


def _quick_task(request: HttpRequest, membership: Membership, **on: Any) -> None:
    """The composer's task (on a deal, a client or a contact person) with its reminder,
    once per form; raises what it refuses."""
    form = with_members(TaskDetailsForm(request.POST, prefix="task"), _members(membership))
    form.fields["deadline"].required = False
    if not form.is_valid():
        raise ValidationError("; ".join(str(e) for errors in form.errors.values() for e in errors))
    assignee_id = form.cleaned_data.get("assignee")
    with once.acting_once(request.POST.get(once.FIELD)):
        create_task(
            membership=membership,
            title=form.cleaned_data["title"],
            kind=form.cleaned_data["kind"],
            deadline=_task_deadline(request, form),
            assignee=User.objects.filter(pk=assignee_id).first() if assignee_id else None,
            remind=form.cleaned_data.get("remind") or "none",
            remind_time=form.cleaned_data.get("remind_time"),
            duration_minutes=form.cleaned_data.get("duration_minutes"),
            **on,
        )


@member_required
@require_POST
def deal_task_quick(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    try:
        _quick_task(request, membership, deal=deal)
    except once.AlreadySubmittedError:
        return _composer_answer(request, deal)  # the first click made it: show the feed
    except (ValidationError, PermissionDenied) as exc:
        return _composer_answer(request, deal, exc)
    return _composer_answer(request, deal)


@member_required
@require_POST
@acts_once(in_place=True)
def deal_file(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    form = AttachmentForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose a file to attach."))
        attach_file(membership=membership, deal=deal, upload=form.cleaned_data["file"])
    except (ValidationError, PermissionDenied) as exc:
        return _composer_answer(request, deal, exc)
    return _composer_answer(request, deal)


@member_required
@require_POST
def deal_field(request: HttpRequest, deal_id: int, name: str) -> HttpResponse:
    """One field of the deal saved on its own, refused when someone saved the deal since
    the person opened it (``version``), so the second of two editors never overwrites."""
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    fields = definitions(CustomField.Entity.DEAL)
    custom = {PREFIX + f.key: f for f in fields}
    if name not in INLINE_FIELDS and name not in custom:
        raise Http404("not a field of the deal card")
    form = _deal_edit_form(deal, fields, membership)
    if name not in form.fields:
        raise Http404("this deal has no such field")
    field = form.fields[name]
    raw = field.widget.value_from_datadict(request.POST, request.FILES, form.add_prefix(name))
    version = whole_number(request.POST.get("version"))
    error, status = "", 200
    try:
        if version is None:
            raise ValidationError(_("Reload the page and try again."), code="version")
        value = _clean_one(form, name, raw)
        changes: dict[str, Any]
        if name in custom:
            changes = {"custom": merged_values([custom[name]], {name: value}, deal.custom)}
        elif name == "responsible":
            changes = {"responsible_id": value or deal.responsible_id}
        elif name == "currency":
            changes = {"currency": value or deal.currency}
        else:
            changes = {name: value}
        deal = update_deal(membership=membership, deal=deal, version=version, **changes)
    except (ValidationError, PermissionDenied) as exc:
        error = _error_text(exc)
        status = 409 if getattr(exc, "code", "") == "stale" else 400
    if not _htmx(request):
        if error:
            messages.error(request, error)
        return redirect("deal_detail", deal_id=deal.pk)
    deal = deal_for(membership, deal.pk)
    # Refused: the field keeps what was typed (nothing is lost) and the version the person saw.
    shown_form = _deal_edit_form(deal, fields, membership, request.POST if error else None)
    response = render(
        request,
        "crm_core/components/deal_field_fragment.html",
        {
            "deal": deal,
            "field": shown_form[name],
            "chips": list(deal.tags) if name == "tags" and not error else [],
            "error": error,
            "saved": "" if error else "1",
            "name": name,
            "version": version if error else deal.version,
        },
        status=status,
    )
    if not error:
        response["X-Record-Version"] = str(deal.version)
    return response


# --- The client card and the contact person's card ----------------------------------------
#
# Their fields are saved one at a time as the deal's are, each refused when the record was
# saved by someone else since the person opened the card (``version``). A person who sees the
# record only through a deal reads it: the fields show as text and the field endpoints answer
# 404 (the record is not among those they may change). The composer (note, call result; a
# task on a client) is open to whoever sees the record, as on a deal: it changes no field.

# The client's fields on its card, in this order (its custom fields follow); "name" is the title.
CLIENT_FIELDS = (
    "name",
    "kind",
    "relationship",
    "full_name",
    "inn",
    "kpp",
    "legal_address",
    "postal_address",
    "bank_name",
    "bik",
    "bank_account",
    "correspondent_account",
    "website",
    "industry",
    "tags",
    "source",
    "responsible",
)
# The bank details fold away under their own heading (rarely needed, four fields long).
CLIENT_BANK_FIELDS = ("bank_name", "bik", "bank_account", "correspondent_account")
# Phones and e-mails first: they are what the card is opened for.
CONTACT_FIELDS = (
    "phones",
    "emails",
    "position",
    "last_name",
    "first_name",
    "middle_name",
    "telegram",
    "whatsapp",
)


def _calculation(deal: Deal) -> dict[str, Any]:
    """The calculation panel: lines with their figures, the totals, the forms that change them."""
    include_vat = pricing_settings().prices_include_vat
    lines, totals = calculation(deal, include_vat)
    price_lists = list(PriceList.objects.all())
    return {
        "lines": [
            (
                item,
                figures,
                DiscountForm(
                    prefix=f"line{item.pk}",
                    initial={"discount": item.discount or "", "discount_kind": item.discount_kind},
                ),
            )
            for item, figures in lines
        ],
        "totals": totals,
        "vat_rows": [(rate, vat) for rate, vat in totals.vat_by_rate.items() if rate != "none"],
        "prices_include_vat": include_vat,
        "item_form": _item_form(),
        "ask_amount": bool(deal.amount) and deal.amount != totals.total,
        "price_lists": price_lists,
        "price_list_form": _price_list_form(deal, price_lists),
    }


def _price_list_form(deal: Deal, price_lists: list[PriceList]) -> DealPriceListForm:
    """The deal's price-list choice, its options from the lists the panel already read."""
    form = DealPriceListForm(
        prefix="pl", initial={"price_list": deal.price_list_id, "reprice": True}
    )
    field = form.fields["price_list"]
    field.choices = [("", field.empty_label), *((pl.pk, pl.name) for pl in price_lists)]  # type: ignore[attr-defined]
    return form


def _item_form() -> ItemForm:
    """The new line's form. Its product field asks the catalogue for suggestions as the
    person types (htmx fills the datalist), so the card does not carry the whole catalogue
    and a catalogue of thousands stays searchable; without JavaScript a typed name still
    finds its product when the line is added."""
    form = ItemForm(prefix="item")
    form.fields["name"].widget.attrs.update(
        {
            "hx-get": reverse("product_options"),
            "hx-trigger": "focus once, input changed delay:200ms",
            "hx-target": "#price-list",
            "hx-sync": "this:replace",
        }
    )
    return form


@dataclass(slots=True)
class CardField:
    """One field on a card's fields panel: the bound field, where it is saved, and what shows
    beside it (tags as chips, phones and e-mails as one-tap links)."""

    field: BoundField
    url: str
    chips: list[str]
    links: list[tuple[str, str]]


def _clean_one(form: forms.Form, name: str, raw: Any) -> Any:
    """One field of ``form`` cleaned on its own, with the form's own clean_<name> if any
    (tags split at commas, e-mails checked, phones one per line)."""
    value = form.fields[name].clean(raw)
    clean_method = getattr(form, f"clean_{name}", None)
    if clean_method is not None:
        form.cleaned_data = {name: value}
        value = clean_method()
    return value


def _client_extras(client: Client, name: str) -> tuple[list[str], list[tuple[str, str]]]:
    if name == "tags":
        return list(client.tags), []
    if name == "website" and client.website:
        return [], [(client.website, client.website)]
    return [], []


def _contact_extras(contact: Contact, name: str) -> tuple[list[str], list[tuple[str, str]]]:
    if name == "phones":
        return [], [(f"tel:{p.e164}", str(p)) for p in contact.phones.all()]
    if name == "emails":
        return [], [(f"mailto:{e}", e) for e in contact.emails]
    return [], []


def _client_card_fields(client: Client, form: forms.Form, names: list[str]) -> list[CardField]:
    return [
        CardField(form[n], reverse("client_field", args=[client.pk, n]), *_client_extras(client, n))
        for n in names
        if n in form.fields
    ]


def _contact_card_fields(contact: Contact, form: forms.Form, names: list[str]) -> list[CardField]:
    return [
        CardField(
            form[n], reverse("contact_field", args=[contact.pk, n]), *_contact_extras(contact, n)
        )
        for n in names
        if n in form.fields
    ]


def _contact_form(contact: Contact, data: Any = None) -> ContactForm:
    form = ContactForm(data, prefix="edit", initial=contact_initial(contact))
    add_fields(form, definitions(CustomField.Entity.CONTACT), contact.custom)
    return form


def _composer_context(
    membership: Any, with_task: bool, members: list[tuple[int, str]] | None = None
) -> dict[str, Any]:
    context: dict[str, Any] = {"call_results": list(CALL_RESULTS.items())}
    if with_task:
        context["quick_due"] = _quick_due_choices()
        people = _members(membership) if members is None else members
        context["task_form"] = with_members(TaskForm(prefix="task"), people)
        context["remind_choices"] = REMIND_LABELS
    return context


@member_required
@require_GET
def client_card(request: HttpRequest, client_id: int) -> HttpResponse:
    """The one card with everything about a client."""
    membership = _membership(request)
    client = client_for(membership, client_id)
    deals = list(client.deals.select_related("stage", "pipeline").order_by("-created_at"))
    # Read once for the card and the merge candidates: a client one sees shows all of its
    # contact persons (crm_core.queries.clients.visible_contacts).
    contacts = list(visible_contacts(membership).filter(client=client).prefetch_related("phones"))
    prefetch_related_objects([client], "phones")
    fields = definitions(CustomField.Entity.CLIENT)
    # False when the member sees this client only through one of their deals: the card then
    # shows its fields as text and no edit, merge or add-contact buttons.
    can_change = may_change(membership, client.responsible_id)
    members = _members(membership)  # the edit form and the composer's task form
    form = _client_form(client, membership, fields, prefix="edit", members=members)
    names = [n for n in CLIENT_FIELDS if n not in ("name", *CLIENT_BANK_FIELDS)]
    names += [PREFIX + f.key for f in fields]
    return render(
        request,
        "crm_core/client.html",
        {
            "client": client,
            "custom_values": shown(fields, client.custom),
            "contacts": contacts,
            "phones": client.phones.all(),
            "open_deals": [d for d in deals if d.stage.outcome == Stage.Outcome.OPEN],
            "closed_deals": [d for d in deals if d.stage.outcome != Stage.Outcome.OPEN],
            "feed": client_feed(client, membership),
            "duplicates": duplicates_of(membership, client, contacts=contacts),
            "can_change": can_change,
            "title_field": form["name"],
            "card_fields": _client_card_fields(client, form, names) if can_change else [],
            "bank_fields": (
                _client_card_fields(client, form, list(CLIENT_BANK_FIELDS)) if can_change else []
            ),
            **_composer_context(membership, with_task=True, members=members),
        },
    )


@member_required
@require_GET
def contact_card(request: HttpRequest, contact_id: int) -> HttpResponse:
    membership = _membership(request)
    contact = contact_for(membership, contact_id)
    client = contact.client
    fields = definitions(CustomField.Entity.CONTACT)
    can_change = may_change(
        membership, contact.responsible_id, client.responsible_id if client else None
    )
    form = _contact_form(contact)
    names = [*CONTACT_FIELDS, *(PREFIX + f.key for f in fields)]
    return render(
        request,
        "crm_core/contact.html",
        {
            "contact": contact,
            "client": client,
            "phones": contact.phones.all(),
            "custom_values": shown(fields, contact.custom),
            "deals": Deal.objects.filter(contacts=contact)
            .select_related("stage")
            .order_by("-created_at")[:50],
            "feed": contact_feed(contact, membership),
            "can_change": can_change,
            "card_fields": _contact_card_fields(contact, form, names) if can_change else [],
            **_composer_context(membership, with_task=True),
        },
    )


def _field_fragment(
    request: HttpRequest,
    card_field: CardField,
    *,
    version: int,
    error: str,
    status: int,
    title: bool = False,
    facts: dict[str, Any] | None = None,
) -> HttpResponse:
    """The field swapped in place; after a save, the card's header facts too (out of band),
    so the header never shows what the field no longer says."""
    response = render(
        request,
        "crm_core/components/field_fragment.html",
        {
            **(facts or {}),
            "card_field": card_field,
            "version": version,
            "error": error,
            "saved": "" if error else "1",
            "title": "1" if title else "",
        },
        status=status,
    )
    if not error:
        response["X-Record-Version"] = str(version)
    return response


def _refusal(exc: Exception) -> tuple[str, int]:
    return _error_text(exc), 409 if getattr(exc, "code", "") == "stale" else 400


@member_required
@require_POST
def client_field(request: HttpRequest, client_id: int, name: str) -> HttpResponse:
    """One field of the client saved on its own, refused when stale (``version``)."""
    membership = _membership(request)
    client = client_for(membership, client_id, to_change=True)
    fields = definitions(CustomField.Entity.CLIENT)
    custom = {PREFIX + f.key: f for f in fields}
    if name not in CLIENT_FIELDS and name not in custom:
        raise Http404("not a field of the client card")
    form = _client_form(client, membership, fields, prefix="edit")
    raw = form.fields[name].widget.value_from_datadict(
        request.POST, request.FILES, form.add_prefix(name)
    )
    version = whole_number(request.POST.get("version"))
    error, status = "", 200
    try:
        if version is None:
            raise ValidationError(_("Reload the page and try again."), code="version")
        value = _clean_one(form, name, raw)
        foreign = client.inn_status == Client.TaxIdStatus.FOREIGN
        changes: dict[str, Any] = {"inn": client.inn, "foreign_tax_id": foreign}
        if name in custom:
            changes["custom"] = merged_values([custom[name]], {name: value}, client.custom)
        elif name == "responsible":
            changes["responsible_id"] = value or client.responsible_id
        else:
            changes[name] = value
        client = update_client(membership=membership, client=client, version=version, **changes)
    except (ValidationError, PermissionDenied) as exc:
        error, status = _refusal(exc)
    if not _htmx(request):
        if error:
            messages.error(request, error)
        return redirect("client_detail", client_id=client.pk)
    client = Client.objects.get(pk=client.pk)
    shown_form = _client_form(
        client, membership, fields, request.POST if error else None, prefix="edit"
    )
    return _field_fragment(
        request,
        _client_card_fields(client, shown_form, [name])[0],
        version=version if error and version is not None else client.version,
        error=error,
        status=status,
        title=name == "name",
        facts={
            "facts_template": "crm_core/components/client_facts.html",
            "client": client,
            "open_deals": client.deals.filter(stage__outcome=Stage.Outcome.OPEN),
        },
    )


@member_required
@require_POST
def contact_field(request: HttpRequest, contact_id: int, name: str) -> HttpResponse:
    """One field of a contact person saved on its own, refused when stale (``version``)."""
    membership = _membership(request)
    contact = contact_for(membership, contact_id, to_change=True)
    fields = definitions(CustomField.Entity.CONTACT)
    custom = {PREFIX + f.key: f for f in fields}
    if name not in CONTACT_FIELDS and name not in custom:
        raise Http404("not a field of the contact card")
    form = _contact_form(contact)
    raw = form.fields[name].widget.value_from_datadict(
        request.POST, request.FILES, form.add_prefix(name)
    )
    version = whole_number(request.POST.get("version"))
    error, status = "", 200
    try:
        if version is None:
            raise ValidationError(_("Reload the page and try again."), code="version")
        value = _clean_one(form, name, raw)
        data = ContactInput(
            last_name=contact.last_name,
            first_name=contact.first_name,
            middle_name=contact.middle_name,
            position=contact.position,
            emails=list(contact.emails),
            phones=[p.raw for p in contact.phones.all()],
            telegram=contact.messengers.get("telegram", ""),
            whatsapp=contact.messengers.get("whatsapp", ""),
            custom=contact.custom,
        )
        if name in custom:
            data.custom = merged_values([custom[name]], {name: value}, contact.custom)
        else:
            setattr(data, name, value)
        contact = save_contact(
            membership=membership,
            company=request.company,  # type: ignore[attr-defined]
            client=contact.client,
            contact=contact,
            data=data,
            version=version,
        )
    except (ValidationError, PermissionDenied) as exc:
        error, status = _refusal(exc)
    if not _htmx(request):
        if error:
            messages.error(request, error)
        return redirect("contact_card", contact_id=contact.pk)
    contact = Contact.objects.get(pk=contact.pk)
    shown_form = _contact_form(contact, request.POST if error else None)
    return _field_fragment(
        request,
        _contact_card_fields(contact, shown_form, [name])[0],
        version=version if error and version is not None else contact.version,
        error=error,
        status=status,
        facts={
            "facts_template": "crm_core/components/contact_facts.html",
            "contact": contact,
            "client": contact.client,
            "phones": contact.phones.all(),
            "deals": Deal.objects.filter(contacts=contact),
        },
    )


# The composer of the client and contact cards: note, call result, and a task on a client.


def _record_feed(request: HttpRequest, kind: str, record_id: int) -> tuple[Any, str, str, Feed]:
    """The record the feed belongs to (404 unless the member sees it), its feed URL, the card's
    URL and the feed itself."""
    membership = _membership(request)
    if kind == "client":
        client = client_for(membership, record_id)
        return (
            client,
            reverse("client_card_feed", args=[client.pk]),
            reverse("client_detail", args=[client.pk]),
            client_feed(client, membership),
        )
    contact = contact_for(membership, record_id)
    return (
        contact,
        reverse("contact_card_feed", args=[contact.pk]),
        reverse("contact_card", args=[contact.pk]),
        contact_feed(contact, membership),
    )


def _record_feed_answer(
    request: HttpRequest, kind: str, record_id: int, exc: Exception | None = None
) -> HttpResponse:
    _record, feed_url, card_url, feed = _record_feed(request, kind, record_id)
    if not _htmx(request):
        if exc is not None:
            messages.error(request, _error_text(exc))
        return redirect(card_url)
    return render(
        request,
        "crm_core/components/card_feed_fragment.html",
        {
            "feed": feed,
            "feed_url": feed_url,
            "next": card_url,
            "feed_error": _error_text(exc) if exc is not None else "",
        },
        status=400 if exc is not None else 200,
    )


@member_required
@require_GET
def record_feed_fragment(request: HttpRequest, kind: str, record_id: int) -> HttpResponse:
    return _record_feed_answer(request, kind, record_id)


@member_required
@require_POST
@acts_once(in_place=True)
def record_note(request: HttpRequest, kind: str, record_id: int) -> HttpResponse:
    record, *_rest = _record_feed(request, kind, record_id)
    try:
        log_on_record(
            membership=_membership(request),
            text=str(request.POST.get("note-text", "")),
            **{kind: record},
        )
    except (ValidationError, PermissionDenied) as exc:
        return _record_feed_answer(request, kind, record_id, exc)
    return _record_feed_answer(request, kind, record_id)


@member_required
@require_POST
@acts_once(in_place=True)
def record_call(request: HttpRequest, kind: str, record_id: int) -> HttpResponse:
    """A call's result in one click on a client's or a contact person's card."""
    record, *_rest = _record_feed(request, kind, record_id)
    try:
        text = call_result_text(
            str(request.POST.get("result", "")), str(request.POST.get("log-result", ""))
        )
        log_on_record(
            membership=_membership(request), text=text, kind=Activity.Kind.CALL, **{kind: record}
        )
    except (ValidationError, PermissionDenied) as exc:
        return _record_feed_answer(request, kind, record_id, exc)
    return _record_feed_answer(request, kind, record_id)


@member_required
@require_POST
def client_task(request: HttpRequest, client_id: int) -> HttpResponse:
    """A task on the client (not on one of its deals), with a quick due-date choice."""
    membership = _membership(request)
    return _record_task(request, membership, "client", client_for(membership, client_id))


@member_required
@require_POST
def contact_task(request: HttpRequest, contact_id: int) -> HttpResponse:
    """A task on a contact person (it counts for their client too)."""
    membership = _membership(request)
    return _record_task(request, membership, "contact", contact_for(membership, contact_id))


def _record_task(
    request: HttpRequest, membership: Membership, kind: str, record: Any
) -> HttpResponse:
    """The composer's task on a client or a contact person, answered with the record's feed."""
    try:
        _quick_task(request, membership, **{kind: record})
    except once.AlreadySubmittedError:
        return _record_feed_answer(request, kind, record.pk)
    except (ValidationError, PermissionDenied) as exc:
        return _record_feed_answer(request, kind, record.pk, exc)
    return _record_feed_answer(request, kind, record.pk)
