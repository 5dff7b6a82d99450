"""The clients, contacts and deals lists: saved views, the column chooser, bulk actions.

Thin: reads through ``queries.lists``, writes through ``services.saved_views`` and
``services.bulk``. The bulk job is handed to a worker after its row is committed; the progress
fragment hands it over again when its worker went quiet (a lost message or a killed worker).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from crm_core.access import is_admin, member_required
from crm_core.models import BulkJob, SavedView, Stage
from crm_core.queries.clients import page_of
from crm_core.queries.lists import (
    NOT_FILTERS,
    chosen_columns,
    column_choices,
    default_view,
    filters_only,
    matching,
    saved_views,
    table,
    view_for,
)
from crm_core.queries.members import assignable_members
from crm_core.services import bulk
from crm_core.services.saved_views import delete_view, save_view, set_default, update_view
from relata.inputs import whole_number
from tenants.models import Membership

LIST_URLS = {
    "clients": "clients",
    "contacts": "contacts",
    "deals": "deal_list",
    "tasks": "task_list",
}
MERGE_URLS = {"clients": "client_merge", "contacts": "contact_merge", "deals": "deal_merge"}


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _entity(entity: str) -> str:
    if entity not in LIST_URLS:
        raise Http404("no such list")
    return entity


def view_url(view: SavedView) -> str:
    query = [*((k, v) for k, vs in filters_only(view.query).lists() for v in vs)]
    query += [("col", c) for c in view.columns] + [("view", str(view.pk))]
    return f"{reverse(LIST_URLS[view.entity])}?{urlencode(query)}"


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("With the selected"))
    all_matching = forms.BooleanField(required=False)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    responsible = forms.TypedChoiceField(
        label=gettext_lazy("Manager"), coerce=int, required=False, empty_value=None
    )
    stage: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=gettext_lazy("Stage"), queryset=Stage.objects.none(), required=False
    )
    lost_reason = forms.CharField(
        label=gettext_lazy("Reason for losing"), max_length=300, required=False
    )
    # Won or lost: close the deals' open tasks too, as the deal card and the board offer.
    close_tasks = forms.BooleanField(
        label=gettext_lazy("Also close their open tasks (won or lost stage)"),
        required=False,
        initial=True,
    )
    tag = forms.CharField(label=gettext_lazy("Tag"), max_length=50, required=False)
    title = forms.CharField(label=gettext_lazy("Task"), max_length=300, required=False)
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    shift_days = forms.IntegerField(
        label=gettext_lazy("By days"),
        required=False,
        min_value=-365,
        max_value=365,
        help_text=gettext_lazy("Later: 1, 7; earlier: −1."),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        entity: str,
        membership: Membership,
        members: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if entity in bulk.OTHER_LISTS:
            self._other(bulk.OTHER_LISTS[entity], membership)
            return
        if members is None:
            members = assignable_members(membership)
        actions = [(a, bulk.ACTIONS[a]) for a in bulk.BY_ENTITY[entity]]
        if entity in MERGE_URLS:
            actions.append(("merge", _("Merge (two records)")))
        self.fields["action"].choices = [("", "—"), *actions]  # type: ignore[attr-defined]
        self.fields["responsible"].choices = [("", "—"), *members]  # type: ignore[attr-defined]
        if entity == "deals":
            self.fields["stage"].queryset = Stage.objects.select_related("pipeline")  # type: ignore[attr-defined]
        else:
            for name in ("stage", "lost_reason", "close_tasks"):
                del self.fields[name]
        if entity in {"contacts", "tasks"}:
            for name in ("tag", "title", "deadline"):
                del self.fields[name]
        if entity == "tasks":
            self.fields["responsible"].label = gettext_lazy("Assignee")
        else:
            del self.fields["shift_days"]

    def _other(self, other: bulk.OtherList, membership: Membership) -> None:
        """Another part's list: its actions, and its inputs in place of these (each tells
        the bulk bar which actions show it)."""
        self.fields["action"].choices = [("", "—"), *other.actions.items()]  # type: ignore[attr-defined]
        for name in ("responsible", "stage", "lost_reason", "tag", "title", "deadline"):
            del self.fields[name]
        del self.fields["shift_days"]
        for name, (field, actions) in other.fields(membership).items():
            field.bulk_actions = " ".join(actions)
            self.fields[name] = field


def render_list(
    request: HttpRequest, entity: str, template: str, extra: dict[str, Any] | None = None
) -> HttpResponseBase:
    """One of the three lists: its saved views, filters, chosen columns, a page, bulk actions
    (and what the list's own page adds: ``extra``)."""
    membership = _membership(request)
    views = saved_views(membership, entity)
    if not request.GET:
        start = default_view(membership, views)
        if start is not None:
            return redirect(view_url(start))
    members = assignable_members(membership)
    listing = matching(membership, entity, request.GET, members)
    records = listing.records
    if entity == "tasks":
        records = records.select_related("assignee")
    elif entity != "contacts":
        records = records.select_related("responsible")
    else:
        records = records.select_related("responsible", "client")
    page = page_of(records, request.GET.get("page"))
    chosen = chosen_columns(entity, request.GET.getlist("col"), listing.fields)
    header, cells = table(entity, page.items, chosen, listing.fields)
    rows = list(zip(page.items, cells, strict=True))
    active = whole_number(request.GET.get("view"))
    query = request.GET.copy()
    query.pop("page", None)
    filters = filters_only(request.GET).urlencode()
    return render(
        request,
        template,
        {
            "entity": entity,
            "table_id": {
                "clients": "client-list",
                "contacts": "contact-list",
                "tasks": "task-list",
            }.get(entity, "deal-list"),
            "form": listing.form,
            "page": page,
            "query": query.urlencode(),
            "filters": filters,
            "views": [(v, view_url(v), v.pk == active) for v in views],
            # The filter form opens (and is drawn) only for a list the person filtered; folded,
            # it is fetched when opened (list_filters): drawn on every page of every list it
            # was a fifth of the list's CPU. Paging or a tab is not filtering.
            "filters_open": _filtering(request),
            "active_view": next((v for v in views if v.pk == active), None),
            "may_share": is_admin(membership),
            "columns": column_choices(entity, listing.fields, chosen),
            "chosen": chosen,
            "header": header,
            "rows": rows,
            "rows_html": rows_html(entity, rows),
            # Prefixed: the filter form on the same page has a "responsible" of its own.
            "bulk_form": BulkForm(
                entity=entity,
                membership=membership,
                members=members,
                initial={"query": filters},
                prefix="bulk",
            ),
            **(extra or {}),
        },
    )


ROW_LINKS = {"clients": "client_detail", "contacts": "contact_edit", "tasks": "task_detail"}


# A list page shows 50 rows of up to ten cells. Through the template (a URL reversed, a
# translation and ~15 variable look-ups per row) they were a third of the page's CPU; written
# here they cost a few calls per cell. The escaping and number localisation are the
# template's own (conditional_escape, localize), so the markup reads the same.
def rows_html(entity: str, rows: list[tuple[Any, list[tuple[Any, str]]]]) -> list[SafeString]:
    """Each row of a list's table, as markup."""
    pattern = reverse(ROW_LINKS.get(entity, "deal_detail"), args=[0]).replace("/0/", "/{}/", 1)
    tick = conditional_escape(_("Tick"))
    out = []
    for record, cells in rows:
        if entity == "clients":
            name = record.name
        elif entity == "contacts":
            name = str(record)
        else:
            name = record.title
        tds = "".join(
            f'<td><a href="{conditional_escape(link)}">{_cell(text)}</a></td>'
            if link
            else f"<td>{_cell(text)}</td>"
            for text, link in cells
        )
        out.append(
            SafeString(
                '<tr><td class="pick"><input type="checkbox" name="ids" '
                f'value="{conditional_escape(record.pk)}" form="bulk-form" class="bulk-row" '
                f'aria-label="{tick} {conditional_escape(str(record))}"></td>\n'
                f'    <td><a href="{conditional_escape(pattern.format(record.pk))}">'
                f"{conditional_escape(name)}</a></td>\n    {tds}</tr>"
            )
        )
    return out


def _cell(text: Any) -> str:
    # `{{ text }}`: numbers and dates localised, then escaped unless already safe.
    return str(conditional_escape(text if isinstance(text, str) else localize(text)))


def _filtering(request: HttpRequest) -> bool:
    return any(
        value
        for key, value in request.GET.items()
        if key not in NOT_FILTERS and key != "relationship"
    )


@member_required
@require_GET
def list_filters(request: HttpRequest, entity: str) -> HttpResponse:
    """A list's folded "Filters and columns" form, fetched when the person opens it."""
    membership = _membership(request)
    entity = _entity(entity)
    listing = matching(membership, entity, request.GET, assignable_members(membership))
    chosen = chosen_columns(entity, request.GET.getlist("col"), listing.fields)
    active = whole_number(request.GET.get("view"))
    return render(
        request,
        "crm_core/lists/_filters.html",
        {
            "form": listing.form,
            "columns": column_choices(entity, listing.fields, chosen),
            "active_view": next(
                (v for v in saved_views(membership, entity) if v.pk == active), None
            ),
        },
    )


def _to_list(entity: str, query: str) -> HttpResponse:
    return redirect(f"{reverse(LIST_URLS[entity])}?{query}")


@member_required
@require_POST
def view_save(request: HttpRequest, entity: str) -> HttpResponse:
    """Save the list as it is now (the URL's filters, sort and columns) as a new view."""
    membership = _membership(request)
    entity = _entity(entity)
    query = request.POST.get("query", "")
    columns = [c for c in request.POST.get("columns", "").split(",") if c]
    try:
        view = save_view(
            membership=membership,
            entity=entity,
            name=request.POST.get("name", ""),
            query=query,
            columns=columns,
            shared=request.POST.get("shared") == "on",
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(_texts(exc)))
        return _to_list(entity, request.POST.get("current", ""))
    messages.success(request, _("View saved."))
    return redirect(view_url(view))


def _texts(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    return [str(exc) if str(exc) else _("You may not do this.")]


@member_required
@require_POST
def view_change(request: HttpRequest, view_id: int) -> HttpResponse:
    """Rename, update with the current list, share or unshare, make default, or delete."""
    membership = _membership(request)
    what = request.POST.get("do", "")
    view = view_for(membership, view_id, to_change=what not in {"default", "no_default"})
    try:
        if what == "rename":
            update_view(membership=membership, view=view, name=request.POST.get("name", ""))
        elif what == "update":
            columns = [c for c in request.POST.get("columns", "").split(",") if c]
            update_view(
                membership=membership,
                view=view,
                query=request.POST.get("query", ""),
                columns=columns,
            )
        elif what in {"share", "unshare"}:
            update_view(membership=membership, view=view, shared=what == "share")
        elif what == "default":
            set_default(membership=membership, view=view, entity=view.entity)
        elif what == "no_default":
            set_default(membership=membership, view=None, entity=view.entity)
        elif what == "delete":
            entity = view.entity
            delete_view(membership=membership, view=view)
            messages.success(request, _("View deleted."))
            return redirect(f"{reverse(LIST_URLS[entity])}?view=all")
        else:
            raise Http404("unknown change")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(_texts(exc)))
    else:
        messages.success(request, _("Saved."))
    return redirect(view_url(view))


@member_required
@require_GET
def bulk_count(request: HttpRequest, entity: str) -> HttpResponse:
    """How many records match the list's filters (asked for only when the person selects them
    all: the pages themselves never count a list of a million)."""
    membership, entity = _membership(request), _entity(entity)
    if entity in bulk.OTHER_LISTS:
        found = bulk.OTHER_LISTS[entity].select(membership, request.GET.urlencode(), [], True)
        return render(request, "crm_core/_bulk_count.html", {"count": found.count()})
    listing = matching(membership, entity, request.GET)
    return render(
        request,
        "crm_core/_bulk_count.html",
        {"count": listing.records.order_by().count()},
    )


@member_required
@require_POST
def bulk_start(request: HttpRequest, entity: str) -> HttpResponse:
    membership = _membership(request)
    entity = _entity(entity)
    form = BulkForm(request.POST, entity=entity, membership=membership, prefix="bulk")
    ids = [n for n in (whole_number(v) for v in request.POST.getlist("ids")) if n]
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for es in form.errors.values() for e in es))
        return _to_list(entity, request.POST.get("current", ""))
    data = form.cleaned_data
    query = data["query"] or ""
    if data["action"] == "merge" and entity in MERGE_URLS:
        if data["all_matching"] or len(ids) != 2:
            messages.error(request, _("Tick exactly two records to merge them."))
            return _to_list(entity, request.POST.get("current", ""))
        return redirect(MERGE_URLS[entity], ids[0], ids[1])
    if data["action"] == "delete" and not data["confirm"]:
        listing = bulk.preview_count(membership, entity, query, ids, data["all_matching"])
        return render(
            request,
            "crm_core/bulk_confirm.html",
            {
                "form": form,
                "ids": ids,
                "count": listing,
                "entity": entity,
                "back": f"{reverse(LIST_URLS[entity])}?{request.POST.get('current', '')}",
            },
        )
    try:
        job = bulk.start_bulk_job(
            membership=membership,
            entity=entity,
            action=data["action"],
            query=query,
            ids=ids,
            all_matching=data["all_matching"],
            params=data,
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(_texts(exc)))
        return _to_list(entity, request.POST.get("current", ""))
    transaction.on_commit(lambda: _dispatch(job.pk))
    return redirect("bulk_job", job.pk)


def _dispatch(job_id: int) -> bool:
    """Hand the job to a worker; the row is the truth, so a broker that is down only delays it
    (the progress fragment hands it over again)."""
    from crm_core.tasks import run_bulk_job

    try:
        run_bulk_job.delay(job_id)
    except Exception:
        return False
    return True


@member_required
@require_GET
def bulk_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = bulk.job_for(_membership(request), job_id)
    if request.htmx and _stalled(job):  # type: ignore[attr-defined]
        _dispatch(job.pk)
    template = "crm_core/_bulk_progress.html" if request.htmx else "crm_core/bulk_job.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {
            "job": job,
            "label": bulk.ACTIONS.get(job.action, job.action),
            "list_url": reverse(LIST_URLS[job.entity]) + (f"?{job.query}" if job.query else ""),
            "running": job.status in {BulkJob.Status.PENDING, BulkJob.Status.RUNNING},
        },
    )


def _stalled(job: BulkJob) -> bool:
    if job.status not in {BulkJob.Status.PENDING, BulkJob.Status.RUNNING}:
        return False
    last = job.heartbeat_at or job.created_at
    return timezone.now() - last > bulk.STALE_AFTER


@member_required
@require_GET
def bulk_file(request: HttpRequest, job_id: int) -> FileResponse:
    job = bulk.job_for(_membership(request), job_id)
    if job.action != "export" or job.status != BulkJob.Status.DONE or not job.file:
        raise Http404("no file")
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=f"{job.entity}-{job.pk}.xlsx"
    )
