"""Members, and Relata's support acting as a read-only member, on a company's host."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from relata.logs import current_user_id
from relata.middleware import MembershipMiddleware
from tenants.services import activity, request_cache, support

SESSION_KEY = "relata_support_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a support session may post to: ending itself, and the interface language.
SUPPORT_MAY_POST = ("/support/end/", "/logout/", "/i18n/")


class MembershipOrSupportMiddleware(MembershipMiddleware):
    """The member check, except that a recorded support session acts as a read-only member
    that is never saved (no seat). It writes nothing: every other POST is refused here, before
    any view, whatever the view itself would allow a read-only member."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        company = getattr(request, "company", None)
        session_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if company is None or session_id is None or not request.user.is_authenticated:
            request.support_session = None  # type: ignore[attr-defined]
            return self._as_member(request)
        current = support.current(session_id=session_id, user=request.user, company=company)
        if current is None:
            # Ended (withdrawn, expired, time limit): the operator is out of this company.
            auth.logout(request)
            request.support_session = None  # type: ignore[attr-defined]
            return self._as_member(request)
        current_user_id.set(request.user.pk)
        request.support_session = current  # type: ignore[attr-defined]
        request.membership = support.as_member(current, request.user)  # type: ignore[attr-defined]
        if request.method not in SAFE_METHODS and not request.path.startswith(SUPPORT_MAY_POST):
            return render(request, "tenants/support_read_only.html", status=403)
        return self.get_response(request)

    def _as_member(self, request: HttpRequest) -> HttpResponse:
        response = super().__call__(request)
        # A member's request is the company's activity (support sessions are not).
        company = getattr(request, "company", None)
        if company is not None and getattr(request, "membership", None) is not None:
            activity.note(company)
        return response


class CachedUserAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's authentication, with the signed-in user read from the request cache
    (tenants.services.request_cache: forgotten whenever the user is saved, which a password
    change, a deactivation or a new e-mail all do). The session's hash of the password is
    checked against the kept user exactly as Django checks it; anything but a match goes
    through Django's own ``get_user`` from the database (its fallback secrets, its flush)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _request_user(request))  # type: ignore[assignment]


def _request_user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = _kept_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


def _kept_user(request: HttpRequest) -> Any:
    session = request.session
    user_id = session.get(auth.SESSION_KEY)
    if user_id is None or session.get(auth.BACKEND_SESSION_KEY) not in (
        settings.AUTHENTICATION_BACKENDS
    ):
        return auth.get_user(request)
    key = request_cache.user_key(user_id)
    kept = request_cache.look_up(key)
    if kept is not request_cache.MISSING:
        session_hash = session.get(auth.HASH_SESSION_KEY)
        if session_hash and constant_time_compare(session_hash, kept.get_session_auth_hash()):
            return kept
    user = auth.get_user(request)
    if user.is_authenticated:
        request_cache.keep(key, user)
    return user
