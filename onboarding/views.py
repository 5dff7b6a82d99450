"""The import wizard on the company's host: owners and admins only.

upload → detected format / encoding / sheet / header row → editable mapping (savable) →
preview (a dry run, in the background) → the import itself, with a live progress bar →
the report, its xlsx of rows to check, and undo.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import member_required
from onboarding import queries
from onboarding.forms import MappingForm, UploadForm
from onboarding.importing import columns, presets, tabular
from onboarding.importing.engine import FLAGGED
from onboarding.importing.errors import UnreadableFile
from onboarding.importing.sandbox import bounded
from onboarding.importing.sources import TABULAR, Inspection, inspect
from onboarding.models import ImportBatch, ImportRowNote
from onboarding.services import imports, switching
from relata.inputs import whole_number
from tenants.models import Membership
from tenants.services.team import invitation_link_path
from tenants.urlbuilding import public_url

PREVIEW_ROWS_SHOWN = 500


def import_admin_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Members who are not owners or admins see no import pages at all (404)."""

    @member_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        membership: Membership = request.membership  # type: ignore[attr-defined]
        if membership.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
            raise Http404("owners and admins only")
        return view(request, *args, **kwargs)

    return wrapper


@import_admin_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        template = form.cleaned_data["template"]
        try:
            batch = imports.create_batch(
                user_id=request.user.pk,
                file=upload,
                file_name=upload.name,
                template=template,
                dry_run=True,
                preset=form.cleaned_data["source"],
            )
        except UnreadableFile as exc:
            form.add_error("file", exc.message)
        else:
            if batch.file_format not in TABULAR:
                imports.queue_batch(batch)  # nothing to map: straight to the preview
            return redirect("import_batch", batch_id=batch.pk)
    return render(
        request,
        "onboarding/imports.html",
        {"form": form, "batches": queries.batches().filter(dry_run=False)[:100]},
    )


def _inspection(batch: ImportBatch, sheet: str = "", header_row: int = 0) -> Inspection:
    with batch.file.open("rb") as stream:
        return bounded(
            inspect,
            stream,
            size=batch.file.size,
            limit_mb=imports.limit_mb(),
            sheet=sheet or batch.sheet,
            header_row=header_row or batch.header_row or 0,
            mapping=batch.mapping,
        )


@import_admin_required
@require_GET
def import_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = queries.batch_for(batch_id)
    context: dict[str, Any] = {
        "batch": batch,
        "percent": queries.progress_percent(batch),
        "undoable": imports.undoable(batch),
        "undo_days": imports.UNDO_DAYS,
        "outcome_counts": _outcome_counts(batch),
        "ignored": ", ".join(f"«{c}»" for c in batch.ignored_columns),
        "preset": presets.BY_KEY.get(str((batch.options or {}).get("preset", ""))),
    }
    remap = batch.status == ImportBatch.Status.PENDING or "remap" in request.GET
    if batch.dry_run and remap and batch.status != ImportBatch.Status.RUNNING:
        if batch.file_format in TABULAR:
            try:
                found = _inspection(
                    batch, request.GET.get("sheet", ""), _int(request.GET.get("header_row"))
                )
            except UnreadableFile as exc:
                # Another sheet or header row was asked for and does not work: say why, and
                # show the mapping as it was.
                messages.error(request, exc.message)
                return redirect(f"{reverse('import_batch', args=[batch.pk])}?remap=1")
            context.update(_mapping_context(found, _mapping_form(batch, found)))
    elif batch.status == ImportBatch.Status.DONE and batch.dry_run:
        context["rows"] = queries.shown(batch, queries.notes(batch)[:PREVIEW_ROWS_SHOWN])
        context["questions"] = switching.questions(batch, request.membership)  # type: ignore[attr-defined]
    elif batch.status in {ImportBatch.Status.DONE, ImportBatch.Status.UNDONE}:
        context["rows"] = queries.shown(
            batch, queries.notes(batch).exclude(outcome="unchanged", reason="")[:PREVIEW_ROWS_SHOWN]
        )
    return render(request, "onboarding/batch.html", context)


def _outcome_counts(batch: ImportBatch) -> list[tuple[str, str, int]]:
    """Each outcome's rows, and the rows imported with a problem (they are in the report)."""
    return [
        *(
            (code, str(label), batch.counts.get(code, 0))
            for code, label in ImportRowNote.Outcome.choices
        ),
        (FLAGGED, _("Imported with problems"), batch.counts.get(FLAGGED, 0)),
    ]


def _int(value: str | None) -> int:
    return whole_number(value, below=1_000_000) or 0


def _mapping_context(found: Inspection, form: MappingForm) -> dict[str, Any]:
    samples = [
        [row[i] for row in found.preview[:3] if i < len(row) and row[i]]
        for i in range(len(found.headers))
    ]
    shown = {h: form.initial.get(f"col_{i}", "") for i, h in enumerate(found.headers)}
    return {
        "found": found,
        "form": form,
        "columns": list(zip(form.column_fields(), samples, strict=True)),
        # Columns naming a field another column has: left for the person, and said so.
        "unsuggested": [
            (header, form.field_labels.get(field_name, field_name))
            for header, field_name in columns.unsuggested(
                found.headers, {h: f for h, f in shown.items() if f}
            )
        ],
    }


def _mapping_form(batch: ImportBatch, found: Inspection, data: Any = None) -> MappingForm:
    same = found.header_row == batch.header_row and found.sheet == batch.sheet
    mapping = batch.mapping if same else found.mapping
    initial: dict[str, Any] = {
        "sheet": found.sheet,
        "header_row": found.header_row,
        # What the person chose for this sheet, else what its first rows show.
        "date_order": batch.date_order if same else found.date_order,
        "deals": "yes" if tabular.wants_deals(mapping, batch.options if same else {}) else "no",
        "bad_inn": batch.options.get("bad_inn") or "blank",
    }
    for index, header in enumerate(found.headers):
        initial[f"col_{index}"] = mapping.get(header, "")
    return MappingForm(
        data,
        headers=found.headers,
        sheets=found.sheets,
        date_example=found.date_example,
        initial=initial,
    )


@import_admin_required
@require_POST
def import_preview(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Save the mapping (and maybe a template of it), then run the preview in the background."""
    batch = queries.batch_for(batch_id)
    if not batch.dry_run:
        raise Http404("not a preview")
    if batch.file_format in TABULAR:
        try:
            found = _inspection(
                batch, request.POST.get("sheet", ""), _int(request.POST.get("header_row"))
            )
        except UnreadableFile as exc:
            messages.error(request, exc.message)
            return redirect("import_batch", batch_id=batch.pk)
        form = _mapping_form(batch, found, request.POST)
        if not form.is_valid():
            return render(
                request,
                "onboarding/batch.html",
                {"batch": batch, "percent": 0, **_mapping_context(found, form)},
                status=400,
            )
        # The fields an earlier mapping of this preview made stay its own (for the undo).
        created = list(batch.options.get(imports.CREATED_FIELDS) or [])
        try:
            mapping = imports.make_client_fields(
                form.mapping(),
                membership=request.membership,  # type: ignore[attr-defined]
                created=created,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return render(
                request,
                "onboarding/batch.html",
                {"batch": batch, "percent": 0, **_mapping_context(found, form)},
                status=400,
            )
        # What the file was recognised as (a preset, its ids' prefix) and the stages and
        # people already mapped stay; the page's own choices are replaced.
        found.options = {**batch.options, **form.options(), imports.CREATED_FIELDS: created}
        imports.remap(
            batch,
            mapping=mapping,
            sheet=found.sheet,
            header_row=form.cleaned_data["header_row"],
            columns=found.headers,
            # The order chosen on the page; without a question (no typed dates in the deal
            # date column as it was mapped then), what the column mapped now shows.
            date_order=form.cleaned_data["date_order"] or found.dates(mapping).order,
            options=found.options,
            ignored_columns=found.ignored(mapping),
        )
        if form.cleaned_data["save_as"]:
            imports.save_template(
                name=form.cleaned_data["save_as"],
                mapping=mapping,
                # The order this export's typed deal dates were read in (shown by the file or
                # answered on this page); none when the mapped deal-date column has none.
                date_order=batch.date_order if found.dates(mapping).typed else "",
                options=found.options,
            )
            messages.success(request, _("The mapping is saved as a template."))
    imports.queue_batch(batch)
    return redirect("import_batch", batch_id=batch.pk)


@import_admin_required
@require_POST
def import_choices(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The stages, pipelines and people of another CRM mapped on the preview: kept, and the
    preview run again with them."""
    batch = queries.batch_for(batch_id)
    if not batch.dry_run:
        raise Http404("not a preview")
    try:
        batch, invited = switching.choose(
            batch,
            membership=request.membership,  # type: ignore[attr-defined]
            posted=request.POST,
            link=lambda token: public_url(request, invitation_link_path(token)),
        )
    except (ValidationError, imports.UndoRefused) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("import_batch", batch_id=batch.pk)
    for email in invited:
        messages.success(
            request,
            _(
                "Invitation sent to %(email)s; their records are yours until they accept it, "
                "then theirs."
            )
            % {"email": email},
        )
    imports.queue_batch(batch)
    return redirect("import_batch", batch_id=batch.pk)


@import_admin_required
@require_POST
def import_start(request: HttpRequest, batch_id: int) -> HttpResponse:
    preview = queries.batch_for(batch_id)
    try:
        batch = imports.start_from_preview(preview, user_id=request.user.pk)
    except imports.UndoRefused as exc:
        messages.error(request, exc.message)
        return redirect("import_batch", batch_id=preview.pk)
    imports.queue_batch(batch)
    return redirect("import_batch", batch_id=batch.pk)


@import_admin_required
@require_GET
def import_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Polled by htmx while the batch runs; a finished batch reloads the page (its report)."""
    batch = queries.batch_for(batch_id)
    response = render(
        request,
        "onboarding/_progress.html",
        {"batch": batch, "percent": queries.progress_percent(batch)},
    )
    if batch.status not in {ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING}:
        response["HX-Refresh"] = "true"
    return response


@import_admin_required
@require_GET
def import_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = queries.batch_for(batch_id)
    response = HttpResponse(
        imports.report_workbook(batch),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-report.xlsx"'
    return response


@import_admin_required
@require_http_methods(["GET", "POST"])
def import_undo(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Asks first (a page, not a script dialog the CSP would block), undoes only on a POST
    that says so."""
    batch = queries.batch_for(batch_id)
    if request.method == "GET" or request.POST.get("confirm") != "1":
        return render(
            request,
            "onboarding/undo_confirm.html",
            {
                "batch": batch,
                "undoable": imports.undoable(batch),
                "undo_days": imports.UNDO_DAYS,
                "outcome_counts": [c for c in _outcome_counts(batch) if c[2]],
            },
        )
    try:
        kept = imports.undo_batch(batch)
    except imports.UndoRefused as exc:
        messages.error(request, exc.message)
    else:
        if kept:
            messages.warning(
                request,
                ngettext(
                    "The import is undone; %(count)s record changed since was kept (see below).",
                    "The import is undone; %(count)s records changed since were kept (see below).",
                    len(kept),
                )
                % {"count": len(kept)},
            )
        else:
            messages.success(request, _("The import is undone."))
    return redirect("import_batch", batch_id=batch.pk)
