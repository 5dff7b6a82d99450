"""A client's Telegram chat: its page (the thread and the reply form) and the card's panel.

Every chat is found through communications' visibility (``conversation_for``): a manager who
cannot see the client, contact person, deal or request of a chat gets 404, on its page, on the
card's panel and on a reply alike.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from communications.context_processors import forget_badge
from communications.models import Channel, Conversation, Message
from communications.queries import conversation_for, visible_conversations
from crm_core.access import member_required
from crm_core.queries.clients import client_for, contact_for
from crm_core.queries.deals import deal_for
from crm_core.views import _membership
from telegram.services import chats
from telegram.services.connection import current_bot

CARD_MESSAGES = 10


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Message"),
        required=False,
        max_length=chats.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    file = forms.FileField(label=gettext_lazy("File"), required=False)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        try:
            chats.clean_reply(str(data.get("text") or ""), data.get("file"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        return data


def _thread(conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.prefetch_related("attachments").order_by("sent_at", "id")


def _back(request: HttpRequest, wanted: str, conversation: Conversation) -> str:
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    return reverse("telegram_chat", args=[conversation.pk])


@member_required
@require_http_methods(["GET", "POST"])
def chat(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = _membership(request)
    found = conversation_for(membership, conversation_id)
    if found.channel != Channel.TELEGRAM:
        raise Http404("not a Telegram chat")
    form = ReplyForm(request.POST or None, request.FILES or None, prefix="tg")
    if request.method == "POST" and form.is_valid():
        back = _back(request, form.cleaned_data["next"], found)
        try:
            sent = chats.reply(
                membership=membership,
                conversation=found,
                text=form.cleaned_data["text"],
                upload=form.cleaned_data["file"],
            )
        except chats.ReplyError as exc:
            messages.error(request, _("Not sent: %(reason)s") % {"reason": exc})
        else:
            messages.success(request, _("Sent to Telegram."))
            forget_badge(membership.user_id)
            return redirect(f"{back}#message-{sent.pk}" if "#" not in back else back)
    Message.objects.filter(
        conversation=found, is_read=False, direction=Message.Direction.IN
    ).update(is_read=True)
    forget_badge(membership.user_id)
    return render(
        request,
        "telegram/chat.html",
        {
            "conversation": found,
            "thread": _thread(found),
            "form": form,
            "bot": current_bot(),
            "may_reply": membership.role != membership.Role.READ_ONLY,
        },
    )


@member_required
@require_GET
def card_chat(request: HttpRequest) -> HttpResponse:
    """The card's Telegram panel (loaded by htmx): the latest chat about the client, contact
    person or deal with its last messages and a reply box; nothing when there is no chat."""
    membership = _membership(request)
    chats_seen = visible_conversations(membership).filter(channel=Channel.TELEGRAM)
    latest_first: tuple[str, ...] = ("-last_message_at", "-id")
    if request.GET.get("contact"):
        contact = contact_for(membership, _int(request.GET["contact"]))
        chats_seen = chats_seen.filter(contact=contact)
        back = reverse("contact_card", args=[contact.pk])
    elif request.GET.get("deal"):
        # The deal's own chat, or else the latest with its client or one of its contact people:
        # a deal's conversation usually began before the deal did.
        deal = deal_for(membership, _int(request.GET["deal"]))
        about = Q(deal=deal) | Q(contact__in=deal.contacts.values("pk"))
        if deal.client_id:
            about |= Q(client_id=deal.client_id)
        chats_seen = chats_seen.filter(about).annotate(
            own=Case(When(deal=deal, then=Value(0)), default=Value(1))
        )
        back = reverse("deal_detail", args=[deal.pk])
        latest_first = ("own", *latest_first)
    elif request.GET.get("client"):
        client = client_for(membership, _int(request.GET["client"]))
        chats_seen = chats_seen.filter(client=client)
        back = reverse("client_detail", args=[client.pk])
    else:
        raise Http404("whose card?")
    found = chats_seen.order_by(*latest_first).first()
    if found is None:
        return HttpResponse("")
    latest = list(found.messages.prefetch_related("attachments").order_by("-sent_at", "-id"))
    return render(
        request,
        "telegram/_card_chat.html",
        {
            "conversation": found,
            "thread": list(reversed(latest[:CARD_MESSAGES])),
            "earlier": max(len(latest) - CARD_MESSAGES, 0),
            "form": ReplyForm(initial={"next": back}, prefix="tg"),
            "may_reply": membership.role != membership.Role.READ_ONLY,
        },
    )


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("not a number") from None
