"""Segments: a saved view of the clients or contact persons list (dynamic) or a static list of
contact persons. Who is in a dynamic segment is decided by the list's own filter machinery
(crm_core.queries.lists.matching), read through the acting member's visibility — the same
records the person sees on the list."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm_core.access import require_write
from crm_core.models import Contact, SavedView
from crm_core.queries.clients import visible_contacts
from crm_core.queries.lists import matching, view_for
from marketing.models import Segment, SegmentMember
from tenants.models import Membership

SEGMENT_LISTS = {SavedView.Entity.CLIENTS, SavedView.Entity.CONTACTS}


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the segment a name.")})
    if len(name) > 200:
        raise ValidationError({"name": _("At most 200 characters.")})
    return name


@transaction.atomic
def save_segment(
    *,
    membership: Membership,
    segment: Segment | None,
    name: str,
    kind: str,
    view_id: int | None = None,
) -> Segment:
    """Create or rename a segment; a dynamic one follows a saved view of the clients or contact
    persons list that this member may open."""
    require_write(membership)
    if kind not in Segment.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of segment.")})
    view = None
    if kind == Segment.Kind.DYNAMIC:
        if view_id is None:
            raise ValidationError({"view": _("Choose the saved view the segment follows.")})
        try:
            view = view_for(membership, view_id)
        except Exception:
            raise ValidationError({"view": _("Choose one of your saved views.")}) from None
        if view.entity not in SEGMENT_LISTS:
            raise ValidationError(
                {"view": _("Only views of the clients or contact persons list make segments.")}
            )
    if segment is None:
        segment = Segment(owner_id=membership.user_id)
    segment.name = _name(name)
    segment.kind = kind
    segment.view = view
    segment.save()
    return segment


def add_members(*, membership: Membership, segment: Segment, contact_ids: Iterable[int]) -> int:
    """Put contact persons the member sees on a static list; returns how many were new."""
    require_write(membership)
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError(_("People are added to static lists only."))
    wanted = set(contact_ids)
    seen = list(visible_contacts(membership).filter(pk__in=wanted).values_list("pk", flat=True))
    if len(seen) != len(wanted):
        raise PermissionDenied("a contact person the member does not see")
    made = SegmentMember.objects.bulk_create(
        [
            SegmentMember(segment=segment, contact_id=pk, added_by_id=membership.user_id)
            for pk in seen
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return len(made)


def add_from_view(*, membership: Membership, segment: Segment, view_id: int) -> int:
    """Copy everyone a saved view shows now onto a static list (the list's "add all")."""
    view = view_for(membership, view_id)
    contacts = members_of_view(membership, view)
    return add_members(
        membership=membership,
        segment=segment,
        contact_ids=contacts.values_list("pk", flat=True),
    )


def remove_member(*, membership: Membership, segment: Segment, contact_id: int) -> None:
    require_write(membership)
    SegmentMember.objects.filter(segment=segment, contact_id=contact_id).delete()


def delete_segment(*, membership: Membership, segment: Segment) -> None:
    require_write(membership)
    if segment.campaigns.exists():
        raise ValidationError(_("Campaigns were sent to this segment; it stays as their record."))
    segment.delete()


def members_of_view(membership: Membership, view: SavedView) -> QuerySet[Contact]:
    """The contact persons a saved view shows this member: the list's own rows, or the
    contact persons of the clients it lists."""
    records = matching(membership, view.entity, view.query).records.order_by().values("pk")
    if view.entity == SavedView.Entity.CONTACTS:
        return visible_contacts(membership).filter(pk__in=records)
    return visible_contacts(membership).filter(client_id__in=records)


def contacts_of(membership: Membership, segment: Segment) -> QuerySet[Contact]:
    """Who is in the segment now, as this member sees it (a dynamic segment whose view was
    deleted is empty)."""
    if segment.kind == Segment.Kind.DYNAMIC:
        if segment.view is None:
            return Contact.objects.none()
        return members_of_view(membership, segment.view)
    return visible_contacts(membership).filter(
        pk__in=SegmentMember.objects.filter(segment=segment).values("contact_id")
    )
