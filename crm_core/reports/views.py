"""Report pages: thin — the filter form, one query function, a table, an SVG chart, Excel."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm_core.access import member_required
from crm_core.exports import xlsx_response
from crm_core.reports.forms import ReportFilterForm
from crm_core.reports.queries import LOOKING_AHEAD, REPORTS, Report, scope_for
from tenants.models import Membership


def _report(request: HttpRequest, key: str) -> tuple[ReportFilterForm, Report | None]:
    if key not in REPORTS:
        raise Http404("no such report")
    membership: Membership = request.membership  # type: ignore[attr-defined]
    form = ReportFilterForm.from_query(request.GET, ahead=key in LOOKING_AHEAD)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    scope = scope_for(
        membership,
        request.company,  # type: ignore[attr-defined]
        date_from=data["date_from"],
        date_to=data["date_to"],
        pipeline=data.get("pipeline"),
        team=data.get("team"),
    )
    result = REPORTS[key][1](scope)
    result.rates = scope.rates  # the amounts are in its base currency, at its day's rates
    return form, result


@member_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"reports": REPORTS})


@member_required
@require_GET
def report(request: HttpRequest, key: str) -> HttpResponse:
    form, result = _report(request, key)
    return render(
        request,
        "reports/report.html",
        {"form": form, "report": result, "key": key, "reports": REPORTS},
    )


@member_required
@require_GET
def report_export(request: HttpRequest, key: str) -> HttpResponseBase:
    form, result = _report(request, key)
    if result is None:
        return render(
            request,
            "reports/report.html",
            {"form": form, "report": None, "key": key, "reports": REPORTS},
            status=400,
        )
    return xlsx_response(
        f"{key}.xlsx", result.title or _("Report"), [str(h) for h in result.headers], result.rows
    )
