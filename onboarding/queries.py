"""Reading import batches (the company's own schema holds only its own)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404

from onboarding.models import ImportBatch, ImportRowNote


def batches() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.all()


def batch_for(batch_id: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise Http404("no such import")
    return batch


def notes(batch: ImportBatch, outcomes: tuple[str, ...] = ()) -> QuerySet[ImportRowNote]:
    found = ImportRowNote.objects.filter(batch=batch)
    return found.filter(outcome__in=outcomes) if outcomes else found


def shown(
    batch: ImportBatch, notes: Iterable[ImportRowNote]
) -> list[tuple[ImportRowNote, list[tuple[str, str]]]]:
    """Each note with its row's values as (column, value) in the file's column order (the
    values are stored as jsonb, which keeps no order)."""
    order = {column: index for index, column in enumerate(batch.columns)}
    return [
        (note, sorted(note.values.items(), key=lambda kv: order.get(kv[0], len(order))))
        for note in notes
    ]


def progress_percent(batch: ImportBatch) -> int:
    if batch.status in {ImportBatch.Status.DONE, ImportBatch.Status.UNDONE}:
        return 100
    if not batch.total_rows:
        return 0
    return min(99, int(100 * batch.counts.get("rows", 0) / batch.total_rows))
