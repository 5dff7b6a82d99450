"""What a campaign's recipients reach without an account, on the company's host: the
unsubscribe page and its one-click POST (RFC 8058), the tracked link redirect, the open pixel,
and the provider's webhook. Every link carries a token signed for this company's schema; a bad
or foreign token gets the same plain answer, telling nothing about whose it might be."""

from __future__ import annotations

import base64
from importlib import import_module
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marketing import credentials, tokens
from marketing.models import Campaign, Recipient, SendingSettings
from marketing.services import tracking
from marketing.services.channel import SIGNING_KEY_NAMES, TRACKING_VIEWS

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
# A test letter's unsubscribe link: a page that says so (it names nobody).
TEST_LETTER = "test"
UTM = {"utm_source": "email", "utm_medium": "email"}


def _on_company_host(request: HttpRequest) -> None:
    if getattr(request, "company", None) is None:
        raise Http404("not a company host")


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "marketing/public_unsubscribe.html", {"bad": True}, status=404)


@csrf_exempt  # mail programs POST the one-click unsubscribe with no cookie or token (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page with one button (a link scanner's GET unsubscribes nobody); POST —
    the button, or the mail program's one-click — unsubscribes."""
    _on_company_host(request)
    if token == TEST_LETTER:
        return render(request, "marketing/public_unsubscribe.html", {"test": True})
    try:
        claim = tokens.read("unsubscribe", token)
    except tokens.BadTokenError:
        return _bad_link(request)
    recipient = Recipient.objects.filter(pk=claim.recipient_id).first()
    if recipient is None:
        return _bad_link(request)
    if request.method == "POST":
        tracking.unsubscribe(token)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(status=200)
        done = True
    else:
        done = tracking.is_unsubscribed(recipient)
    return render(
        request,
        "marketing/public_unsubscribe.html",
        {"done": done, "address": _masked(recipient.email), "company": request.company},  # type: ignore[attr-defined]
    )


def _masked(address: str) -> str:
    """The page shows whose subscription it is without spelling the address out."""
    local, _sep, domain = address.partition("@")
    return f"{local[:2]}***@{domain}"


def _with_utm(url: str, campaign: Campaign | None) -> str:
    if campaign is None or not campaign.utm_campaign:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in {**UTM, "utm_campaign": campaign.utm_campaign}.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    _on_company_host(request)
    try:
        url = tracking.click(token)
    except tokens.BadTokenError:
        return _bad_link(request)
    claim = tokens.read("click", token)
    recipient = Recipient.objects.select_related("campaign").filter(pk=claim.recipient_id).first()
    target = _with_utm(url, recipient.campaign if recipient else None)
    if urlsplit(target).scheme not in {"http", "https"}:
        return _bad_link(request)
    response = HttpResponseRedirect(target)
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def opened(request: HttpRequest, token: str) -> HttpResponse:
    _on_company_host(request)
    status = 200
    try:
        tracking.opened(token)
    except tokens.BadTokenError:
        status = 404  # the same picture, so a letter never shows a broken image
    response = HttpResponse(PIXEL, content_type="image/gif", status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # the provider authenticates with the company's webhook secret, not a cookie
@require_POST
def provider_hook(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's tracking webhook, handled by anymail's view for it with this company's
    secret (HTTP basic auth) and, where the provider signs, its signing key; anymail's
    tracking signal then reaches ``receivers.provider_event`` in this company's schema."""
    _on_company_host(request)
    row = SendingSettings.objects.order_by("pk").first()
    if row is None or row.provider != provider or provider not in TRACKING_VIEWS:
        raise Http404("no such webhook")
    module, _dot, name = TRACKING_VIEWS[SendingSettings.Provider(provider)].rpartition(".")
    view_class = getattr(import_module(module), name)
    options: dict[str, Any] = {"basic_auth": [f"relata:{row.webhook_secret}"]}
    signing = SIGNING_KEY_NAMES.get(SendingSettings.Provider(provider))
    if signing:
        try:
            options[signing] = credentials.unseal(row.provider_signing_key) or credentials.unseal(
                row.provider_key
            )
        except credentials.SecretUnreadableError:
            return HttpResponse(status=503)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view = view_class(**options)
    view.setup(request)
    from django.core.exceptions import SuspiciousOperation

    try:
        return view.dispatch(request)
    except SuspiciousOperation:
        return HttpResponse("bad signature or secret", status=400, content_type="text/plain")
    except (ValueError, KeyError, TypeError):
        return HttpResponse("unreadable event", status=400, content_type="text/plain")
