"""The pipeline editor (owners and admins): pipelines, their stages, colours, probabilities,
order, won/lost, default and archive. Thin: every change is a service in
crm_core.services.pipelines."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from crm_core.board_views import colours_version
from crm_core.models import Deal, DealTotal, Pipeline, Stage
from crm_core.pipeline_forms import DeleteStageForm, PipelineNameForm, StageForm
from crm_core.services import pipelines as service
from crm_core.services.limits import PlanLimitReachedError
from crm_core.services.once import FIELD, AlreadySubmittedError, acting_once
from crm_core.views import _errors_to_form, _fail, _membership


def _admins_only(request: HttpRequest) -> None:
    if not is_admin(_membership(request)):
        raise Http404("owners and admins only")


@member_required
@require_http_methods(["GET", "POST"])
def pipeline_list(request: HttpRequest) -> HttpResponse:
    _admins_only(request)
    form = PipelineNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with acting_once(request.POST.get(FIELD)):
                pipeline = service.add_pipeline(
                    membership=_membership(request),
                    company=request.company,  # type: ignore[attr-defined]
                    name=form.cleaned_data["name"],
                )
        except AlreadySubmittedError:
            return redirect("pipelines")
        except PlanLimitReachedError as exc:
            # Nothing to correct in the form: the plan is full. Say so with the way to a
            # larger plan (the page's messages add "Choose a plan" for this tag).
            _fail(request, exc)
            return redirect("pipelines")
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Pipeline “%(name)s” added.") % {"name": pipeline.name})
            return redirect("pipeline_edit", pipeline.pk)
    pipelines = list(Pipeline.objects.order_by("is_archived", "position", "id"))
    counts = _deal_counts("pipeline_id", DealTotal.objects.all())
    for pipeline in pipelines:
        pipeline.deal_count = counts.get(pipeline.pk, 0)  # type: ignore[attr-defined]
    return render(request, "crm_core/pipelines.html", {"form": form, "pipelines": pipelines})


def _deal_counts(by: str, totals: QuerySet[DealTotal]) -> dict[int, int]:
    """Deals per pipeline or stage from the trigger-kept totals (the board's column heads'
    source): a few hundred rows instead of counting every deal (50 ms at 200,000)."""
    return {
        key: int(n or 0) for key, n in totals.order_by().values_list(by).annotate(n=Sum("deals"))
    }


def _edit_page(
    request: HttpRequest,
    pipeline: Pipeline,
    *,
    name_form: PipelineNameForm | None = None,
    new_stage: StageForm | None = None,
    bad_stage: tuple[int, StageForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    stages = list(service.live_stages(pipeline))
    counts = _deal_counts("stage_id", DealTotal.objects.filter(pipeline=pipeline))
    rows = []
    for stage in stages:
        form = (
            bad_stage[1]
            if bad_stage and bad_stage[0] == stage.pk
            else StageForm(
                initial={
                    "name": stage.name,
                    "color": stage.color,
                    "probability": stage.probability,
                    "outcome": stage.outcome,
                },
                prefix=f"stage-{stage.pk}",
            )
        )
        rows.append({"stage": stage, "form": form, "deals": counts.get(stage.pk, 0)})
    return render(
        request,
        "crm_core/pipeline_edit.html",
        {
            "pipeline": pipeline,
            "rows": rows,
            "name_form": name_form or PipelineNameForm(initial={"name": pipeline.name}),
            "new_stage": new_stage or StageForm(prefix="new"),
            "colours_version": colours_version(stages),
        },
        status=status,
    )


@member_required
@require_http_methods(["GET", "POST"])
def pipeline_edit(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    """One pipeline's page; each of its forms posts here with an ``action``."""
    _admins_only(request)
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    if request.method == "GET":
        return _edit_page(request, pipeline)
    handler = _ACTIONS.get(request.POST.get("action", ""))
    if handler is None:
        messages.error(request, _("Choose what to do."))
        return redirect("pipeline_edit", pipeline.pk)
    try:
        answer = handler(request, pipeline)
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        if answer is not None:
            return answer
        messages.success(request, _("Saved."))
    return redirect("pipeline_edit", pipeline.pk)


def _rename(request: HttpRequest, pipeline: Pipeline) -> HttpResponse | None:
    form = PipelineNameForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, pipeline, name_form=form, status=400)
    service.rename_pipeline(
        membership=_membership(request), pipeline=pipeline, name=form.cleaned_data["name"]
    )
    return None


def _make_default(request: HttpRequest, pipeline: Pipeline) -> HttpResponse | None:
    service.set_default_pipeline(membership=_membership(request), pipeline=pipeline)
    return None


def _archive(request: HttpRequest, pipeline: Pipeline) -> HttpResponse | None:
    service.archive_pipeline(
        membership=_membership(request),
        pipeline=pipeline,
        archived=request.POST.get("action") == "archive",
    )
    return None


def _add_stage(request: HttpRequest, pipeline: Pipeline) -> HttpResponse | None:
    form = StageForm(request.POST, prefix="new")
    if not form.is_valid():
        return _edit_page(request, pipeline, new_stage=form, status=400)
    try:
        with acting_once(request.POST.get(FIELD)):
            service.add_stage(
                membership=_membership(request), pipeline=pipeline, **form.cleaned_data
            )
    except AlreadySubmittedError:
        return redirect("pipeline_edit", pipeline.pk)
    except ValidationError as exc:
        _errors_to_form(form, exc)
        return _edit_page(request, pipeline, new_stage=form, status=400)
    return None


def _change_stage(request: HttpRequest, pipeline: Pipeline) -> HttpResponse | None:
    stage = _stage_of(pipeline, request.POST.get("stage"))
    form = StageForm(request.POST, prefix=f"stage-{stage.pk}")
    if not form.is_valid():
        return _edit_page(request, pipeline, bad_stage=(stage.pk, form), status=400)
    try:
        service.change_stage(membership=_membership(request), stage=stage, **form.cleaned_data)
    except ValidationError as exc:
        _errors_to_form(form, exc)
        return _edit_page(request, pipeline, bad_stage=(stage.pk, form), status=400)
    return None


def _move_stage(request: HttpRequest, pipeline: Pipeline) -> HttpResponse | None:
    stage = _stage_of(pipeline, request.POST.get("stage"))
    step = -1 if request.POST.get("action") == "left" else 1
    service.move_stage(membership=_membership(request), stage=stage, step=step)
    return None


_ACTIONS: dict[str, Callable[[HttpRequest, Pipeline], HttpResponse | None]] = {
    "rename": _rename,
    "default": _make_default,
    "archive": _archive,
    "restore": _archive,
    "add_stage": _add_stage,
    "stage": _change_stage,
    "left": _move_stage,
    "right": _move_stage,
}


def _stage_of(pipeline: Pipeline, value: str | None) -> Stage:
    if not (value or "").isdigit():
        raise Http404("no such stage")
    return get_object_or_404(Stage, pk=int(value or 0), pipeline=pipeline, is_archived=False)


@member_required
@require_POST
def stage_order(request: HttpRequest, pipeline_id: int) -> JsonResponse:
    """The editor's drag and drop: the stages' ids in their new order, as JSON."""
    _admins_only(request)
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    try:
        ids = [int(pk) for pk in json.loads(request.body or b"{}").get("order", [])]
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"error": _("The new order could not be read.")}, status=400)
    try:
        service.reorder_stages(membership=_membership(request), pipeline=pipeline, stage_ids=ids)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=409)
    return JsonResponse({"order": ids})


@member_required
@require_http_methods(["GET", "POST"])
def stage_delete(request: HttpRequest, stage_id: int) -> HttpResponse:
    """Removing a stage: when deals are at it, the page asks where they go first."""
    _admins_only(request)
    stage = get_object_or_404(
        Stage.objects.select_related("pipeline"), pk=stage_id, is_archived=False
    )
    deals = Deal.objects.filter(stage=stage).count()
    form = DeleteStageForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            service.delete_stage(
                membership=_membership(request),
                stage=stage,
                move_to=form.cleaned_data["move_to"],
                lost_reason=form.cleaned_data["lost_reason"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Stage “%(name)s” removed.") % {"name": stage.name})
            return redirect("pipeline_edit", stage.pipeline_id)
    return render(
        request,
        "crm_core/stage_delete.html",
        {"stage": stage, "deals": deals, "form": form},
        status=400 if form.errors else 200,
    )
