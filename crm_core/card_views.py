"""The record cards: the deal card (header, fields edited in place, one feed with a composer),
the client card and the contact person's card. Thin: reads through queries, writes through
services. Each write answers an htmx request with the fragment to swap and anything else with
a redirect back to the card (the page works without JavaScript)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_core.access import member_required
from crm_core.customfields import PREFIX, definitions, merged_values, shown
from crm_core.forms import AttachmentForm, ItemForm, TaskForm, with_members
from crm_core.models import Activity, CustomField, Deal, Product, Stage
from crm_core.queries.cards import contact_feed, deal_feed
from crm_core.queries.clients import contact_for
from crm_core.queries.deals import deal_for
from crm_core.services import once
from crm_core.services.deals import CALL_RESULTS, log_call, log_call_result, update_deal
from crm_core.services.files import attach_file
from crm_core.services.items import amount_follows_items, items_total
from crm_core.services.tasks import QUICK_DUE, create_task, quick_deadline
from crm_core.views import _deal_edit_form, _members, _membership
from relata.inputs import whole_number
from tenants.models import User

# The deal's fields that are saved one at a time from the card (custom fields too: cf_…).
INLINE_FIELDS = ("title", "amount", "expected_close", "source", "responsible", "contact_ids")


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
    edit_form = _deal_edit_form(deal, fields, membership)
    stages = list(deal.pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.outcome == Stage.Outcome.OPEN]
    current_index = next((i for i, s in enumerate(open_stages) if s.pk == deal.stage_id), None)
    feed = deal_feed(deal)
    now = timezone.now()
    return {
        "deal": deal,
        "stages": stages,
        "open_stages": open_stages,
        "won_stages": [s for s in stages if s.outcome == Stage.Outcome.WON],
        "lost_stages": [s for s in stages if s.outcome == Stage.Outcome.LOST],
        "passed_stage_ids": {s.pk for s in open_stages[: current_index or 0]},
        "closed": deal.stage.outcome != Stage.Outcome.OPEN,
        "open_task_count": len(feed.pinned),
        "age": now - deal.created_at,
        "in_stage": now - deal.stage_entered_at,
        "feed": feed,
        "call_results": list(CALL_RESULTS.items()),
        "quick_due": _quick_due_choices(),
        "task_form": with_members(TaskForm(prefix="task"), _members(membership)),
        "items": deal.items.all(),
        "item_form": ItemForm(prefix="item"),
        "ask_amount": not amount_follows_items(deal),
        "items_total": items_total(deal),
        "products": Product.objects.filter(is_active=True).order_by("name")[:500],
        "attachments": deal.attachments.all(),
        "attachment_form": AttachmentForm(),
        "edit_form": edit_form,
        "inline_fields": [
            edit_form[name]
            for name in INLINE_FIELDS
            if name != "title" and name in edit_form.fields
        ],
        "custom_fields": [edit_form[PREFIX + f.key] for f in fields],
        "deal_contacts": deal.contacts.prefetch_related("phones"),
        "custom_values": shown(fields, deal.custom),
    }


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
    request: HttpRequest, deal: Deal, error: str = "", status: int = 200
) -> HttpResponse:
    response = render(
        request,
        "crm_core/components/deal_feed_fragment.html",
        {"deal": deal, "feed": deal_feed(deal), "feed_error": error},
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
    if _htmx(request):
        if exc is not None:
            return _feed_response(request, deal, _error_text(exc), 400)
        return _feed_response(request, deal)
    if exc is not None:
        messages.error(request, _error_text(exc))
    elif ok:
        messages.success(request, ok)
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
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


@member_required
@require_POST
def deal_task_quick(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    form = with_members(TaskForm(request.POST, prefix="task"), _members(membership))
    form.fields["deadline"].required = False
    try:
        if not form.is_valid():
            raise ValidationError(
                "; ".join(str(e) for errors in form.errors.values() for e in errors)
            )
        assignee_id = form.cleaned_data.get("assignee")
        with once.acting_once(request.POST.get(once.FIELD)):
            create_task(
                membership=membership,
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
                deadline=_task_deadline(request, form),
                deal=deal,
                assignee=User.objects.filter(pk=assignee_id).first() if assignee_id else None,
            )
    except once.AlreadySubmittedError:
        return _composer_answer(request, deal)  # the first click made it: show the feed
    except (ValidationError, PermissionDenied) as exc:
        return _composer_answer(request, deal, exc)
    return _composer_answer(request, deal)


@member_required
@require_POST
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
        value = field.clean(raw)
        changes: dict[str, Any]
        if name in custom:
            changes = {"custom": merged_values([custom[name]], {name: value}, deal.custom)}
        elif name == "responsible":
            changes = {"responsible_id": value or deal.responsible_id}
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


@member_required
@require_GET
def contact_card(request: HttpRequest, contact_id: int) -> HttpResponse:
    membership = _membership(request)
    contact = contact_for(membership, contact_id)
    return render(
        request,
        "crm_core/contact.html",
        {
            "contact": contact,
            "client": contact.client,
            "phones": contact.phones.all(),
            "custom_values": shown(definitions(CustomField.Entity.CONTACT), contact.custom),
            "deals": Deal.objects.filter(contacts=contact)
            .select_related("stage")
            .order_by("-created_at")[:50],
            "feed": contact_feed(contact),
        },
    )
