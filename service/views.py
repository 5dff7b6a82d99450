"""Members' pages: the tickets list (with saved views), a ticket with its conversation and
reply box, a new ticket, and the customer-service settings. Thin: reads through ``queries``,
writes through ``services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import is_admin, member_required, require_admin, require_write
from crm_core.list_views import BulkForm, view_url
from crm_core.queries.clients import client_for
from crm_core.queries.lists import default_view, filters_only, saved_views
from crm_core.queries.members import assignable_members
from knowledge.pages_cache import forget_pages
from relata.inputs import whole_number
from service import queries
from service.forms import (
    MergeForm,
    NewTicketForm,
    NoteForm,
    QueueForm,
    ReplyForm,
    SettingsForm,
    SlaPolicyForm,
    SplitForm,
    SupportMailboxForm,
    TicketFieldsForm,
)
from service.models import Queue, ServiceSettings, SlaPolicy, SupportMailbox, Ticket, TicketMessage
from service.services import tickets as service
from tenants.models import Company, Membership


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _company(request: HttpRequest) -> Company:
    return request.company  # type: ignore[attr-defined]


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


@member_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponseBase:
    membership = _membership(request)
    views = saved_views(membership, "tickets")
    if not request.GET:
        start = default_view(membership, views)
        if start is not None:
            return redirect(view_url(start))
    members = assignable_members(membership)
    data = filters_only(request.GET)
    form = queries.TicketFilterForm(data or None, members=members)
    filters = form.cleaned_data if form.is_valid() else {}
    page = whole_number(request.GET.get("page")) or 1
    listing = queries.ticket_list(membership, filters)
    rows, more = queries.page_of(listing.tickets, page)
    query = request.GET.copy()
    query.pop("page", None)
    active = whole_number(request.GET.get("view"))
    may_write = membership.role != Membership.Role.READ_ONLY
    return render(
        request,
        "service/tickets.html",
        {
            "form": form,
            "rows": [(t, *queries.due_text(t)) for t in rows],
            "found": listing.found,
            "found_many": listing.many,
            "probe": queries.SEARCH_PROBE,
            "page": page,
            "more": more,
            "query": query.urlencode(),
            "filters": data.urlencode(),
            "entity": "tickets",
            "chosen": [],
            "views": [(v, view_url(v), v.pk == active) for v in views],
            "active_view": next((v for v in views if v.pk == active), None),
            "may_share": is_admin(membership),
            "may_write": may_write,
            # crm_core's bulk bar and machinery (service registers the tickets' actions).
            "bulk_form": BulkForm(
                entity="tickets",
                membership=membership,
                initial={"query": data.urlencode()},
                prefix="bulk",
            )
            if may_write
            else None,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponseBase:
    membership = _membership(request)
    require_write(membership)
    members = assignable_members(membership)
    initial: dict[str, Any] = {}
    client_id = whole_number(request.GET.get("client"))
    if client_id:
        initial["client"] = client_for(membership, client_id).pk
    form = NewTicketForm(
        request.POST if request.method == "POST" else None, members=members, initial=initial
    )
    client = None
    if client_id or request.POST.get("client"):
        wanted = whole_number(request.POST.get("client") or request.GET.get("client"))
        client = client_for(membership, wanted) if wanted else None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = service.open_ticket(
                company=_company(request),
                subject=data["subject"],
                text=data["text"],
                source=Ticket.Source.MANUAL,
                actor=membership,
                requester=service.Requester(
                    data["requester_email"] or "", data["requester_name"], data["requester_phone"]
                ),
                client=client,
                priority=data["priority"],
                queue=data["queue"],
                assignee_id=data["assignee"],
            )
        except ValidationError as exc:
            for text in _errors(exc):
                form.add_error(None, text)
        else:
            messages.success(request, _("Ticket #%(n)s opened.") % {"n": ticket.number})
            return redirect("ticket", ticket.pk)
    return render(request, "service/ticket_new.html", {"form": form, "client": client})


@member_required
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership = _membership(request)
    return _ticket_page(request, membership, queries.ticket_for(membership, ticket_id))


def _ticket_page(
    request: HttpRequest,
    membership: Membership,
    ticket: Ticket,
    reply_form: ReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    members = assignable_members(membership)
    due, due_state = queries.due_text(ticket)
    return render(
        request,
        "service/ticket.html",
        {
            "ticket": ticket,
            "thread": queries.conversation(ticket),
            "reply_form": reply_form or ReplyForm(),
            "note_form": NoteForm(),
            "fields_form": TicketFieldsForm(
                members=members,
                initial={
                    "status": ticket.status,
                    "priority": ticket.priority,
                    "queue": ticket.queue_id,
                    "assignee": ticket.assignee_id,
                },
            ),
            "merge_form": MergeForm(),
            "may_write": membership.role != Membership.Role.READ_ONLY,
            "due": due,
            "due_state": due_state,
            "reply_to": ticket.requester_email
            or (_("Telegram") if ticket.telegram_chat_id else ""),
        },
        status=status,
    )


@member_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Send the reply; bad input (an empty text, files over the limit) shows the page again
    with the error beside the field and the typed text kept (files are chosen again: no
    browser keeps them)."""
    membership = _membership(request)
    ticket = queries.ticket_for(membership, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _ticket_page(request, membership, ticket, form, status=400)
    try:
        service.reply(
            company=_company(request),
            actor=membership,
            ticket=ticket,
            text=form.cleaned_data["text"],
            then=form.cleaned_data["then"],
            files=form.cleaned_data["attachments"],
        )
    except ValidationError as exc:
        _form_errors(form, exc)
        return _ticket_page(request, membership, ticket, form, status=400)
    except service.ReplyError as exc:
        messages.error(request, _("The reply is kept but was not sent: %(why)s") % {"why": exc})
    else:
        messages.success(request, _("Sent."))
    return redirect("ticket", ticket.pk)


def _form_errors(form: ReplyForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@member_required
@require_POST
def ticket_note(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership = _membership(request)
    ticket = queries.ticket_for(membership, ticket_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            service.add_note(actor=membership, ticket=ticket, text=form.cleaned_data["text"])
        except ValidationError as exc:
            for text in _errors(exc):
                messages.error(request, text)
    else:
        messages.error(request, _("The note is empty."))
    return redirect("ticket", ticket.pk)


@member_required
@require_POST
def ticket_fields(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership = _membership(request)
    ticket = queries.ticket_for(membership, ticket_id)
    form = TicketFieldsForm(request.POST, members=assignable_members(membership))
    if not form.is_valid():
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
        return redirect("ticket", ticket.pk)
    data = form.cleaned_data
    try:
        service.change(
            company=_company(request),
            actor=membership,
            ticket=ticket,
            status=data["status"],
            priority=data["priority"],
            queue=data["queue"],
            assignee_id=data["assignee"],
        )
    except ValidationError as exc:
        for text in _errors(exc):
            messages.error(request, text)
    else:
        messages.success(request, _("Saved."))
    return redirect("ticket", ticket.pk)


@member_required
@require_POST
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership = _membership(request)
    ticket = queries.ticket_for(membership, ticket_id)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the number of the ticket to merge into."))
        return redirect("ticket", ticket.pk)
    into = queries.visible_tickets(membership).filter(number=form.cleaned_data["into"]).first()
    if into is None:
        messages.error(request, _("No such ticket."))
        return redirect("ticket", ticket.pk)
    try:
        service.merge(company=_company(request), actor=membership, ticket=ticket, into=into)
    except ValidationError as exc:
        for text in _errors(exc):
            messages.error(request, text)
        return redirect("ticket", ticket.pk)
    messages.success(request, _("Merged."))
    return redirect("ticket", into.pk)


@member_required
@require_POST
def ticket_split(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership = _membership(request)
    ticket = queries.ticket_for(membership, ticket_id)
    form = SplitForm(request.POST)
    if not form.is_valid():
        raise Http404("no such message")
    message = get_object_or_404(TicketMessage, pk=form.cleaned_data["message"], ticket=ticket)
    try:
        new = service.split(
            company=_company(request),
            actor=membership,
            message=message,
            subject=form.cleaned_data["subject"],
        )
    except ValidationError as exc:
        for text in _errors(exc):
            messages.error(request, text)
        return redirect("ticket", ticket.pk)
    messages.success(request, _("Ticket #%(n)s opened from the message.") % {"n": new.number})
    return redirect("ticket", new.pk)


# Settings (owners and admins).


@member_required
@require_http_methods(["GET", "POST"])
def service_settings(request: HttpRequest) -> HttpResponseBase:
    membership = _membership(request)
    try:
        require_admin(membership)
    except PermissionDenied:
        raise Http404("owners and admins only") from None
    row = ServiceSettings.current()
    form = SettingsForm(instance=row)
    queue_form, mailbox_form, sla_form = QueueForm(), SupportMailboxForm(), SlaPolicyForm()
    action = request.POST.get("do", "")
    if request.method == "POST":
        if action == "settings":
            form = SettingsForm(request.POST, request.FILES, instance=row)
            if form.is_valid():
                form.save()
                # The help centre's pages show "Submit a request" only while requests are taken.
                forget_pages()
                messages.success(request, _("Saved."))
                return redirect("service_settings")
        elif action == "queue":
            queue_form = QueueForm(request.POST)
            if queue_form.is_valid():
                Queue.objects.update_or_create(
                    team=queue_form.cleaned_data["team"],
                    defaults={"assignment": queue_form.cleaned_data["assignment"]},
                )
                return redirect("service_settings")
        elif action == "mailbox":
            mailbox_form = SupportMailboxForm(request.POST)
            if mailbox_form.is_valid():
                SupportMailbox.objects.update_or_create(
                    mailbox=mailbox_form.cleaned_data["mailbox"],
                    defaults={"queue": mailbox_form.cleaned_data["queue"]},
                )
                return redirect("service_settings")
        elif action == "sla":
            sla_form = SlaPolicyForm(request.POST)
            if sla_form.is_valid():
                policy = sla_form.save(commit=False)
                policy.client = sla_form.cleaned_data["client_name"]
                policy.save()
                return redirect("service_settings")
        elif action in {"queue_remove", "mailbox_remove", "sla_remove"}:
            model: Any = {
                "queue_remove": Queue,
                "mailbox_remove": SupportMailbox,
                "sla_remove": SlaPolicy,
            }[action]
            with transaction.atomic():
                model.objects.filter(pk=whole_number(request.POST.get("id")) or 0).delete()
            return redirect("service_settings")
        else:
            raise Http404("unknown action")
    return render(
        request,
        "service/settings.html",
        {
            "form": form,
            "queue_form": queue_form,
            "mailbox_form": mailbox_form,
            "sla_form": sla_form,
            "queues": Queue.objects.select_related("team"),
            "mailboxes": SupportMailbox.objects.select_related("mailbox", "queue__team"),
            "policies": SlaPolicy.objects.select_related("client"),
            "request_url": request.build_absolute_uri(reverse("help_request")),
        },
    )
