"""The sales targets grid (owners and admins): a row per manager, team and the company, a
column per month of the year; one save writes the whole grid (services/targets.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm_core.access import is_admin, member_required
from crm_core.models import SalesTarget, Team
from crm_core.queries.members import assignable_members
from crm_core.queries.targets import months_of, owner_key, target_grid
from crm_core.services.targets import TargetCell, save_targets
from crm_core.views import _membership


@dataclass
class Cell:
    name: str  # the input's name: "<row key>-<month>"
    month: date
    text: str
    error: str = ""


@dataclass
class Row:
    key: str
    label: str
    group: str
    user_id: int | None = None
    team_id: int | None = None
    cells: list[Cell] = field(default_factory=list)


def _rows(request: HttpRequest) -> list[Row]:
    rows = [Row("c", _("Whole company"), "company")]
    rows += [Row(f"t{t.pk}", t.name, "teams", team_id=t.pk) for t in Team.objects.all()]
    rows += [
        Row(f"u{user_id}", name, "managers", user_id=user_id)
        for user_id, name in sorted(
            assignable_members(_membership(request)), key=lambda member: member[1].lower()
        )
    ]
    return rows


def _number(text: str) -> Decimal | None:
    text = text.replace("\N{NO-BREAK SPACE}", "").replace(" ", "").replace(",", ".").strip()
    if not text:
        return None
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def _year(request: HttpRequest) -> int:
    text = request.GET.get("year", "")
    year = int(text) if text.isdigit() else timezone.localdate().year
    if not 2000 <= year <= 2100:
        raise Http404("no such year")
    return year


@member_required
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if not is_admin(membership):
        raise Http404("owners and admins only")
    year = _year(request)
    kind = request.GET.get("kind", SalesTarget.Kind.AMOUNT)
    if kind not in SalesTarget.Kind.values:
        kind = SalesTarget.Kind.AMOUNT
    rows = _rows(request)
    months = months_of(year)
    saved = target_grid(year, kind)
    posted = request.method == "POST"
    wanted: list[TargetCell] = []
    bad = 0
    for row in rows:
        for month in months:
            name = f"{row.key}-{month:%Y-%m}"
            value = saved.get((owner_key(row.user_id, row.team_id), month))
            text = request.POST.get(name, "") if posted else _shown(value)
            cell = Cell(name, month, text)
            row.cells.append(cell)
            if not posted:
                continue
            try:
                number = _number(text)
            except (InvalidOperation, ValueError):
                cell.error = _("Not a number")
                bad += 1
                continue
            if number is not None and number < 0:
                cell.error = _("Not below zero")
                bad += 1
                continue
            if kind == SalesTarget.Kind.WON_DEALS and number is not None and number % 1:
                cell.error = _("A whole number")
                bad += 1
                continue
            wanted.append(TargetCell(month, number, row.user_id, row.team_id))
    status = 200
    if posted and bad:
        messages.error(request, _("Some cells are not numbers; nothing was saved."))
        status = 400
    elif posted:
        try:
            changed = save_targets(
                membership=membership,
                kind=kind,
                cells=wanted,
                member_ids={row.user_id for row in rows if row.user_id is not None},
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            status = 400
        else:
            messages.success(request, _("Targets saved: %(n)s changed.") % {"n": changed})
            return redirect(f"{reverse('sales_targets')}?year={year}&kind={kind}")
    return render(
        request,
        "crm_core/targets.html",
        {
            "rows": rows,
            "months": months,
            "year": year,
            "kind": kind,
            "kinds": SalesTarget.Kind.choices,
            "currency": request.company.currency,  # type: ignore[attr-defined]
        },
        status=status,
    )


def _shown(value: Decimal | None) -> str:
    if value is None:
        return ""
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)
