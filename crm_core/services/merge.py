"""Merging two records of the same client into one, keeping all history."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Min
from django.utils.translation import gettext as _

from crm_core import signals
from crm_core.access import may_change, require_write, visible_user_ids
from crm_core.models import Activity, Client, Contact, Deal, Phone
from crm_core.services.audit import record
from tenants.models import Membership

# Card fields a merge fills on the kept record when it has them empty.
FILLABLE = (
    "full_name",
    "inn",
    "inn_status",
    "kpp",
    "legal_address",
    "postal_address",
    "bank_name",
    "bik",
    "bank_account",
    "correspondent_account",
    "website",
    "industry",
    "source",
)


def _may_touch(membership: Membership, client: Client) -> bool:
    ids = visible_user_ids(membership)
    return ids is None or client.responsible_id in ids


@transaction.atomic
def merge_clients(*, membership: Membership, keep: Client, other: Client) -> Client:
    """Move everything of ``other`` — contact persons, phones, deals, tasks, the timeline,
    files, and anything added later that points at a client — to ``keep``; fill ``keep``'s
    empty details from ``other``; then remove ``other``. Both must be visible to the member."""
    require_write(membership)
    if keep.pk == other.pk:
        raise ValidationError(_("Choose two different clients to merge."))
    # Lock both in id order so two merges of the same pair cannot deadlock or run twice.
    locked = {
        c.pk: c
        for c in Client.objects.select_for_update()
        .filter(pk__in=[keep.pk, other.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationError(_("One of these clients no longer exists; reload the page."))
    keep, other = locked[keep.pk], locked[other.pk]
    if not (_may_touch(membership, keep) and _may_touch(membership, other)):
        raise PermissionDenied("both clients must be visible to the member")

    moved: dict[str, int] = {}
    for relation in Client._meta.related_objects:
        if relation.one_to_many:
            related: type[models.Model] = relation.related_model
            name = relation.field.name
            count = related._default_manager.filter(**{name: other}).update(**{name: keep})
            if count:
                moved[related._meta.model_name or name] = count
    _drop_repeated_phones(keep)

    changes: dict[str, Any] = {}
    for name in FILLABLE:
        if not getattr(keep, name) and getattr(other, name):
            changes[name] = ("", getattr(other, name))
            setattr(keep, name, getattr(other, name))
    _combine(keep, other, ("tags", "custom"), changes)
    keep.version += 1
    keep.save()

    summary = _("Merged with %(name)s") % {"name": other.name}
    Activity.objects.create(
        kind=Activity.Kind.NOTE, client=keep, author=membership.user, summary=summary[:300]
    )
    record(
        membership,
        keep,
        "merge",
        {"merged": (f"{other.name} (#{other.pk})", keep.name), **changes}
        | {f"moved {k}": (0, v) for k, v in moved.items()},
    )
    record(membership, other, "delete", {"merged into": (other.name, f"{keep.name} (#{keep.pk})")})
    other.delete()
    return keep


def _drop_repeated_phones(client: Client) -> None:
    """After a merge the same number may sit on the client twice; keep the oldest one."""
    repeated = (
        Phone.objects.filter(client=client)
        .values("e164", "extension")
        .annotate(n=Count("id"), first=Min("id"))
        .filter(n__gt=1)
    )
    for row in repeated:
        Phone.objects.filter(client=client, e164=row["e164"], extension=row["extension"]).exclude(
            pk=row["first"]
        ).delete()


def _move_related(
    model: type[models.Model], keep: models.Model, other: models.Model
) -> dict[str, int]:
    """Point every row that points at ``other`` (any app's one-to-many, and the many-to-many
    links) at ``keep``; a link ``keep`` already has is dropped instead of doubled."""
    moved: dict[str, int] = {}
    # Hidden relations too (related_name="+": the timeline's contact, timers, requests); the
    # automatic many-to-many tables are handled as links below, never row by row.
    relations: list[Any] = [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.many_to_many)
    ]
    for relation in relations:
        related: type[models.Model] = relation.related_model
        if related._meta.auto_created:
            continue
        if relation.one_to_many:
            name = relation.field.name
            count = related._default_manager.filter(**{name: other}).update(**{name: keep})
            if count:
                moved[related._meta.model_name or name] = count
        elif relation.many_to_many:
            through: type[models.Model] = relation.through
            column = relation.field.m2m_reverse_field_name()
            owner = relation.field.m2m_field_name()
            rows = through._default_manager
            already = rows.filter(**{column: keep}).values(owner)
            rows.filter(**{column: other}, **{f"{owner}__in": already}).delete()
            count = rows.filter(**{column: other}).update(**{column: keep})
            if count:
                moved[related._meta.model_name or column] = count
    m2m: list[Any] = list(model._meta.many_to_many)
    for field in m2m:
        through = field.remote_field.through
        mine, theirs = field.m2m_field_name(), field.m2m_reverse_field_name()
        rows = through._default_manager
        already = rows.filter(**{mine: keep}).values(theirs)
        rows.filter(**{mine: other}, **{f"{theirs}__in": already}).delete()
        count = rows.filter(**{mine: other}).update(**{mine: keep})
        if count:
            moved[field.name] = count
    return moved


def _combine(keep: Any, other: Any, names: tuple[str, ...], changes: dict[str, Any]) -> None:
    """Fields that hold several values keep both records': lists (tags, e-mails) in order
    without repeats, dicts (custom fields, messengers) with the survivor's value winning."""
    for name in names:
        mine, theirs = getattr(keep, name), getattr(other, name)
        merged = (
            {**theirs, **mine} if isinstance(mine, dict) else list(dict.fromkeys([*mine, *theirs]))
        )
        if merged != mine:
            changes[name] = (mine, merged)
            setattr(keep, name, merged)


def _choose(
    keep: models.Model, other: models.Model, names: tuple[str, ...], take_other: set[str]
) -> dict[str, Any]:
    """The survivor takes the other record's value where the person chose it, and where its
    own is empty; returns the changes for the audit entry."""
    changes: dict[str, Any] = {}
    for name in names:
        mine, theirs = getattr(keep, name), getattr(other, name)
        if (
            (name in take_other or mine in (None, ""))
            and theirs not in (None, "")
            and theirs != mine
        ):
            changes[name] = (mine, theirs)
            setattr(keep, name, theirs)
    return changes


CONTACT_FIELDS = (
    "last_name",
    "first_name",
    "middle_name",
    "position",
    "client_id",
    "responsible_id",
)


def _lock(model: type[Any], a: int, b: int) -> dict[int, Any]:
    found = {
        r.pk: r for r in model.objects.select_for_update().filter(pk__in=[a, b]).order_by("pk")
    }
    if len(found) != 2:
        raise ValidationError(_("One of these records no longer exists; reload the page."))
    return found


@transaction.atomic
def merge_contacts(
    *,
    membership: Membership,
    keep: Contact,
    other: Contact,
    take_other: set[str] = frozenset(),  # type: ignore[assignment]
) -> Contact:
    """Move everything of ``other`` — phones, deals it is named on, the timeline, and anything
    added later that points at a contact person — to ``keep``; take the fields the person
    chose from ``other`` (and fill ``keep``'s empty ones); e-mails and messengers are joined;
    then remove ``other``. The member must be allowed to change both."""
    require_write(membership)
    if keep.pk == other.pk:
        raise ValidationError(_("Choose two different contact persons to merge."))
    locked = _lock(Contact, keep.pk, other.pk)
    keep, other = locked[keep.pk], locked[other.pk]
    for person in (keep, other):
        if not may_change(
            membership,
            person.responsible_id,
            person.client.responsible_id if person.client else None,
        ):
            raise PermissionDenied("both contact persons must be the member's to change")
    signals.contacts_merging.send(Contact, keep=keep, other=other)
    moved = _move_related(Contact, keep, other)
    _drop_repeated_contact_phones(keep)
    changes = _choose(keep, other, CONTACT_FIELDS, take_other)
    _combine(keep, other, ("emails", "messengers", "custom"), changes)
    keep.version += 1
    keep.save()
    summary = _("Merged with %(name)s") % {"name": str(other)}
    Activity.objects.create(
        kind=Activity.Kind.NOTE,
        client_id=keep.client_id,
        contact=keep,
        author=membership.user,
        summary=summary[:300],
    )
    record(
        membership,
        keep,
        "merge",
        {"merged": (f"{other} (#{other.pk})", str(keep)), **changes}
        | {f"moved {k}": (0, v) for k, v in moved.items()},
    )
    record(membership, other, "delete", {"merged into": (str(other), f"{keep} (#{keep.pk})")})
    other.delete()
    return keep


def _drop_repeated_contact_phones(contact: Contact) -> None:
    repeated = (
        Phone.objects.filter(contact=contact)
        .values("e164", "extension")
        .annotate(n=Count("id"), first=Min("id"))
        .filter(n__gt=1)
    )
    for row in repeated:
        Phone.objects.filter(contact=contact, e164=row["e164"], extension=row["extension"]).exclude(
            pk=row["first"]
        ).delete()


DEAL_FIELDS = ("title", "amount", "client_id", "responsible_id", "expected_close", "source")


@transaction.atomic
def merge_deals(
    *,
    membership: Membership,
    keep: Deal,
    other: Deal,
    take_other: set[str] = frozenset(),  # type: ignore[assignment]
) -> Deal:
    """Move everything of ``other`` — products, tasks, the timeline, stage history, files,
    documents, contact persons, timers, and anything added later that points at a deal — to
    ``keep``; take the fields the person chose from ``other``; then remove ``other``. The
    survivor keeps its own pipeline and stage (the stage history of both stays readable)."""
    require_write(membership)
    if keep.pk == other.pk:
        raise ValidationError(_("Choose two different deals to merge."))
    locked = _lock(Deal, keep.pk, other.pk)
    keep, other = locked[keep.pk], locked[other.pk]
    for deal in (keep, other):
        if not may_change(membership, deal.responsible_id):
            raise PermissionDenied("both deals must be visible to the member")
    moved = _move_related(Deal, keep, other)
    changes = _choose(keep, other, DEAL_FIELDS, take_other)
    _combine(keep, other, ("tags", "custom"), changes)
    keep.version += 1
    keep.save()
    summary = _("Merged with %(name)s") % {"name": other.title}
    Activity.objects.create(
        kind=Activity.Kind.NOTE,
        deal=keep,
        client_id=keep.client_id,
        author=membership.user,
        summary=summary[:300],
    )
    record(
        membership,
        keep,
        "merge",
        {"merged": (f"{other.title} (#{other.pk})", keep.title), **changes}
        | {f"moved {k}": (0, v) for k, v in moved.items()},
    )
    record(
        membership, other, "delete", {"merged into": (other.title, f"{keep.title} (#{keep.pk})")}
    )
    other.delete()
    return keep
