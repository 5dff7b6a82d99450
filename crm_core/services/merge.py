"""Merging two records of the same client into one, keeping all history."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Min
from django.utils.translation import gettext as _

from crm_core.access import require_write, visible_user_ids
from crm_core.models import Activity, Client, Phone
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
    if other.tags:
        tags = list(dict.fromkeys([*keep.tags, *other.tags]))
        if tags != keep.tags:
            changes["tags"] = (keep.tags, tags)
            keep.tags = tags
    custom = {**other.custom, **keep.custom}
    if custom != keep.custom:
        changes["custom"] = (keep.custom, custom)
        keep.custom = custom
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
