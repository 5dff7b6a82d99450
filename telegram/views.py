"""The bot's settings screen (owners and admins), a member's own Telegram link, the webhook."""

from __future__ import annotations

import hmac
import json
import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from telegram.models import StaffLink
from telegram.services import connection, inbound, staff
from tenants.urlbuilding import company_url

log = logging.getLogger(__name__)

MAX_UPDATE = 256 * 1024


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Bot token from @BotFather"),
        max_length=100,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


@member_required
@require_http_methods(["GET", "POST"])
def bot_settings(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if not is_admin(membership):
        raise Http404("owners and admins only")
    form = TokenForm(request.POST if request.POST.get("action") == "connect" else None)
    if request.method == "POST" and request.POST.get("action") == "disconnect":
        connection.disconnect(membership=membership)
        messages.success(request, _("The bot is disconnected."))
        return redirect("telegram_settings")
    if request.method == "POST" and form.is_valid():
        url = company_url(request, request.company, reverse("telegram_webhook"))  # type: ignore[attr-defined]
        try:
            bot = connection.connect(
                membership=membership, token=form.cleaned_data["token"], webhook_url=url
            )
        except ValidationError as exc:
            form.add_error("token", exc)
        else:
            messages.success(request, _("Bot @%(name)s is connected.") % {"name": bot.username})
            return redirect("telegram_settings")
    return render(
        request,
        "telegram/settings.html",
        {"form": form, "bot": connection.current_bot()},
    )


@member_required
@require_http_methods(["GET", "POST"])
def my_telegram(request: HttpRequest) -> HttpResponse:
    """A member links their own chat (deep link) or unlinks it."""
    user_id = int(request.user.pk or 0)
    bot = connection.current_bot()
    link_url = ""
    if request.method == "POST" and request.POST.get("action") == "unlink":
        staff.unlink(user_id)
        messages.success(request, _("Telegram is unlinked: notices come only in the app."))
        return redirect("my_telegram")
    if request.method == "POST" and request.POST.get("action") == "link" and bot is not None:
        link_url = staff.deep_link(bot, user_id)
    return render(
        request,
        "telegram/me.html",
        {
            "bot": bot,
            "link_url": link_url,
            "linked": StaffLink.objects.filter(user_id=user_id).exists(),
        },
    )


@csrf_exempt  # Telegram's servers: the secret_token header is the authentication
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    company = getattr(request, "company", None)
    if company is None:
        raise Http404("not a company host")
    bot = connection.current_bot()
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if bot is None:
        log.warning("telegram webhook: no bot connected")
        return HttpResponse("no bot", status=404)
    if not hmac.compare_digest(given.encode(), connection.secret_of(bot).encode()):
        log.warning("telegram webhook: wrong secret token")
        return HttpResponse("forbidden", status=403)
    if len(request.body) > MAX_UPDATE:
        log.warning("telegram webhook: update too large")
        return HttpResponse("too large", status=413)
    try:
        update = json.loads(request.body)
        outcome = inbound.handle(company, update)
    except (ValueError, inbound.MalformedUpdateError) as exc:
        log.warning("telegram webhook: malformed update (%s)", exc.__class__.__name__)
        return HttpResponse("malformed", status=400)
    log.info("telegram webhook: %s", outcome)
    return HttpResponse(outcome, content_type="text/plain")
