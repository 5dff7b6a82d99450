"""What a token may do: its scopes (read / write, which resources) — and never more than the
member it acts as, whose role and visibility the queries and services enforce."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from crm_core.api.auth import TokenAccess


class TokenScope(BasePermission):
    message: Any = _("This token may not do that.")

    def has_permission(self, request: Request, view: Any) -> bool:
        access = request.auth
        if not isinstance(access, TokenAccess):
            return False
        write = request.method not in SAFE_METHODS
        if write:
            self.message = _("This token is read-only or not allowed to change %(resource)s.") % {
                "resource": view.resource
            }
        else:
            self.message = _("This token may not read %(resource)s.") % {"resource": view.resource}
        return access.token.allows(view.resource, write=write)


class TokenOrMember(BasePermission):
    """The schema: any live token of this company, whatever its scopes (it describes the API,
    not the company's data), or a member's logged-in browser — never an anonymous call, with
    or without some other Authorization header."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, TokenAccess):
            return True
        return getattr(request._request, "membership", None) is not None
