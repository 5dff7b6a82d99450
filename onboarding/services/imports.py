"""Importing a file into the company's CRM, and undoing an import.

Every function here runs in the company's schema (a request on its host, a Celery task
stamped with it, or `tenant_context` in a command) and touches nothing outside it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import kombu.exceptions
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_core.models import CustomField
from crm_core.services.fields import add_field
from onboarding.archive import read_manifest, restore
from onboarding.importing import columns, presets
from onboarding.importing.engine import FLAGGED, OUTCOMES, Importer
from onboarding.importing.errors import UnreadableFile
from onboarding.importing.sandbox import bounded
from onboarding.importing.sources import TABULAR, Inspection, inspect, read_rows
from onboarding.models import ImportBatch, ImportedRecord, ImportRowNote, ImportTemplate
from onboarding.services.undo import discard
from onboarding.xlsxcells import text_cell
from relata.db import connection
from tenants.models import Company, Membership

logger = logging.getLogger(__name__)
UNDO_DAYS = 30
STALLED_AFTER = dt.timedelta(minutes=5)
_LOCK_CLASS = 0x1A7  # advisory-lock namespace of import batches (high 32 bits)


def limit_mb() -> int:
    return int(getattr(settings, "MAX_IMPORT_MB", 512))


def region_of(company: Company) -> str:
    # Numbers typed without a country code are read in the company's own country.
    return {"KZT": "KZ", "BYN": "BY", "UZS": "UZ"}.get(company.currency, "RU")


@dataclass
class Report:
    batch: ImportBatch
    counts: dict[str, int]

    def notes(self) -> Iterator[ImportRowNote]:
        """The row notes in row order, read from the database where the import keeps them
        (every row of a dry run; otherwise the rows that were not simply created) a few
        thousand at a time: a million-row run never holds a million results in memory."""
        return (
            ImportRowNote.objects.filter(batch=self.batch).order_by("row").iterator(chunk_size=2000)
        )

    @property
    def rows(self) -> list[ImportRowNote]:
        return list(self.notes())

    def summary(self) -> dict[str, Any]:
        return {
            "batch": self.batch.pk,
            "file": self.batch.file_name,
            "format": self.batch.file_format,
            "encoding": self.batch.encoding,
            "date_order": self.batch.date_order,
            "warnings": self.batch.warnings,
            "dry_run": self.batch.dry_run,
            "status": self.batch.status,
            "error": self.batch.error,
            "counts": {k: self.counts.get(k, 0) for k in ("rows", *OUTCOMES, FLAGGED)},
            "ignored_columns": self.batch.ignored_columns,
            "preset": (self.batch.options or {}).get("preset", ""),
            "unmatched": self.batch.unmatched,
        }

    def write_json(self, out: IO[str]) -> None:
        """The summary and every row note as one JSON object, the rows written as they are
        read (a report of a million rows is written, not built in memory first)."""
        out.write(json.dumps(self.summary(), ensure_ascii=False, default=str)[:-1])
        out.write(', "rows": [')
        for index, note in enumerate(self.notes()):
            out.write(",\n" if index else "\n")
            out.write(json.dumps(_note_dict(note), ensure_ascii=False, default=str))
        out.write("\n]}\n")


def _note_dict(note: ImportRowNote) -> dict[str, Any]:
    return {"row": note.row, "outcome": note.outcome, "reason": note.reason, "values": note.values}


def create_batch(
    *,
    user_id: int | None,
    file: IO[bytes],
    file_name: str,
    mapping: dict[str, str] | None = None,
    sheet: str = "",
    header_row: int = 0,
    dry_run: bool = False,
    date_order: str = "",
    template: ImportTemplate | None = None,
    options: dict[str, Any] | None = None,
    preset: str = "",
) -> ImportBatch:
    """Store the upload under the company's storage prefix and inspect it (`preset`: the
    key of another CRM's export it is, when its headers do not tell). Typed dates are
    read in `date_order` (ImportBatch.DateOrder), else in the order the file's first rows show
    — or, when they leave it open, in the order saved with the `template` the file is mapped
    with (its mapping is used unless `mapping` is given).

    Raises UnreadableFile (nothing is stored) when the file cannot be imported.
    """
    if template is not None:
        mapping = template_mapping(template) if mapping is None else mapping
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    found = bounded(
        inspect,
        file,
        size=size,
        limit_mb=limit_mb(),
        sheet=sheet,
        header_row=header_row,
        mapping=mapping,
        file_name=file_name,
    )
    if not date_order and found.date_order_open and template is not None:
        date_order = template.date_order  # the order chosen for this export before
    # The choices saved with the template, unless the caller makes its own.
    given_options = {k: v for k, v in (options or {}).items() if v is not None}
    found.options = {**template_choices(template), **given_options}
    chosen = mapping if mapping is not None else found.mapping
    # Another CRM's export (named by the person, else recognised from its headers): its own
    # mapping (a template that ships with Relata) unless a saved one is chosen, its rows'
    # kind and the prefix of its ids.
    export = presets.BY_KEY.get(preset) if preset else None
    export = export or (presets.recognise(found.headers) if found.headers else None)
    if export is not None and found.headers:
        if mapping is None:
            chosen = export.mapping(found.headers)
        given = {k: v for k, v in found.options.items() if v is not None}
        found.options = {**export.options(), **given}
    batch = ImportBatch(
        total_rows=found.total_rows,
        file_name=file_name[:255],
        file_format=found.format,
        encoding=found.encoding,
        sheet=found.sheet,
        header_row=found.header_row or None,
        mapping=chosen,
        columns=found.headers,
        options=found.options,
        ignored_columns=found.ignored(chosen) if found.format in TABULAR else [],
        dry_run=dry_run,
        date_order=date_order or found.date_order,
        # The wizard asks; a script or an operator is told what was assumed.
        warnings=[_date_order_assumed(found)] if found.date_order_open and not date_order else [],
        language=translation.get_language() or "",
        created_by_id=user_id,
    )
    file.seek(0)
    batch.file.save(file_name, File(file, name=file_name), save=False)
    batch.save()
    return batch


def _date_order_assumed(found: Inspection) -> str:
    if found.date_example:
        return _(
            "Dates such as %(example)s can be read two ways; they were read day first. Give "
            "the order if the file writes the month first."
        ) % {"example": found.date_example}
    return _(
        "The first rows write dates in both orders; they were read day first. Give the order "
        "if most of them are written month first."
    )


def inspection_of(batch: ImportBatch) -> Inspection:
    return Inspection(
        format=batch.file_format,
        encoding=batch.encoding,
        sheet=batch.sheet,
        header_row=batch.header_row or 0,
        mapping=batch.mapping,
        date_order=batch.date_order,
        options=batch.options,
    )


class AlreadyRunning(Exception):  # noqa: N818
    """Another worker holds this batch: running it twice at once would duplicate rows."""


@contextmanager
def _exclusively(batch: ImportBatch) -> Iterator[None]:
    """A session-level advisory lock on the batch (per schema): released by PostgreSQL when
    the holder commits suicide, is killed, or loses its connection — never left stale."""
    key = (_LOCK_CLASS << 32) | zlib.crc32(f"{connection.schema_name}:{batch.pk}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s::bigint)", [key])
        (locked,) = cursor.fetchone()
    if not locked:
        raise AlreadyRunning
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s::bigint)", [key])


def run_batch(
    batch: ImportBatch,
    *,
    company: Company,
    on_progress: Callable[[int], None] | None = None,
) -> Report:
    """Import (or dry-run) the batch's file; resumable after the last committed chunk, and
    safe to call twice (a second caller while one runs gets AlreadyRunning).

    A file that turns out unreadable half-way is undone, so it leaves no partial data.
    """
    with _exclusively(batch):
        batch.refresh_from_db()
        with translation.override(batch.language or None):
            return _run(batch, company=company, on_progress=on_progress)


def _run(
    batch: ImportBatch, *, company: Company, on_progress: Callable[[int], None] | None
) -> Report:
    if batch.status in {
        ImportBatch.Status.DONE,
        ImportBatch.Status.UNDONE,
        ImportBatch.Status.FAILED,
    }:
        return Report(batch=batch, counts=batch.counts)
    batch.status = ImportBatch.Status.RUNNING
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=["status", "heartbeat_at"])
    try:
        if batch.file_format == "relata":
            return _restore(batch, company=company)
        importer = Importer(
            batch, region=region_of(company), on_progress=on_progress, company=company
        )
        with batch.file.open("rb") as stream:
            importer.run(read_rows(stream, inspection_of(batch)))
    except UnreadableFile as exc:
        return _failed(batch, exc.message)
    except (OperationalError, InterfaceError):
        # The database went away (a restart, a lost connection): the batch stays running and
        # the stalled-batch beat resumes it from its checkpoint.
        raise
    except Exception:
        # Anything else would fail again on every resume, with the batch "running" for ever
        # and the chunks before it kept: the file's records go, and the person is told.
        logger.exception("import batch %s failed after row %s", batch.pk, batch.checkpoint)
        return _failed(
            batch,
            _(
                "The import stopped at an unexpected error after row %(row)s; nothing from "
                "this file was kept. We have been notified — please write to support with "
                "the file."
            )
            % {"row": batch.checkpoint},
        )
    batch.status = ImportBatch.Status.DONE
    batch.finished_at = timezone.now()
    if batch.dry_run:
        batch.counts = dict(importer.counts)
    if not importer.counts.get("preview_limit"):
        batch.total_rows = importer.counts.get("rows", 0)
    batch.save(update_fields=["status", "finished_at", "counts", "total_rows"])
    return Report(batch=batch, counts=dict(importer.counts))


def _failed(batch: ImportBatch, message: str) -> Report:
    _discard(batch)
    batch.status = ImportBatch.Status.FAILED
    batch.error = message
    batch.save(update_fields=["status", "error", "checkpoint", "counts"])
    return Report(batch=batch, counts={})


def stalled_batches() -> list[ImportBatch]:
    """Running batches whose worker stopped sending heartbeats (killed, lost, redeployed)."""
    cutoff = timezone.now() - STALLED_AFTER
    return list(
        ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING, heartbeat_at__lt=cutoff)
    )


def _restore(batch: ImportBatch, *, company: Company) -> Report:
    """A Relata export, back in whole: one transaction, every record remembered for undo."""
    with batch.file.open("rb") as stream:
        if batch.dry_run:
            entities = read_manifest(stream)["entities"]
            created = {name: list(range(len(rows))) for name, rows in entities.items()}
        else:
            with transaction.atomic():
                try:
                    restored = restore(stream, company=company)
                except (ValidationError, ValueError, TypeError, KeyError) as exc:
                    # An archive edited by hand: one transaction, so nothing of it stays.
                    raise UnreadableFile("corrupt", detail=str(exc)) from exc
                created = restored.created
                batch.warnings = [
                    _(
                        "%(email)s is not a member of this company: %(count)s records are left "
                        "without a responsible person."
                    )
                    % {"email": email or _("an unknown person"), "count": count}
                    for email, count in sorted(restored.unassigned.items())
                ]
                ImportedRecord.objects.bulk_create(
                    (
                        ImportedRecord(
                            batch=batch,
                            entity=entity,
                            record_id=pk,
                            action=ImportedRecord.Action.CREATED,
                        )
                        for entity, ids in created.items()
                        for pk in ids
                    ),
                    batch_size=5000,
                )
    total = sum(len(ids) for ids in created.values())
    batch.counts = {"rows": total, "created": total, **{k: len(v) for k, v in created.items()}}
    batch.status = ImportBatch.Status.DONE
    batch.finished_at = timezone.now()
    batch.total_rows = total
    batch.save(update_fields=["counts", "status", "finished_at", "total_rows", "warnings"])
    return Report(batch=batch, counts=batch.counts)


class UndoRefused(Exception):  # noqa: N818
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _within_undo_days(batch: ImportBatch) -> bool:
    return batch.created_at >= timezone.now() - dt.timedelta(days=UNDO_DAYS)


def undoable(batch: ImportBatch) -> bool:
    """A finished import can be undone for UNDO_DAYS days after it was started."""
    done = batch.status == ImportBatch.Status.DONE and not batch.dry_run
    return done and _within_undo_days(batch)


@transaction.atomic
def undo_batch(batch: ImportBatch) -> list[dict[str, Any]]:
    """Remove what the batch created and restore what it changed, in one transaction.

    What people changed or added since the import is kept; returns (and keeps on the batch)
    what was kept and why."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == ImportBatch.Status.UNDONE:
        raise UndoRefused(_("This import has already been undone."))
    if batch.dry_run:
        raise UndoRefused(_("A dry run changed nothing: there is nothing to undo."))
    if not _within_undo_days(batch):
        raise UndoRefused(
            _("An import can be undone for %(days)s days; this one is older.") % {"days": UNDO_DAYS}
        )
    batch.undo_report = discard(batch, honest=True)
    batch.status = ImportBatch.Status.UNDONE
    batch.undone_at = timezone.now()
    batch.save(update_fields=["status", "undone_at", "checkpoint", "undo_report"])
    return batch.undo_report


def _discard(batch: ImportBatch) -> None:
    """A run that failed half-way leaves nothing behind (nobody has used its records yet)."""
    discard(batch, honest=False)


def remap(
    batch: ImportBatch,
    *,
    mapping: dict[str, str],
    sheet: str,
    header_row: int,
    columns: list[str] | None = None,
    date_order: str = "",
    options: dict[str, Any] | None = None,
    ignored_columns: list[str] | None = None,
) -> ImportBatch:
    """A new column mapping (or sheet, header row, date format) for a dry run: its preview
    starts over."""
    if not batch.dry_run:
        raise UndoRefused(_("Only a preview can be re-mapped; this import has run."))
    with transaction.atomic():
        ImportRowNote.objects.filter(batch=batch).delete()
        batch.mapping = mapping
        if columns is not None:
            batch.columns = columns
        batch.sheet = sheet or batch.sheet
        batch.header_row = header_row or batch.header_row
        batch.date_order = date_order or batch.date_order
        if options is not None:
            batch.options = options
        if ignored_columns is not None:
            batch.ignored_columns = ignored_columns
        batch.warnings = []  # the person has seen the file's columns and dates now
        batch.status = ImportBatch.Status.PENDING
        batch.checkpoint = 0
        batch.counts = {}
        batch.error = ""
        batch.save()
    return batch


# ImportBatch.options' key for the client fields the mapping step made from the file's columns:
# the batch's undo removes them again while nothing else holds a value in them.
CREATED_FIELDS = "created_fields"


@transaction.atomic
def make_client_fields(
    mapping: dict[str, str], *, membership: Membership, created: list[str] | None = None
) -> dict[str, str]:
    """The columns mapped to "create a client field from this column", mapped to a new text
    field of the client named after the column (made as the settings page makes one: the
    plan's limit, the change log); a field of that name already there is used instead. The
    keys of the fields made here are added to `created` (kept in the batch's options under
    CREATED_FIELDS, for its undo).

    Raises ValidationError (nothing made after it) when the plan allows no more fields."""
    result = dict(mapping)
    for header, field_name in mapping.items():
        if field_name != columns.NEW_CUSTOM:
            continue
        label = column_label(header)
        existing = CustomField.objects.filter(
            entity=CustomField.Entity.CLIENT, label__iexact=label, is_active=True
        ).first()
        if existing is None:
            existing = add_field(
                membership=membership,
                entity=CustomField.Entity.CLIENT,
                label=label,
                kind=CustomField.Kind.TEXT,
                choices=[],
            )
            if created is not None:
                created.append(existing.key)
        result[header] = columns.CUSTOM_PREFIX + existing.key
    return result


def column_label(header: str) -> str:
    """A column's header as a field's name: «город» → «Город»; a column without a header by
    its position."""
    if header.startswith("#"):
        return _("Column %(number)s") % {"number": header[1:]}
    return (header[:1].upper() + header[1:])[:100]


def start_from_preview(preview: ImportBatch, *, user_id: int | None) -> ImportBatch:
    """The real import of a previewed file, with the preview's mapping (same stored file)."""
    if not preview.dry_run or preview.status != ImportBatch.Status.DONE:
        raise UndoRefused(_("Run the preview first."))
    return ImportBatch.objects.create(
        file=preview.file.name,
        file_name=preview.file_name,
        file_format=preview.file_format,
        encoding=preview.encoding,
        sheet=preview.sheet,
        header_row=preview.header_row,
        mapping=preview.mapping,
        columns=preview.columns,
        date_order=preview.date_order,
        options=preview.options,
        ignored_columns=preview.ignored_columns,
        language=preview.language,
        total_rows=(
            preview.total_rows
            if preview.counts.get("preview_limit")
            else preview.counts.get("rows") or preview.total_rows
        ),
        dry_run=False,
        created_by_id=user_id,
    )


# The choices of the mapping page a template keeps beside its mapping (ImportBatch.options).
TEMPLATE_CHOICES = ("deals", "bad_inn")


def template_choices(template: ImportTemplate | None) -> dict[str, Any]:
    """The mapping page's choices saved with `template` ({} without one)."""
    saved = (template.options or {}) if template is not None else {}
    return {k: saved[k] for k in TEMPLATE_CHOICES if saved.get(k) is not None}


def template_mapping(template: ImportTemplate) -> dict[str, str]:
    """The template's mapping for a new file: a column whose client field was made from it
    maps to that field while the field is there, else (the field removed since, with the
    import that made it undone) to "create a client field from this column" again."""
    mapping = dict(template.mapping)
    made = set((template.options or {}).get("new_fields") or [])
    there = set(
        CustomField.objects.filter(entity=CustomField.Entity.CLIENT, is_active=True).values_list(
            "key", flat=True
        )
    )
    for header, field_name in mapping.items():
        if not columns.is_custom(field_name):
            continue
        if field_name.removeprefix(columns.CUSTOM_PREFIX) not in there and header in made:
            mapping[header] = columns.NEW_CUSTOM
    return mapping


def save_template(
    *,
    name: str,
    mapping: dict[str, str],
    date_order: str = "",
    options: dict[str, Any] | None = None,
) -> ImportTemplate:
    """Save (or replace) a named mapping with the page's other choices (`options`, an
    ImportBatch's: deals, invalid INNs, the client fields made from columns); `date_order` is
    the order the typed dates of the file it was made from were read in (see create_batch).
    Saved again from a file without typed dates, a template keeps the order it had."""
    options = options or {}
    made = set(options.get(CREATED_FIELDS) or [])
    kept: dict[str, Any] = {k: options[k] for k in TEMPLATE_CHOICES if k in options}
    kept["new_fields"] = [
        header
        for header, field_name in mapping.items()
        if columns.is_custom(field_name) and field_name.removeprefix(columns.CUSTOM_PREFIX) in made
    ]
    defaults: dict[str, Any] = {"mapping": mapping, "options": kept}
    if date_order:
        defaults["date_order"] = date_order
    template, _created = ImportTemplate.objects.update_or_create(
        name=name.strip()[:200], defaults=defaults
    )
    return template


def report_workbook(batch: ImportBatch) -> bytes:
    """The rows a person should look at (rejected, merged, flagged), as an xlsx file."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("Rows to check"))
    notes = ImportRowNote.objects.filter(batch=batch).exclude(outcome="created", reason="")
    if batch.columns:
        # The file's own columns after the reason: fix the rows here and import this sheet
        # again (the first three columns are left unmapped).
        sheet.append([_("Row"), _("Outcome"), _("Reason"), *batch.columns])
        for note in notes.iterator(chunk_size=2000):
            sheet.append(
                [
                    note.row,
                    note.get_outcome_display(),
                    text_cell(sheet, note.reason),
                    *(text_cell(sheet, note.values.get(c, "")) for c in batch.columns),
                ]
            )
    else:  # a 1C exchange file: no columns, the values its reader named
        sheet.append([_("Row"), _("Outcome"), _("Reason"), _("What the row said")])
        for note in notes.iterator(chunk_size=2000):
            said = "; ".join(f"{k}: {v}" for k, v in note.values.items())
            sheet.append(
                [
                    note.row,
                    note.get_outcome_display(),
                    text_cell(sheet, note.reason),
                    text_cell(sheet, said),
                ]
            )
    if batch.ignored_columns:
        # The columns no field was chosen for: the file's data the import did not take.
        ignored = book.create_sheet(_("Columns not imported"))
        ignored.append([_("Column")])
        for column in batch.ignored_columns:
            ignored.append([text_cell(ignored, column)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def queue_batch(batch: ImportBatch) -> None:
    """Hand the batch to a worker. It shows as running (with a progress bar) from now on; if
    no worker takes it, the stalled-batch beat sends it again after STALLED_AFTER."""
    from onboarding.tasks import run_import

    batch.status = ImportBatch.Status.RUNNING
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=["status", "heartbeat_at"])
    # Sent now, not on commit: the worker needs only the batch row, which exists already.
    try:
        run_import.delay(batch.pk)
    except (OSError, kombu.exceptions.OperationalError):
        # The broker is down: the page still answers; the stalled-batch beat sends the batch
        # once the broker is back (its heartbeat is set, so it counts as stalled after 5 min).
        logger.warning("import batch %s queued without a broker; the beat will resend it", batch.pk)
