"""Saved views of the lists: save the list as it is, rename, update, share, delete, default."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import is_admin
from crm_core.models import SavedView
from crm_core.queries.lists import filters_only
from crm_core.services.audit import record
from tenants.models import Membership


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")}, code="required")
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")}, code="max_length")
    return name


def _check_change(membership: Membership, view: SavedView) -> None:
    """Everybody changes their own views; a view shared with the company only admins do."""
    if view.owner_id != membership.user_id and not is_admin(membership):
        raise PermissionDenied("only the owner or an admin changes this view")


def _check_share(membership: Membership, shared: bool) -> None:
    if shared and not is_admin(membership):
        raise PermissionDenied(_("Only admins share views with the company."))


def _query(query: str) -> str:
    text = filters_only(query).urlencode()
    if len(text) > 2000:
        raise ValidationError(_("These filters are too long to save."), code="max_length")
    return text


@transaction.atomic
def save_view(
    *,
    membership: Membership,
    entity: str,
    name: str,
    query: str,
    columns: list[str],
    shared: bool = False,
) -> SavedView:
    """A new view from the list as the person has it now (filters and sort, columns)."""
    if entity not in SavedView.Entity.values:
        raise ValidationError(_("Unknown list."), code="entity")
    _check_share(membership, shared)
    view = SavedView.objects.create(
        entity=entity,
        name=_name(name),
        owner=membership.user,
        shared=shared,
        query=_query(query),
        columns=columns[:40],
    )
    record(membership, view, "create", {"name": (None, view.name), "shared": (None, shared)})
    return view


@transaction.atomic
def update_view(
    *,
    membership: Membership,
    view: SavedView,
    name: str | None = None,
    query: str | None = None,
    columns: list[str] | None = None,
    shared: bool | None = None,
) -> SavedView:
    """Rename it, replace its filters and columns with the list's current ones, or (admins)
    share it with the company or take it back."""
    _check_change(membership, view)
    changes: dict[str, tuple[object, object]] = {}
    if name is not None and _name(name) != view.name:
        changes["name"] = (view.name, _name(name))
        view.name = _name(name)
    if query is not None and _query(query) != view.query:
        changes["query"] = (view.query, _query(query))
        view.query = _query(query)
    if columns is not None and columns[:40] != view.columns:
        changes["columns"] = (view.columns, columns[:40])
        view.columns = columns[:40]
    if shared is not None and shared != view.shared:
        _check_share(membership, True)
        changes["shared"] = (view.shared, shared)
        view.shared = shared
    if changes:
        view.save()
        record(membership, view, "update", changes)
    return view


@transaction.atomic
def delete_view(*, membership: Membership, view: SavedView) -> None:
    _check_change(membership, view)
    record(membership, view, "delete", {"name": (view.name, None)})
    view.delete()


@transaction.atomic
def set_default(*, membership: Membership, view: SavedView | None, entity: str) -> None:
    """The view that opens when this person opens the list (None: the plain list). A person's
    own choice: it never changes which view a colleague starts with."""
    user_id = membership.user_id
    for other in SavedView.objects.select_for_update().filter(
        entity=entity, default_for__contains=[user_id]
    ):
        other.default_for = [u for u in other.default_for if u != user_id]
        other.save(update_fields=["default_for"])
    if view is not None:
        view.refresh_from_db()
        view.default_for = [*view.default_for, user_id]
        view.save(update_fields=["default_for"])
