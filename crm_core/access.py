"""Who may use a company's CRM: the gate every crm_core view goes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "company", None) is None:
            raise Http404("not a company host")
        if not request.user.is_authenticated:
            return redirect("company_login")
        if getattr(request, "membership", None) is None:
            raise Http404("not a member")
        return view(request, *args, **kwargs)

    return wrapper
