"""Who may see and change what inside a company's CRM.

Roles come from the membership; record visibility follows the role: owners, admins and
read-only users see every record, heads of sales see their team's (the teams they head) and
their own, managers see their own. Whoever sees a deal also sees (reads) its client and
contact persons, so a manager can call the client of her deal; changing a client or a contact
person still needs the record's own visibility (``may_change``). Read-only users change
nothing. Enforced in the queries every page, board, search and count uses — never only in
templates.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from tenants.models import Membership

Role = Membership.Role
SEE_ALL = {Role.OWNER, Role.ADMIN, Role.READ_ONLY}


def member_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request, "company", None) is None:
            raise Http404("not a company host")
        if not request.user.is_authenticated:
            return redirect("company_login")
        if getattr(request, "membership", None) is None:
            raise Http404("not a member")
        return view(request, *args, **kwargs)

    return wrapper


def visible_user_ids(membership: Membership) -> set[int] | None:
    """The users whose records this member sees; None means everyone's."""
    if membership.role in SEE_ALL:
        return None
    ids = {membership.user_id}
    if membership.role == Role.HEAD:
        from crm_core.models import Employee

        ids |= set(
            Employee.objects.filter(team__head_id=membership.user_id).values_list(
                "user_id", flat=True
            )
        )
    return ids


def visible(
    queryset: QuerySet[Any], membership: Membership, field: str = "responsible"
) -> QuerySet[Any]:
    ids = visible_user_ids(membership)
    if ids is None:
        return queryset
    return queryset.filter(Q(**{f"{field}_id__in": ids}))


def may_change(membership: Membership, *responsible_ids: int | None) -> bool:
    """Whether the member may change a record whose responsible is one of ``responsible_ids``
    (a contact person counts its own responsible and its client's). Seeing a client only
    through a deal gives no right to change it."""
    if membership.role == Role.READ_ONLY:
        return False
    ids = visible_user_ids(membership)
    return ids is None or any(rid in ids for rid in responsible_ids if rid is not None)


def require_change(membership: Membership, *responsible_ids: int | None) -> None:
    require_write(membership)
    if not may_change(membership, *responsible_ids):
        raise PermissionDenied("only the responsible, their head and admins change this record")


def require_write(membership: Membership) -> None:
    if membership.role == Role.READ_ONLY:
        raise PermissionDenied("read-only members change nothing")


ADMINS = {Role.OWNER, Role.ADMIN}


def is_admin(membership: Membership) -> bool:
    return membership.role in ADMINS


def require_admin(membership: Membership) -> None:
    """Company settings (fields, catalogue rules, audit) are for owners and admins."""
    if membership.role not in ADMINS:
        raise PermissionDenied("owners and admins only")
