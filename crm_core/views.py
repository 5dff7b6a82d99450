"""Pages inside a company's CRM. Thin: reads through queries, writes through services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm, Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_core.access import is_admin, member_required
from crm_core.board_views import card_links, colours_version, render_cards
from crm_core.currencies import sign as currency_sign
from crm_core.customfields import (
    PREFIX,
    add_fields,
    definitions,
    merged_values,
)
from crm_core.exports import xlsx_response
from crm_core.forms import (
    DealEditForm,
    DealFilterForm,
    DealForm,
    ItemForm,
    LogForm,
    TaskDetailsForm,
    TaskForm,
    with_members,
)
from crm_core.models import (
    Attachment,
    AuditEntry,
    Contact,
    CustomField,
    Deal,
    DealItem,
    Lead,
    Notification,
    Pipeline,
    Stage,
)
from crm_core.once_views import acts_once
from crm_core.queries.audit import audit_rows
from crm_core.queries.deals import board as board_columns
from crm_core.queries.deals import board_total, deal_for, deal_list
from crm_core.queries.duplicates import find_duplicates
from crm_core.queries.leads import lead_for, visible_leads
from crm_core.queries.members import assignable_members
from crm_core.queries.rates import base_currency, rates_today
from crm_core.queries.search import search
from crm_core.queries.sheets import deal_sheet
from crm_core.queries.tasks import my_day, task_for
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import create_deal, log_call, move_deal, update_deal
from crm_core.services.items import add_item, remove_item
from crm_core.services.leads import convert_lead, reject_lead
from crm_core.services.limits import PlanLimitReachedError
from crm_core.services.tasks import complete_task, create_task
from relata.inputs import whole_number
from tenants.models import Membership, User


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _form_errors(request: HttpRequest, form: Form) -> None:
    messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))


def _errors_to_form(form: BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _board_pipeline(pipeline_id: int | None) -> Pipeline | None:
    if pipeline_id:
        return get_object_or_404(Pipeline, pk=pipeline_id)
    return Pipeline.objects.filter(is_archived=False).order_by("-is_default", "position").first()


@member_required
@require_GET
def deal_board(request: HttpRequest, pipeline_id: int | None = None) -> HttpResponse:
    # Archived pipelines leave the switcher; their boards stay reachable by address.
    pipelines = list(Pipeline.objects.filter(is_archived=False))
    if pipeline_id:
        pipeline = next((p for p in pipelines if p.pk == pipeline_id), None)
        pipeline = pipeline or _board_pipeline(pipeline_id)
    else:  # the default one (one read for the switcher and the board)
        pipeline = min(pipelines, key=lambda p: (not p.is_default, p.position), default=None)
    if pipeline is None:
        return redirect("workspace")
    membership = _membership(request)
    fields = definitions(CustomField.Entity.DEAL)
    # The "New deal" and "Filters" forms open on a click (board_form): rendered on every visit
    # they were a fifth of the board's CPU. Only a board already filtered shows its filters.
    filters = (
        DealFilterForm(request.GET, members=_members(membership), fields=fields, board=True)
        if request.GET
        else None
    )
    rates = rates_today()
    columns = board_columns(
        membership,
        pipeline,
        filters.cleaned_data if filters and filters.is_valid() else {},
        fields,
        rates,
    )
    cards = [card for column in columns for card in column.deals]
    card_links(cards)
    render_cards(cards)
    return render(
        request,
        "crm_core/board.html",
        {
            "pipeline": pipeline,
            "pipelines": pipelines,
            "is_admin": is_admin(membership),
            "columns": columns,
            "total": board_total(columns),
            "rates": rates,
            "base_sign": currency_sign(rates.base),
            "colours_version": colours_version(column.stage for column in columns),
            "filters": filters,
            "filter_query": request.GET.urlencode(),
        },
    )


@member_required
@require_GET
def board_form(request: HttpRequest, pipeline_id: int, part: str) -> HttpResponse:
    """The board's "New deal" or "Filters" form, fetched when the person opens it."""
    pipeline = _board_pipeline(pipeline_id)
    membership = _membership(request)
    if part == "new":
        form: Form = DealForm(initial={"pipeline": pipeline, "currency": base_currency()})
    elif part == "filters":
        form = DealFilterForm(
            None,
            members=_members(membership),
            fields=definitions(CustomField.Entity.DEAL),
            board=True,
        )
    else:
        raise Http404("no such form")
    return render(request, "crm_core/_board_form.html", {"part": part, "form": form})


@member_required
@require_POST
@acts_once
def deal_create(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    form = DealForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("deal_board")
    data = form.cleaned_data
    try:
        client = None
        if data["client_name"]:
            client = create_client(
                membership=membership,
                company=request.company,  # type: ignore[attr-defined]
                data=ClientInput(name=data["client_name"], kind="person", phones=[data["phone"]]),
            )
        deal = create_deal(
            membership=membership,
            title=data["title"],
            pipeline=data["pipeline"],
            client=client,
            amount=data["amount"] or Decimal(0),
            currency=data["currency"],
        )
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
        return redirect("deal_board")
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
def deal_move(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Called by the board's drag and drop (and the stage buttons on the deal card)."""
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    stage_id = whole_number(request.POST.get("stage"))
    raw_version = request.POST.get("version", "")
    version = whole_number(raw_version)
    if stage_id is None or (raw_version and version is None):
        return _answer(
            request, deal_id, {"ok": False, "error": _("Choose a stage of this pipeline.")}, 400
        )
    stage = get_object_or_404(Stage, pk=stage_id)
    try:
        deal = move_deal(
            membership=membership,
            deal=deal,
            stage=stage,
            version=version,
            lost_reason=request.POST.get("lost_reason", ""),
            close_tasks=request.POST.get("close_tasks") == "1",
        )
    except ValidationError as exc:
        status = 409 if exc.code == "stale" else 400
        return _answer(request, deal_id, {"ok": False, "error": " ".join(exc.messages)}, status)
    except PermissionDenied:
        return _answer(
            request, deal_id, {"ok": False, "error": _("Your role can only look, not change.")}, 403
        )
    return _answer(
        request, deal_id, {"ok": True, "version": deal.version, "stage": deal.stage_id}, 200
    )


def _answer(
    request: HttpRequest, deal_id: int, body: dict[str, object], status: int
) -> HttpResponse:
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(body, status=status)
    if not body["ok"]:
        messages.error(request, str(body["error"]))
    return redirect("deal_detail", deal_id=deal_id)


def _deal_edit_form(
    deal: Deal,
    fields: list[CustomField],
    membership: Membership,
    data: Any = None,
    members: list[tuple[int, str]] | None = None,
) -> DealEditForm:
    """``members``: the assignable members when the caller has them already (the card)."""
    people = Contact.objects.filter(client_id=deal.client_id) if deal.client_id else []
    form = DealEditForm(
        data,
        prefix="edit",
        members=_members(membership) if members is None else members,
        contacts=[(c.pk, str(c)) for c in people],
        initial={
            "title": deal.title,
            "amount": deal.amount,
            "currency": deal.currency,
            "expected_close": deal.expected_close,
            "source": deal.source,
            "tags": ", ".join(deal.tags),
            "responsible": deal.responsible_id,
            "contact_ids": [c.pk for c in deal.contacts.all()],
            "version": deal.version,
        },
    )
    add_fields(form, fields, deal.custom)
    return form


_members = assignable_members


def _fail(request: HttpRequest, exc: Exception) -> None:
    """Tell the person why a write was refused, in their language."""
    if isinstance(exc, PermissionDenied):
        messages.error(request, _("Your role can only look, not change."))
    elif isinstance(exc, PlanLimitReachedError):
        # The page shows the message with a link to the billing page (relata/base.html).
        messages.error(request, exc.message, extra_tags="plan-limit")
    else:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))


@member_required
@require_POST
def deal_item_add(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    form = ItemForm(request.POST, prefix="item")
    if form.is_valid():
        try:
            add_item(
                membership=membership,
                deal=deal,
                keep_amount=request.POST.get("item-amount") == "keep",
                **form.cleaned_data,
            )
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
    else:
        _form_errors(request, form)
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
def deal_item_remove(request: HttpRequest, deal_id: int, item_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    item = get_object_or_404(DealItem, pk=item_id, deal=deal)
    try:
        remove_item(membership=membership, item=item)
    except PermissionDenied as exc:
        _fail(request, exc)
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """Files are served only through here: the deal must be visible to the member."""
    membership = _membership(request)
    attachment = get_object_or_404(Attachment, pk=attachment_id)
    if attachment.deal_id is None:
        raise Http404("not attached to a deal")
    deal_for(membership, attachment.deal_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@member_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    inbox = list(Notification.objects.filter(user_id=membership.user_id)[:100])
    Notification.objects.filter(user_id=membership.user_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return render(request, "crm_core/notifications.html", {"notices": inbox})


@member_required
@require_POST
def deal_log(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    form = LogForm(request.POST, prefix="log")
    if form.is_valid():
        try:
            log_call(
                membership=membership,
                deal=deal,
                result=form.cleaned_data["result"],
                kind=form.cleaned_data["kind"],
            )
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
    else:
        messages.error(request, _("Write what came of it."))
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
def deal_task(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    form = with_members(TaskForm(request.POST, prefix="task"), _members(membership))
    if form.is_valid():
        assignee_id = form.cleaned_data.get("assignee")
        try:
            create_task(
                membership=membership,
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
                deadline=form.cleaned_data["deadline"],
                deal=deal,
                assignee=User.objects.filter(pk=assignee_id).first() if assignee_id else None,
            )
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
    else:
        _form_errors(request, form)
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    membership = _membership(request)
    task = task_for(membership, task_id)
    try:
        complete_task(membership=membership, task=task)
    except PermissionDenied as exc:
        _fail(request, exc)
    back = str(request.POST.get("next", ""))
    # Only a path on this host: never an open redirect.
    return (
        redirect(back) if back.startswith("/") and not back.startswith("//") else redirect("my_day")
    )


@member_required
@require_GET
def tasks_my_day(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    day = my_day(membership, request.company)  # type: ignore[attr-defined]
    task_form = with_members(
        TaskDetailsForm(initial={"assignee": membership.user_id, "remind": "15m"}),
        _members(membership),
    )
    return render(request, "crm_core/my_day.html", {"day": day, "task_form": task_form})


@member_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    results = search(_membership(request), request.GET.get("q", ""))
    template = "crm_core/_search_results.html" if request.htmx else "crm_core/search.html"  # type: ignore[attr-defined]
    return render(request, template, {"results": results})


@member_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """The company's audit log: owners and admins only."""
    membership = _membership(request)
    if membership.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise Http404("admins only")
    entries = AuditEntry.objects.all()
    object_id = whole_number(request.GET.get("id"))
    if request.GET.get("type") and object_id is not None:
        entries = entries.filter(object_type=request.GET["type"], object_id=object_id)
    return render(request, "crm_core/audit.html", {"rows": audit_rows(entries[:200])})


@member_required
@require_GET
def client_duplicates(request: HttpRequest) -> HttpResponse:
    """Asked while the client form is being typed in (htmx): who might this already be?"""
    duplicates = find_duplicates(
        _membership(request),
        inn=request.GET.get("inn", ""),
        phone=request.GET.get("phone", ""),
        email=request.GET.get("email", ""),
    )
    return render(request, "crm_core/_duplicates.html", {"duplicates": duplicates})


@member_required
@require_GET
def leads_inbox(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    leads = visible_leads(membership)
    # Every request that arrived, by default: a web form that makes deals converts its request
    # at once, and an inbox filtered to "new" stayed empty while notifications said otherwise.
    status = request.GET.get("status", "")
    if status in Lead.Status.values:
        leads = leads.filter(status=status)
    return render(request, "crm_core/leads.html", {"leads": leads[:200], "status": status})


@member_required
@require_POST
@acts_once
def lead_convert(request: HttpRequest, lead_id: int) -> HttpResponse:
    membership = _membership(request)
    lead = lead_for(membership, lead_id)
    try:
        deal = convert_lead(membership=membership, company=request.company, lead=lead)  # type: ignore[attr-defined]
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
        return redirect("leads")
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
def lead_reject(request: HttpRequest, lead_id: int) -> HttpResponse:
    membership = _membership(request)
    lead = lead_for(membership, lead_id)
    try:
        reject_lead(membership=membership, lead=lead, reason=request.POST.get("reason", ""))
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    return redirect("leads")


@member_required
@require_POST
def deal_edit(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    fields = definitions(CustomField.Entity.DEAL)
    form = _deal_edit_form(deal, fields, membership, request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("deal_detail", deal_id=deal.pk)
    data = {k: v for k, v in form.cleaned_data.items() if not k.startswith(PREFIX)}
    data["custom"] = merged_values(fields, form.cleaned_data, deal.custom)
    data["responsible_id"] = data.pop("responsible") or deal.responsible_id
    data["currency"] = data.get("currency") or deal.currency
    if form.add_prefix("tags") not in request.POST:  # a form without the tags keeps them
        data.pop("tags", None)
    version = data.pop("version")
    try:
        update_deal(membership=membership, deal=deal, version=version, **data)
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    return redirect("deal_detail", deal_id=deal.pk)


def _filtered_deals(request: HttpRequest) -> tuple[DealFilterForm, Any, list[CustomField]]:
    membership = _membership(request)
    fields = definitions(CustomField.Entity.DEAL)
    form = DealFilterForm(request.GET or None, members=_members(membership), fields=fields)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, deal_list(membership, filters, fields, sort=filters.get("sort") or "new"), fields


@member_required
@require_GET
def deal_list_page(request: HttpRequest) -> HttpResponseBase:
    from crm_core.list_views import render_list

    return render_list(request, "deals", "crm_core/deal_list.html")


@member_required
@require_GET
def deal_list_export(request: HttpRequest) -> FileResponse:
    """The deal list as filtered, to Excel: only the deals this member may see."""
    _form, deals, fields = _filtered_deals(request)
    headers, rows = deal_sheet(deals, fields)
    return xlsx_response("deals.xlsx", _("Deals"), headers, rows)
