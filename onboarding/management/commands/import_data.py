"""Import a file into a company's CRM without a browser (operators, scripts, support)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from onboarding import queries
from onboarding.importing import columns
from onboarding.importing.engine import OUTCOMES
from onboarding.importing.errors import UnreadableFile
from onboarding.models import ImportBatch, ImportRowNote, ImportTemplate
from onboarding.services.imports import (
    CREATED_FIELDS,
    UndoRefused,
    create_batch,
    make_client_fields,
    run_batch,
    template_mapping,
    undo_batch,
)
from tenants.models import Company, Membership


class Command(BaseCommand):
    help = (
        "Import an xlsx/xls/csv/CommerceML/EnterpriseData/vCard file into a company and report;"
        " or list the company's imports (--list), or undo one (--undo BATCH)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("company", help="The company's address (slug)")
        parser.add_argument("file", type=Path, nargs="?")
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument(
            "--list", action="store_true", help="List the company's imports, newest first"
        )
        actions.add_argument(
            "--undo",
            type=int,
            metavar="BATCH",
            help="Undo the company's import number BATCH (as the web's undo does: what people "
            "changed since is kept and listed)",
        )
        parser.add_argument(
            "--mapping",
            help="A saved mapping template's name, or a JSON file {header: field}",
        )
        parser.add_argument("--sheet", default="")
        parser.add_argument("--header-row", type=int, default=0)
        parser.add_argument(
            "--date-order",
            choices=ImportBatch.DateOrder.values,
            default="",
            help="How typed dates put day and month (dmy: 03.04.2026 is 3 April; mdy: 4 March);"
            " by default what the file's first rows show, else dmy with a warning",
        )
        parser.add_argument(
            "--deals",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Make a deal from each row (--no-deals: never). By default only when a column"
            " is mapped to the deal's title, or its amount column names a deal or an order",
        )
        parser.add_argument(
            "--bad-inn",
            choices=["blank", "skip"],
            default=None,
            help="A row whose 10- or 12-digit INN fails its checksum: imported without the INN"
            " and flagged (blank, the default unless the --mapping template says otherwise), or"
            " skipped (skip); reported either way",
        )
        parser.add_argument(
            "--choices",
            type=Path,
            help='Another CRM\'s names mapped, a JSON file: {"pipelines": {name: pipeline id |'
            ' "create" | "default"}, "stages": {"pipeline|stage": stage id | "create" |'
            ' "skip"}, "owners": {name: user id | "me"}} (a dry run lists the names)',
        )
        parser.add_argument("--dry-run", action="store_true", help="Report only; write nothing")
        parser.add_argument("--json", type=Path, help="Also write the report as JSON here")

    def handle(self, *args: Any, **options: Any) -> None:
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise CommandError(f"No company with the address {options['company']!r}.")
        if options["list"] or options["undo"] is not None:
            if options["file"] is not None:
                raise CommandError("--list and --undo take no file.")
            with company:
                if options["list"]:
                    self._list()
                else:
                    self._undo(options["undo"], company)
            return
        path: Path | None = options["file"]
        if path is None:
            raise CommandError("Give a file to import, or --list, or --undo BATCH.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        with company:
            named = options["mapping"]
            template = ImportTemplate.objects.filter(name=named).first() if named else None
            # A saved template brings its date order and the choices saved with it too
            # (create_batch; --deals and --bad-inn given here win); a JSON file maps only.
            mapping = (
                template_mapping(template)
                if template is not None
                else self._mapping(options["mapping"])
            )
            created: list[str] = []  # the client fields made here: this import's undo removes them
            if mapping and columns.NEW_CUSTOM in mapping.values():
                mapping = self._new_fields(company, mapping, created)
            try:
                with path.open("rb") as stream:
                    batch = create_batch(
                        user_id=None,
                        file=stream,
                        file_name=path.name,
                        mapping=mapping,
                        template=template,
                        sheet=options["sheet"],
                        header_row=options["header_row"],
                        dry_run=options["dry_run"],
                        date_order=options["date_order"],
                        options={
                            "deals": options["deals"],
                            "bad_inn": options["bad_inn"],
                            **self._choices(options["choices"]),
                            CREATED_FIELDS: created,
                        },
                    )
            except UnreadableFile as exc:
                raise CommandError(exc.message) from exc
            report = run_batch(batch, company=company)
            summary = report.summary()
            self._print(summary, report.notes())
            if options["json"]:
                with options["json"].open("w", encoding="utf-8") as out:
                    report.write_json(out)
        if summary["status"] == "failed":
            raise CommandError(summary["error"])

    def _list(self) -> None:
        """Every import of the company (its schema holds only its own), newest first."""
        write = self.stdout.write
        found = False
        for batch in queries.batches().iterator():
            found = True
            counts = "  ".join(
                f"{k}: {batch.counts.get(k, 0)}" for k in ("rows", *OUTCOMES) if k in batch.counts
            )
            when = timezone.localtime(batch.created_at).strftime("%Y-%m-%d %H:%M")
            kind = "dry run" if batch.dry_run else "import"
            state = batch.status
            if batch.undone_at is not None:
                undone = timezone.localtime(batch.undone_at).strftime("%Y-%m-%d %H:%M")
                state = f"undone {undone}"
            write(
                f"#{batch.pk}  {when}  {batch.file_name} ({batch.file_format or '-'}, {kind})"
                f"  {state}  {counts}".rstrip()
            )
        if not found:
            write("No imports yet.")

    def _undo(self, batch_id: int, company: Company) -> None:
        batch = queries.batches().filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"{company.slug} has no import #{batch_id} (see --list).")
        try:
            kept = undo_batch(batch)
        except UndoRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Import #{batch.pk} ({batch.file_name}) is undone.")
        for entry in kept:
            self.stdout.write(f"kept: {entry['label']} — {'; '.join(entry['reasons'])}")

    @staticmethod
    def _choices(path: Path | None) -> dict[str, Any]:
        if path is None:
            return {}
        try:
            loaded = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"{path} is not a JSON file: {exc}") from exc
        if not isinstance(loaded, dict) or set(loaded) - {"pipelines", "stages", "owners"}:
            raise CommandError(f"{path}: give pipelines, stages and owners only.")
        return {k: {str(n): str(v) for n, v in dict(loaded[k]).items()} for k in loaded}

    def _mapping(self, value: str | None) -> dict[str, str] | None:
        if not value:
            return None
        path = Path(value)
        if path.is_file():
            try:
                loaded = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path} is not JSON: {exc}") from exc
            if isinstance(loaded, dict):
                # Headers as the file has them ("ИНН клиента:") match as the wizard matches
                # them; a field the import does not know is an error, not a silent skip.
                known = {*columns.FIELDS, columns.NEW_CUSTOM}
                unknown = sorted(
                    {str(v) for v in loaded.values()}
                    - known
                    - {str(v) for v in loaded.values() if columns.is_custom(str(v))}
                )
                if unknown:
                    raise CommandError(
                        f"Unknown fields in {path}: {', '.join(unknown)}. Known: "
                        f"{', '.join(sorted(known))}, custom:<a client field's key>."
                    )
                self._refuse_twice(loaded)
                return {columns.normalise_header(k): str(v) for k, v in loaded.items()}
        raise CommandError(f"No saved mapping named {value!r} and no JSON file at that path.")

    @staticmethod
    def _refuse_twice(loaded: dict[str, Any]) -> None:
        """Two columns for a field that holds one value: the last would silently win."""
        by_field: dict[str, list[str]] = {}
        for header, field_name in loaded.items():
            if field_name not in columns.MULTI_VALUED and field_name != columns.NEW_CUSTOM:
                by_field.setdefault(str(field_name), []).append(str(header))
        for field_name, headers in by_field.items():
            if len(headers) > 1:
                raise CommandError(
                    f"Columns {', '.join(repr(h) for h in headers)} are all mapped to "
                    f"{field_name}, which holds one value: map one of them."
                )

    @staticmethod
    def _new_fields(
        company: Company, mapping: dict[str, str], created: list[str]
    ) -> dict[str, str]:
        """Columns mapped to "new_custom" become client fields, made as the company's owner
        would make them on the settings page (the plan's limit, the change log)."""
        owner = Membership.objects.filter(company=company, role=Membership.Role.OWNER).first()
        if owner is None:
            raise CommandError("The company has no owner to make its new client fields.")
        try:
            return make_client_fields(mapping, membership=owner, created=created)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _print(self, summary: dict[str, Any], notes: Iterable[ImportRowNote]) -> None:
        write = self.stdout.write
        mode = "dry run" if summary["dry_run"] else "import"
        write(
            f"{summary['file']} ({summary['format']}, {summary['encoding'] or '-'}, dates "
            f"{summary['date_order']}): {mode} #{summary['batch']}"
        )
        write("  ".join(f"{k}: {v}" for k, v in summary["counts"].items()))
        if summary["ignored_columns"]:
            # A column the mapping leaves out is named, never dropped without a word.
            write(f"ignored columns: {', '.join(summary['ignored_columns'])}")
        if summary.get("preset"):
            write(f"recognised: {summary['preset']}")
        for kind, names in (summary.get("unmatched") or {}).items():
            if names:
                # What the company has no pipeline, stage or member for (see --choices).
                listed = ", ".join(f"{name} ({rows} rows)" for name, rows in names.items())
                write(f"not in the company, {kind}: {listed}")
        for warning in summary["warnings"]:
            write(f"warning: {warning}")
        for note in notes:
            if note.outcome != "created" or note.reason:
                write(
                    f"row {note.row}: {note.outcome}" + (f" — {note.reason}" if note.reason else "")
                )
