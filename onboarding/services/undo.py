"""Undoing an import honestly: what people did with the records since is never lost.

A created record is removed only when nobody has touched it since the import: a record that
was changed after the import, or gained a task, an activity, a file, a deal or a contact person
that the import did not create, is kept, together with the records it cannot live without
(its parents) and what the import created under it (its contact persons, phones, lines).
A field the import filled in is restored only while it still holds the value the import
wrote. Everything kept is reported with the reasons.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm_core import models as crm
from onboarding.archive import ENTITIES
from onboarding.importing.engine import DEAL_CONTACT
from onboarding.models import AwaitingOwner, ImportBatch, ImportedRecord

MODELS: dict[str, type[models.Model]] = {m._meta.model_name or "": m for _n, m in ENTITIES}
# A tabular import creates the phones of its new contact persons and the lines of its new deals
# without a record of their own (they go with their parent); only a restored archive lists them.
UNRECORDED_CHILDREN = (crm.Phone, crm.DealItem)
# A kept record keeps what the import created under it (child model, its field to the parent).
BELONGS_TO: list[tuple[type[models.Model], str]] = [
    (crm.Contact, "client"),
    (crm.Phone, "client"),
    (crm.Phone, "contact"),
    (crm.DealItem, "deal"),
    (crm.Stage, "pipeline"),
]

Kept = dict[type[models.Model], dict[int, list[str]]]


def _created(batch: ImportBatch, model: type[models.Model]) -> QuerySet[ImportedRecord, Any]:
    return ImportedRecord.objects.filter(
        batch=batch, entity=model._meta.model_name, action=ImportedRecord.Action.CREATED
    ).values("record_id")


def _keep(kept: Kept, model: type[models.Model], pk: int, reason: str) -> bool:
    reasons = kept[model].setdefault(pk, [])
    if reason in reasons:
        return False
    reasons.append(reason)
    return True


def _reverse_relations(model: type[models.Model]) -> list[Any]:
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and f.related_model in MODELS.values()
    ]


def _changed_since(batch: ImportBatch, kept: Kept) -> None:
    if batch.finished_at is None:
        return
    for model in MODELS.values():
        if not any(f.name == "updated_at" for f in model._meta.concrete_fields):
            continue
        found = model._default_manager.filter(
            pk__in=_created(batch, model), updated_at__gt=batch.finished_at
        ).values_list("pk", flat=True)
        for pk in found:
            _keep(kept, model, pk, _("changed since the import"))


def _children_pointing_at(
    batch: ImportBatch, model: type[models.Model], relation: Any, kept: Kept
) -> list[tuple[int, str]]:
    """(parent id, reason) for each child not created by the batch or kept."""
    child = relation.related_model
    mine = _created(batch, model)
    theirs = _created(batch, child)
    if relation.many_to_many:
        through = relation.field.remote_field.through
        to_parent = f"{relation.field.m2m_reverse_field_name()}_id"
        to_child = f"{relation.field.m2m_field_name()}_id"
        links = through.objects.filter(**{f"{to_parent}__in": mine})
        found = links.exclude(**{f"{to_child}__in": theirs}) | links.filter(
            **{f"{to_child}__in": list(kept[child])}
        )
        pairs = found.values_list(to_parent, flat=True)
    else:
        to_parent = relation.field.attname
        rows = child._default_manager.filter(**{f"{to_parent}__in": mine})
        found = rows.filter(pk__in=list(kept[child]))
        if not (child in UNRECORDED_CHILDREN and batch.file_format != "relata"):
            found = found | rows.exclude(pk__in=theirs)
        pairs = found.values_list(to_parent, flat=True)
    reason = _("has %(what)s added or kept since the import") % {
        "what": child._meta.verbose_name_plural
    }
    return [(pk, reason) for pk in pairs]


def _keep_parents(batch: ImportBatch, kept: Kept) -> bool:
    grew = False
    for model in MODELS.values():
        for relation in _reverse_relations(model):
            for pk, reason in _children_pointing_at(batch, model, relation, kept):
                grew |= _keep(kept, model, pk, reason)
    return grew


def _keep_children(batch: ImportBatch, kept: Kept) -> bool:
    grew = False
    for child, field_name in BELONGS_TO:
        parent = child._meta.get_field(field_name).related_model
        if not kept[parent]:  # type: ignore[index]
            continue
        found = child._default_manager.filter(
            **{f"{field_name}_id__in": list(kept[parent])}  # type: ignore[index]
        )
        if child not in UNRECORDED_CHILDREN or batch.file_format == "relata":
            found = found.filter(pk__in=_created(batch, child))
        reason = _("belongs to a kept %(what)s") % {"what": parent._meta.verbose_name}  # type: ignore[union-attr]
        for pk in found.values_list("pk", flat=True):
            grew |= _keep(kept, child, pk, reason)
    return grew


def kept_records(batch: ImportBatch) -> Kept:
    """The records the batch created that undo must keep, with the reasons."""
    kept: Kept = defaultdict(dict)
    _changed_since(batch, kept)
    while _keep_parents(batch, kept) | _keep_children(batch, kept):
        pass
    return kept


def _same(model: type[models.Model], name: str, current: Any, written: Any) -> bool:
    field: Any = model._meta.get_field(name)
    return bool(field.to_python(written) == current)


def _restore_updated(batch: ImportBatch, *, honest: bool) -> list[dict[str, Any]]:
    """Put back the values the batch overwrote (latest change first), field by field."""
    report = []
    records = ImportedRecord.objects.filter(batch=batch, action=ImportedRecord.Action.UPDATED)
    for record in records.order_by("-id"):
        model = MODELS[record.entity]
        obj = model._default_manager.filter(pk=record.record_id).first()
        if obj is None:
            continue
        restore, newer = {}, []
        for name, old in record.previous.items():
            current = getattr(obj, name)
            if not honest:
                still_ours = True
            elif name in record.written:
                still_ours = _same(model, name, current, record.written[name])
            else:  # recorded before imports kept what they wrote: trust the edit time
                edited = getattr(obj, "updated_at", None)
                still_ours = (
                    edited is None or batch.finished_at is None or (edited <= batch.finished_at)
                )
            if still_ours:
                restore[name] = old
            else:
                field: Any = model._meta.get_field(name)
                newer.append(str(field.verbose_name))
        if restore:
            model._default_manager.filter(pk=obj.pk).update(**restore)
        if newer:
            report.append(
                _entry(
                    model,
                    obj,
                    [
                        _("changed since the import, the newer value is kept: %(fields)s")
                        % {"fields": ", ".join(newer)}
                    ],
                )
            )
    return report


def _entry(model: type[models.Model], obj: Any, reasons: list[str]) -> dict[str, Any]:
    return {
        "entity": model._meta.model_name,
        "record_id": obj.pk,
        "label": f"{str(model._meta.verbose_name).capitalize()} «{obj}»",
        "reasons": reasons,
    }


def discard(batch: ImportBatch, *, honest: bool) -> list[dict[str, Any]]:
    """Restore what the batch changed and delete what it created; with `honest`, what people
    changed or added since is kept and returned as the report. Without it (an import that
    failed half-way, undone at once) everything goes."""
    report = _restore_updated(batch, honest=honest)
    kept: Kept = kept_records(batch) if honest else defaultdict(dict)
    for model in reversed(list(MODELS.values())):  # dependents first
        ids = _created(batch, model)
        model._default_manager.filter(pk__in=ids).exclude(pk__in=list(kept[model])).delete()
        objects = model._default_manager.in_bulk(list(kept[model]))
        report += [_entry(model, objects[pk], kept[model][pk]) for pk in objects]
    if honest:
        report += _drop_created_fields(batch)
    # The links an associations export made between records (deals' contact persons).
    links = ImportedRecord.objects.filter(batch=batch, entity=DEAL_CONTACT).values("record_id")
    crm.Deal.contacts.through.objects.filter(pk__in=links).delete()
    # An undone import's records wait for nobody: the invited person, joining later, gets
    # none of what it made (the kept ones stay with whom they are).
    AwaitingOwner.objects.filter(batch=batch).delete()
    batch.checkpoint = 0
    return report


def _drop_created_fields(batch: ImportBatch) -> list[dict[str, Any]]:
    """The client fields the batch's mapping step made from its columns go with it, unless
    a client still holds a value in one (a client the undo kept, another import's, or typed
    by hand): then the field stays, and the report says why."""
    report = []
    keys = (batch.options or {}).get("created_fields") or []
    fields = crm.CustomField.objects.filter(entity=crm.CustomField.Entity.CLIENT, key__in=keys)
    for field in fields:
        held = sum(
            1
            for value in crm.Client.objects.filter(custom__has_key=field.key).values_list(
                f"custom__{field.key}", flat=True
            )
            if value not in (None, "", [])
        )
        if not held:
            field.delete()
            continue
        report.append(
            {
                "entity": "customfield",
                "record_id": field.pk,
                "label": _("Client field «%(label)s»") % {"label": field.label},
                "reasons": [
                    ngettext(
                        "made by this import; %(count)s client holds a value in it",
                        "made by this import; %(count)s clients hold values in it",
                        held,
                    )
                    % {"count": held}
                ],
            }
        )
    return report
