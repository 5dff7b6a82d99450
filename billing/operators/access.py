"""Who may use the console: staff, on the public host, who signed in with a second factor."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

STRONG = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def refusal(request: HttpRequest) -> str | None:
    """Why this request may not use the console (None: it may)."""
    user = request.user
    if not user.is_staff:
        return "not_staff"
    if not Authenticator.objects.filter(user_id=user.pk, type__in=STRONG).exists():
        return "no_mfa"
    # Having an authenticator is not enough: this session must have used it.
    if not any(r.get("method") == "mfa" for r in get_authentication_records(request, user)):
        return "mfa_not_used"
    return None


def operator_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request, "company", None) is not None:
            raise Http404("the console is on the public site only")
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        reason = refusal(request)
        if reason is not None:
            return render(request, "billing/ops/refused.html", {"reason": reason}, status=403)
        return view(request, *args, **kwargs)

    return wrapper
