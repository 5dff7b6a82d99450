"""The guided start on the company's host (owners and admins): thin, the steps live in
onboarding.services.setup."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm_core.models import Deal, Pipeline
from crm_core.views import _errors_to_form
from onboarding import lookup
from onboarding.forms import BankForm, DetailsForm, InviteForm
from onboarding.industries import INDUSTRIES
from onboarding.services import setup, templates
from onboarding.views import import_admin_required
from tenants.models import Company, Membership
from tenants.queries.team import open_invitations
from tenants.services.team import TeamError, invitation_link_path
from tenants.urlbuilding import public_url


def _context(request: HttpRequest, step: str, **extra: Any) -> dict[str, Any]:
    row = setup.progress()
    return {
        "step": step,
        "steps": [(s.value, s.label, row.steps.get(s.value, "")) for s in setup.STEPS],
        "progress": row,
        "number": [s.value for s in setup.STEPS].index(step) + 1,
        "total": len(setup.STEPS),
        **extra,
    }


def _next(row: Any) -> HttpResponse:
    step = setup.next_step(row)
    return redirect("setup_step", step=step) if step else redirect("setup_finished")


def _member(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    return membership


@import_admin_required
def setup_start(request: HttpRequest) -> HttpResponse:
    """Where the owner left off (or the summary when every step is behind them)."""
    return _next(setup.progress())


@import_admin_required
def setup_finished(request: HttpRequest) -> HttpResponse:
    return render(request, "onboarding/setup/finished.html", _context(request, "pipeline"))


@import_admin_required
@require_http_methods(["GET", "POST"])
def setup_step(request: HttpRequest, step: str) -> HttpResponse:
    views = {
        "details": _details,
        "bank": _bank,
        "template": _template,
        "import": _import,
        "team": _team,
        "pipeline": _pipeline,
    }
    if step not in views:
        raise Http404("no such step")
    return views[step](request)


@import_admin_required
@require_POST
def setup_skip(request: HttpRequest, step: str) -> HttpResponse:
    try:
        row = setup.mark(_member(request), step, setup.SKIPPED)
    except ValidationError as exc:
        raise Http404("no such step") from exc
    return _next(row)


@import_admin_required
@require_POST
def setup_dismiss(request: HttpRequest) -> HttpResponse:
    setup.dismiss(_member(request))
    messages.info(request, _("You can finish setting up at any time from Settings → Setup."))
    return redirect("/")


@import_admin_required
@require_POST
def setup_resume(request: HttpRequest) -> HttpResponse:
    setup.resume(_member(request))
    return redirect("setup_start")


def _looked_up(request: HttpRequest) -> DetailsForm:
    """The form filled from the lookup source (or just the INN, with the reason said)."""
    inn = request.POST.get("inn", "")
    try:
        found = setup.look_up(inn)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except lookup.LookupFailed:
        messages.warning(
            request, _("The lookup did not answer. Type the details yourself, please.")
        )
    else:
        if found is not None:
            messages.success(request, _("Found by the INN. Check the details and save."))
            return DetailsForm(initial={**found.__dict__, "found": "1"})
        messages.info(request, _("Nothing found for this INN. Type the details, please."))
    return DetailsForm(initial={"inn": inn})


def _details(request: HttpRequest) -> HttpResponse:
    source = lookup.configured()
    if request.method == "POST" and "lookup" in request.POST:
        form = _looked_up(request)
    else:
        form = DetailsForm(request.POST or None, instance_values=setup.details())
        if request.method == "POST" and form.is_valid():
            found = form.cleaned_data.get("found") == "1"
            try:
                setup.save_details(
                    _member(request),
                    form.cleaned_data,
                    source=source.name if source is not None and found else "",
                )
            except ValidationError as exc:
                form.add_error("inn", exc)
            else:
                return _next(setup.progress())
    return render(
        request,
        "onboarding/setup/details.html",
        _context(request, "details", form=form, lookup_source=source),
    )


def _bank(request: HttpRequest) -> HttpResponse:
    form = BankForm(request.POST or None, initial=setup.bank_details())
    if request.method == "POST" and form.is_valid():
        try:
            setup.save_bank_details(_member(request), form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Bank details saved: invoices will print them."))
            return _next(setup.progress())
    return render(request, "onboarding/setup/bank.html", _context(request, "bank", form=form))


def _template(request: HttpRequest) -> HttpResponse:
    company: Company = request.company  # type: ignore[attr-defined]
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in INDUSTRIES:
            industry = templates.apply_industry_template(
                _member(request), company, action, with_sample=bool(request.POST.get("sample"))
            )
            messages.success(
                request, _("The template «%(name)s» is in place.") % {"name": industry.name}
            )
            return _next(setup.progress())
        if action == "add_sample":
            # The sample of the template the pipeline follows (its deals fit its stages).
            pipeline = templates.default_pipeline()
            industry = templates.industry_of(pipeline, company)
            setup.add_sample_data(
                _member(request), company, sample=industry.sample, pipeline=pipeline
            )
            messages.success(request, _("Sample data added."))
        elif action == "remove_sample":
            kept = setup.remove_sample_data(_member(request))
            if kept:
                messages.warning(
                    request,
                    _("Sample data removed; kept because someone worked on it: %(what)s")
                    % {"what": "; ".join(k["label"] for k in kept)},
                )
            else:
                messages.success(request, _("Sample data removed."))
        return redirect("setup_step", step="template")
    return render(
        request,
        "onboarding/setup/template.html",
        _context(
            request,
            "template",
            has_sample=setup.has_sample_data(),
            industries=INDUSTRIES.values(),
            current=templates.industry_of(templates.default_pipeline(), company).key,
        ),
    )


def _import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _next(setup.mark(_member(request), setup.Step.IMPORT, setup.DONE))
    from onboarding.queries import batches

    done = batches().filter(status="done", dry_run=False).exclude(file_format="sample")
    return render(
        request, "onboarding/setup/import.html", _context(request, "import", imports=done[:5])
    )


def _team(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and "finish" in request.POST:
        return _next(setup.mark(_member(request), setup.Step.TEAM, setup.DONE))
    if request.method == "POST" and form.is_valid():
        try:
            setup.invite(
                _member(request),
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                link=lambda token: public_url(request, invitation_link_path(token)),
            )
        except TeamError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
            )
            return redirect("setup_step", step="team")
    invited = open_invitations(_member(request))[:20]
    return render(
        request, "onboarding/setup/team.html", _context(request, "team", form=form, invited=invited)
    )


def _pipeline(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        setup.mark(_member(request), setup.Step.PIPELINE, setup.DONE)
        messages.success(request, _("Your CRM is set up."))
        return redirect("setup_finished")
    pipeline = Pipeline.objects.order_by("-is_default", "position", "id").first()
    stages = []
    if pipeline is not None:
        for stage in pipeline.stages.order_by("position", "id"):
            deals = Deal.objects.filter(stage=stage)
            stages.append((stage, deals.count(), [d.title for d in deals[:3]]))
    return render(
        request,
        "onboarding/setup/pipeline.html",
        _context(request, "pipeline", pipeline=pipeline, stages=stages),
    )
