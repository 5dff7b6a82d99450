"""The mail pages: the person's inbox, a conversation with its reply form, writing a new
message from a card, mailboxes and letter templates. Thin: reads through queries, writes
through services; every object comes through a query that checks the member may see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from communications import oauth, queries
from communications.context_processors import forget_badge
from communications.forms import ComposeForm, MailboxForm, MailTemplateForm
from communications.inbox import conversation_url, inbox_sources
from communications.models import (
    Channel,
    Conversation,
    Mailbox,
    MailTemplate,
    Message,
    MessageAttachment,
)
from communications.sanitise import clean
from communications.services import letters, mailboxes, sending
from communications.services.connection import MailboxError
from crm_core.access import is_admin, member_required, require_write
from crm_core.models import Attachment, Client, Contact, Deal
from crm_core.queries.clients import client_for, contact_for
from crm_core.queries.deals import deal_for
from crm_core.views import _errors_to_form, _membership
from tenants.models import Company, Membership

T = TypeVar("T")


def _company(request: HttpRequest) -> Company:
    return request.company  # type: ignore[attr-defined]


@member_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Everything the person has to answer, oldest first (``?source=`` one channel or source,
    ``?mailbox=`` one mailbox), or every conversation, newest first (``?all=1``)."""
    membership = _membership(request)
    forget_badge(membership.user_id)  # the menu on this page counts afresh
    boxes = list(queries.readable_mailboxes(membership))
    chosen = None
    if request.GET.get("mailbox"):
        chosen = queries.mailbox_for(membership, _int(request.GET["mailbox"]))
    source = request.GET.get("source", "")
    registered = {s.key: s for s in inbox_sources()}
    if source not in {"", Channel.EMAIL, Channel.TELEGRAM, *registered}:
        raise Http404("no such inbox")
    waiting = request.GET.get("all") != "1"
    counts = queries.unread_counts(membership)
    tabs: list[tuple[str, str, int]] = []
    if queries.has_bot_chats(membership):
        tabs.append(
            (Channel.TELEGRAM, _("Telegram"), queries.waiting_count(membership, Channel.TELEGRAM))
        )
    tabs += [(key, s.label(), s.count(membership)) for key, s in registered.items()]
    items = None
    conversations = None
    if waiting and chosen is None:
        items = queries.waiting_items(membership, source=source)
    elif source in registered:
        raise Http404("only what waits is listed for this source")
    else:
        conversations = [
            (c, conversation_url(c))
            for c in queries.inbox(
                membership,
                mailbox=chosen,
                channel=source if source in Channel.values else "",
                waiting=waiting,
            )[:200]
        ]
    return render(
        request,
        "communications/inbox.html",
        {
            "mailboxes": [(box, counts.get(box.pk, 0)) for box in boxes],
            "tabs": tabs,
            "chosen": chosen,
            "source": source,
            "waiting": waiting,
            "items": items,
            "conversations": conversations,
            "unread_total": sum(counts.values()),
        },
    )


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("not a number") from None


def _seen(read: Callable[[Membership, int], T], membership: Membership, pk: int | None) -> T | None:
    """The record if this member may see it, else None (the crm_core reads answer 404)."""
    if pk is None:
        return None
    try:
        return read(membership, pk)
    except Http404:
        return None


def _files_of(deal: Deal | None) -> list[tuple[int, str]]:
    if deal is None:
        return []
    return list(Attachment.objects.filter(deal=deal).values_list("pk", "name")[:100])


def _template_text(
    request: HttpRequest, membership: Membership, **records: Any
) -> tuple[str, str] | None:
    template_id = request.GET.get("template")
    if not template_id:
        return None
    template = get_object_or_404(MailTemplate, pk=_int(template_id))
    fill = {"company": _company(request), "manager": request.user, **records}
    return letters.fill(template.subject, **fill), letters.fill(template.body, **fill)


def _send(
    request: HttpRequest,
    form: ComposeForm,
    deal: Deal | None,
    conversation: Conversation | None,
) -> Message | None:
    membership = _membership(request)
    data = form.cleaned_data
    files = (
        list(Attachment.objects.filter(deal=deal, pk__in=data.get("attach") or [])) if deal else []
    )
    outgoing = sending.Outgoing(
        to=data["to"], cc=data["cc"], subject=data["subject"], text=data["text"], files=files
    )
    try:
        require_write(membership)
        return sending.send(
            sender=request.user,  # type: ignore[arg-type]
            mailbox=data["mailbox"],
            outgoing=outgoing,
            conversation=conversation,
            deal=deal,
        )
    except ValidationError as exc:
        _errors_to_form(form, exc)
    except sending.SendError as exc:
        form.add_error(None, _("Not sent: %(reason)s The message is kept.") % {"reason": exc})
    return None


@member_required
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = _membership(request)
    found = queries.conversation_for(membership, conversation_id)
    if found.channel != Channel.EMAIL:
        # A Telegram chat opens on its own app's page, with the bot's reply form.
        return redirect(conversation_url(found))
    show_images = request.GET.get("images") == "1"
    thread = list(found.messages.prefetch_related("attachments").order_by("sent_at", "id"))
    last_in = next((m for m in reversed(thread) if m.direction == Message.Direction.IN), None)
    subject = found.subject if found.subject.lower().startswith("re:") else f"Re: {found.subject}"
    boxes = queries.sendable_mailboxes(membership)
    # A reader of a colleague's personal mailbox answers from a mailbox of their own.
    own_box = boxes.filter(conversations=found).values_list("pk", flat=True).first()
    initial: dict[str, Any] = {
        "to": (last_in.from_address if last_in else found.counterpart),
        "subject": subject,
        "mailbox": own_box or next(iter(boxes.values_list("pk", flat=True)[:1]), None),
    }
    # What the conversation was matched to, only as far as this person may see it: matching by
    # address knows nothing of visibility, and a letter from a client's address must not show
    # a manager the deal, its amount or its files when she cannot see them.
    client = _seen(client_for, membership, found.client_id)
    contact = _seen(contact_for, membership, found.contact_id)
    deal = _seen(deal_for, membership, found.deal_id)
    filled = _template_text(request, membership, client=client, contact=contact, deal=deal)
    if filled:
        initial["text"] = filled[1]
    form = ComposeForm(
        request.POST or None, initial=initial, mailboxes=boxes, files=_files_of(deal)
    )
    if request.method == "POST" and form.is_valid():
        sent = _send(request, form, deal, found)
        if sent is not None:
            messages.success(request, _("Sent."))
            return redirect(reverse("mail_conversation", args=[found.pk]) + f"#message-{sent.pk}")
    Message.objects.filter(
        conversation=found, is_read=False, direction=Message.Direction.IN
    ).update(is_read=True)
    shown = []
    blocked = 0
    for item in thread:
        safe = clean(item.html, show_images=show_images) if item.html else None
        blocked += safe.blocked_images if safe else 0
        shown.append((item, safe.html if safe else ""))
    response = render(
        request,
        "communications/conversation.html",
        {
            "conversation": found,
            "about_client": client,
            "about_contact": contact,
            "about_deal": deal,
            "thread": shown,
            "blocked_images": blocked,
            "show_images": show_images,
            "form": form,
            "templates": MailTemplate.objects.all()[:50],
        },
    )
    if show_images:
        # The person asked to see this letter's pictures: remote images are allowed here only.
        response.headers["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' data:", "img-src 'self' data: https: http:"
        )
    return response


@member_required
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest) -> HttpResponse:
    """A new message from a card: ?deal=, ?client= or ?contact= say whom it is about;
    ?attach= ticks one of the deal's files (an invoice's PDF)."""
    membership = _membership(request)
    params = request.GET
    deal = deal_for(membership, _int(params["deal"])) if params.get("deal") else None
    client: Client | None = (
        client_for(membership, _int(params["client"]))
        if params.get("client")
        else (deal.client if deal else None)
    )
    contact: Contact | None = (
        contact_for(membership, _int(params["contact"])) if params.get("contact") else None
    )
    if contact is None and deal is not None:
        contact = deal.contacts.exclude(emails=[]).first()
    if contact is None and client is not None:
        contact = client.contacts.exclude(emails=[]).first()
    initial: dict[str, Any] = {"to": contact.emails[0] if contact and contact.emails else ""}
    if params.get("attach"):
        initial["attach"] = [params["attach"]]
    filled = _template_text(request, membership, client=client, contact=contact, deal=deal)
    if filled:
        initial["subject"], initial["text"] = filled
    boxes = queries.sendable_mailboxes(membership)
    first = boxes.first()
    if first is not None:
        initial["mailbox"] = first.pk
    form = ComposeForm(
        request.POST or None, initial=initial, mailboxes=boxes, files=_files_of(deal)
    )
    if request.method == "POST" and form.is_valid():
        sent = _send(request, form, deal, None)
        if sent is not None:
            messages.success(request, _("Sent."))
            return redirect(reverse("mail_conversation", args=[sent.conversation_id]))
    return render(
        request,
        "communications/compose.html",
        {
            "form": form,
            "deal": deal,
            "client": client,
            "contact": contact,
            "has_mailbox": first is not None,
            "templates": MailTemplate.objects.all()[:50],
        },
    )


@member_required
@require_GET
def attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    """A letter's file, for whoever reads the letter (its conversation, or a ticket it is on)."""
    found = get_object_or_404(MessageAttachment.objects.select_related("message"), pk=attachment_id)
    if not queries.may_read_message(_membership(request), found.message):
        raise Http404("no such file")
    return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.name)


# --- Mailboxes -------------------------------------------------------------------------------


@member_required
@require_GET
def mailbox_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    return render(
        request,
        "communications/mailboxes.html",
        {
            "mailboxes": [
                (box, mailboxes.may_manage(membership, box))
                for box in queries.readable_mailboxes(membership)
            ]
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, mailbox_id: int | None = None) -> HttpResponse:
    membership = _membership(request)
    require_write(membership)
    instance = queries.mailbox_for(membership, mailbox_id) if mailbox_id else Mailbox()
    if instance.pk and not mailboxes.may_manage(membership, instance):
        raise Http404("not yours to change")
    admin = is_admin(membership)
    form = MailboxForm(request.POST or None, instance=instance, membership=membership, admin=admin)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k not in {"secret", "readers"}}
        if values.get("kind") == Mailbox.Kind.SHARED and not admin:
            raise Http404("shared mailboxes are set up by admins")
        try:
            saved = mailboxes.save_mailbox(
                membership=membership,
                mailbox=instance,
                secret=form.cleaned_data["secret"],
                reader_ids=form.cleaned_data["readers"],
                **values,
            )
        except MailboxError as exc:
            form.add_error(None, _("Could not connect: %(reason)s") % {"reason": exc})
        else:
            from communications.tasks import sync_mailbox

            _start_sync(sync_mailbox, saved)
            messages.success(request, _("Mailbox connected; its mail is being brought in."))
            return redirect("mail_mailboxes")
    return render(
        request,
        "communications/mailbox_edit.html",
        {
            "form": form,
            "instance": instance,
            "oauth_providers": [] if instance.pk else oauth.available(),
            "may_share": admin,
        },
    )


def _start_sync(task: Any, mailbox: Mailbox) -> None:
    try:
        task.delay(mailbox.pk)
    except Exception:
        return


@member_required
@require_POST
def mailbox_sync(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    from communications.tasks import sync_mailbox

    box = queries.mailbox_for(_membership(request), mailbox_id)
    _start_sync(sync_mailbox, box)
    messages.success(request, _("Checking for new mail."))
    return redirect("mail_mailboxes")


@member_required
@require_POST
def mailbox_delete(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    membership = _membership(request)
    box = queries.mailbox_for(membership, mailbox_id)
    if not mailboxes.may_manage(membership, box):
        raise Http404("not yours to remove")
    if request.POST.get("confirm") != "on":
        # Its conversations go with it: only when the person said so.
        messages.error(request, _("Tick the box to remove the mailbox with its mail."))
        return redirect("mail_mailboxes")
    mailboxes.remove_mailbox(mailbox=box)
    messages.success(request, _("Mailbox removed with its mail."))
    return redirect("mail_mailboxes")


# --- Letter templates ------------------------------------------------------------------------


@member_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "communications/templates.html", {"templates": MailTemplate.objects.all()}
    )


@member_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    membership = _membership(request)
    if not is_admin(membership):
        raise Http404("owners and admins only")
    instance = get_object_or_404(MailTemplate, pk=template_id) if template_id else MailTemplate()
    form = MailTemplateForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Template saved."))
        return redirect("mail_templates")
    return render(
        request, "communications/template_edit.html", {"form": form, "instance": instance}
    )
