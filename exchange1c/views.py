"""The exchange endpoint 1C calls, and the settings screen owners and admins use."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm_core.access import is_admin, member_required
from crm_core.once_views import acts_once
from exchange1c import protocol, queries
from exchange1c.models import ExchangeSession
from exchange1c.services import access, orders, uploads
from exchange1c.services.imports import FAILURE, import_file, sale_file_complete
from tenants.models import Company
from tenants.services.network import client_ip

# OWASP ASVS: at most 100 failed logins an hour per account; the exchange login is one. Counted
# per address (a stranger's guesses must not lock the company's 1C out), and across addresses
# with a higher bar for addresses 1C has never signed in from (guessing from many machines).
FAILED_LOGINS_PER_HOUR = 100
FAILED_LOGINS_PER_HOUR_ALL_ADDRESSES = 1000


@csrf_exempt  # 1C has no CSRF token: it authenticates with the exchange login instead
@require_http_methods(["GET", "POST"])
def exchange(request: HttpRequest) -> HttpResponse:
    """https://<company host>/1c/exchange/?type=catalog|sale&mode=… — 1C's exchange."""
    company: Company | None = getattr(request, "company", None)
    if company is None:
        raise Http404("not a company host")
    kind, mode = request.GET.get("type", ""), request.GET.get("mode", "")
    if kind not in ExchangeSession.Kind.values:
        return protocol.failure(
            _("Unknown exchange type: %(type)s") % {"type": kind[:50]}, status=404
        )
    if mode == "checkauth":
        return _checkauth(request, company, kind)
    session = access.session_of(request.COOKIES.get(access.COOKIE_NAME, ""), kind=kind)
    if session is None:
        # 403, not 200: nothing of the company answers a request without a live session.
        return protocol.failure(
            _("The exchange session has expired or is unknown: log in again."), status=403
        )
    handler = _MODES.get((kind, mode)) or _MODES.get(("*", mode))
    if handler is None or (mode == "file" and request.method != "POST"):
        return protocol.failure(_("Unknown mode: %(mode)s") % {"mode": mode[:50]})
    return handler(request, session)


def _init(_request: HttpRequest, _session: ExchangeSession) -> HttpResponse:
    return protocol.text(f"zip=yes\nfile_limit={uploads.file_limit()}")


def _import(request: HttpRequest, session: ExchangeSession) -> HttpResponse:
    answer = import_file(session, name=request.GET.get("filename", ""))
    return protocol.text(answer.text())


def _query(_request: HttpRequest, session: ExchangeSession) -> HttpResponse:
    response = HttpResponse(
        orders.offer(session), content_type=f"application/xml; charset={orders.ENCODING}"
    )
    response["Cache-Control"] = "no-store"
    return response


def _success(_request: HttpRequest, session: ExchangeSession) -> HttpResponse:
    count = orders.confirm(session)
    access.finish(
        session,
        status=ExchangeSession.Status.DONE,
        message=ngettext("1C confirmed %(count)s order.", "1C confirmed %(count)s orders.", count)
        % {"count": count},
    )
    return protocol.text("success")


def _end(_request: HttpRequest, _session: ExchangeSession) -> HttpResponse:
    return protocol.text("success")  # the end of a run in newer 1C releases


def _checkauth(request: HttpRequest, company: Company, kind: str) -> HttpResponse:
    address = client_ip(request) or None
    # Counted per address, so that someone guessing from elsewhere cannot lock the company's
    # own 1C out; and per login as a whole, with a higher bar that an address 1C has already
    # signed in from is spared (the cache's key function adds the company to both keys).
    per_address = f"exchange1c:failed-logins:{address or '-'}"
    per_login = "exchange1c:failed-logins"
    if (cache.get(per_address) or 0) >= FAILED_LOGINS_PER_HOUR or (
        (cache.get(per_login) or 0) >= FAILED_LOGINS_PER_HOUR_ALL_ADDRESSES
        and not access.signed_in_before_from(address)
    ):
        return protocol.unauthorised(_("Too many wrong passwords: try again in an hour."))
    given = protocol.basic_credentials(request)
    if given is None or not access.credentials_valid(
        company=company, login=given[0], password=given[1]
    ):
        for key in (per_address, per_login):
            cache.add(key, 0, timeout=3600)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=3600)
        return protocol.unauthorised(
            _("Wrong exchange login or password, or the exchange is switched off.")
        )
    _session, token = access.open_session(kind=kind, address=address)
    return protocol.text(f"success\n{access.COOKIE_NAME}\n{token}")


def _file(request: HttpRequest, session: ExchangeSession) -> HttpResponse:
    name = request.GET.get("filename", "")
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if uploads.is_picture(name):
        return protocol.text("success")  # Relata keeps no product pictures
    try:
        name = uploads.safe_name(name)
        if declared > uploads.file_limit():
            raise uploads.Refused(
                _("The chunk is %(size)s bytes, over the file_limit of %(limit)s bytes.")
                % {"size": declared, "limit": uploads.file_limit()}
            )
        try:
            body = request.read(uploads.file_limit() + 1)
        except (OSError, UnreadablePostError):
            body = None
        if body is None or len(body) != declared:
            # The connection dropped mid-chunk: nothing of it is kept, 1C sends it again.
            raise uploads.Refused(_("The chunk did not arrive whole; send it again."))
        received = uploads.append_chunk(session, name=name, body=body)
    except uploads.Refused as exc:
        access.finish(session, status=ExchangeSession.Status.FAILED, message=exc.reason)
        return protocol.failure(exc.reason)
    if session.kind == ExchangeSession.Kind.SALE and sale_file_complete(session, received):
        answer = import_file(session, name=received.name)
        if answer.word == FAILURE:
            return protocol.text(answer.text())
    return protocol.text("success")


_Handler = Callable[[HttpRequest, ExchangeSession], HttpResponse]
# (exchange type, mode) → what answers it; "*" for both types.
_MODES: dict[tuple[str, str], _Handler] = {
    ("*", "init"): _init,
    ("*", "file"): _file,
    ("*", "import"): _import,
    ("*", "complete"): _end,
    ("*", "deactivate"): _end,
    (ExchangeSession.Kind.SALE, "query"): _query,
    (ExchangeSession.Kind.SALE, "success"): _success,
}


def _admin_membership(request: HttpRequest) -> None:
    if not is_admin(request.membership):  # type: ignore[attr-defined]
        raise Http404("owners and admins only")


@member_required
@require_http_methods(["GET", "POST"])
# A reload of the page that shows a new password posts again: it must not rotate it again.
@acts_once(in_place=True)
def exchange_settings(request: HttpRequest) -> HttpResponse:
    """Settings › Exchange with 1C: switch on, the URL and login for 1C, the password."""
    _admin_membership(request)
    company: Company = request.company  # type: ignore[attr-defined]
    password = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in {"enable", "disable"}:
            access.switch(company=company, enabled=action == "enable")
            return redirect("exchange1c_settings")
        if action == "password":
            # Shown on this answer only (never stored, never in a redirect or a session).
            password = access.new_password(company=company)
    current = access.settings_of(company)
    response = render(
        request,
        "exchange1c/settings.html",
        {
            "exchange": current,
            "url": request.build_absolute_uri(reverse("exchange1c_endpoint")),
            "password": password,
            "sessions": queries.recent_sessions(),
            "orders_waiting": queries.orders_waiting(),
        },
    )
    response["Cache-Control"] = "no-store"
    return response
