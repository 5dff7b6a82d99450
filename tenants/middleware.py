"""Members, and Relata's support acting as a read-only member, on a company's host."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relata.logs import current_user_id
from relata.middleware import MembershipMiddleware
from tenants.services import activity, support

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
            logout(request)
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
