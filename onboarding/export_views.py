"""The full export on the company's host: owners and admins only."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from onboarding.models import ExportJob
from onboarding.services.exports import request_export
from onboarding.tasks import build_export
from onboarding.views import import_admin_required


@import_admin_required
@require_http_methods(["GET", "POST"])
def export_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        job = request_export(user_id=request.user.pk)
        build_export.delay(job.pk)
        return redirect("export_list")
    jobs = ExportJob.objects.all()[:50]
    running = any(j.status in {ExportJob.Status.PENDING, ExportJob.Status.RUNNING} for j in jobs)
    template = "onboarding/_exports.html" if request.htmx else "onboarding/exports.html"  # type: ignore[attr-defined]
    return render(request, template, {"jobs": jobs, "running": running})


@import_admin_required
@require_GET
def export_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.DONE).first()
    if job is None or not job.file:
        raise Http404("no such export")
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=(job.file.name or "export.zip").rsplit("/", 1)[-1],
    )
