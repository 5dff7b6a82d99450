"""Pages of the documents app: templates and requisites (admins), generation and download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from crm_core.documents.forms import GenerateForm, PaidForm, RequisitesForm, TemplateForm
from crm_core.documents.models import DocumentTemplate
from crm_core.documents.queries import usable_templates, visible_documents
from crm_core.documents.services import values
from crm_core.documents.services.bank import missing_requisites
from crm_core.documents.services.documents import generate
from crm_core.documents.services.payments import mark_paid_by_hand
from crm_core.documents.services.setup import save_requisites, save_template
from crm_core.queries.deals import deal_for
from crm_core.services import once
from crm_core.views import _errors_to_form, _fail, _membership


def _admins_only(request: HttpRequest) -> None:
    if not is_admin(_membership(request)):
        raise Http404("owners and admins only")


@member_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    _admins_only(request)
    return render(
        request,
        "documents/templates.html",
        {"templates": DocumentTemplate.objects.all(), "requisites": values.requisites()},
    )


@member_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    _admins_only(request)
    template = get_object_or_404(DocumentTemplate, pk=template_id) if template_id else None
    initial = (
        {
            "name": template.name,
            "kind": template.kind,
            "vat_rate": template.vat_rate,
            "body": template.body,
            "is_active": template.is_active,
        }
        if template
        else {"is_active": True}
    )
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_template(
                membership=_membership(request), template=template, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
            return redirect("document_templates")
    return render(
        request,
        "documents/template_edit.html",
        {"form": form, "template": template, "placeholders": values.placeholders()},
    )


@member_required
@require_http_methods(["GET", "POST"])
def requisites_edit(request: HttpRequest) -> HttpResponse:
    _admins_only(request)
    form = RequisitesForm(request.POST or None, instance=values.requisites())
    if request.method == "POST" and form.is_valid():
        try:
            save_requisites(membership=_membership(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Company requisites saved."))
            back = request.POST.get("next", "")
            if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                return redirect(back)
            return redirect("document_templates")
    return render(
        request,
        "documents/requisites.html",
        {"form": form, "next": request.GET.get("next", request.POST.get("next", ""))},
    )


@member_required
@require_POST
def deal_document(request: HttpRequest, deal_id: int) -> HttpResponse:
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    form = GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a template."))
        return redirect("deal_detail", deal_id=deal.pk)
    template = get_object_or_404(usable_templates(), pk=form.cleaned_data["template"])
    missing = missing_requisites(values.requisites(), template.kind)
    if missing and request.POST.get("confirm") != "1":
        # Blank bank details make an invoice nobody can pay: say so, offer to fill them in,
        # and issue anyway only when the person confirms (a number is taken then).
        return render(
            request,
            "documents/confirm_issue.html",
            {
                "deal": deal,
                "template": template,
                "missing": missing,
                "may_fill": is_admin(membership),
            },
        )
    try:
        with once.acting_once(request.POST.get(once.FIELD)):
            document = generate(membership=membership, deal=deal, template=template)
    except once.AlreadySubmittedError:
        messages.info(request, _("This document was already made from this page: see the list."))
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("%(document)s is ready.") % {"document": document})
    return redirect("deal_detail", deal_id=deal.pk)


@member_required
@require_POST
def invoice_paid(request: HttpRequest, document_id: int) -> HttpResponse:
    """An invoice marked paid by hand on its deal's card (a payment 1C does not report)."""
    membership = _membership(request)
    invoice = get_object_or_404(
        visible_documents(membership).select_related("deal"), pk=document_id
    )
    form = PaidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the sum paid as a number, or leave it blank."))
        return redirect("deal_detail", deal_id=invoice.deal_id)
    try:
        mark_paid_by_hand(
            membership=membership, invoice=invoice, amount=form.cleaned_data["amount"]
        )
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("%(document)s is marked paid.") % {"document": invoice})
    return redirect("deal_detail", deal_id=invoice.deal_id)


@member_required
@require_GET
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    """Only for members who see the document's deal; anyone else gets 404, as for the deal."""
    document = get_object_or_404(
        visible_documents(_membership(request)).select_related("attachment"), pk=document_id
    )
    attachment = document.attachment
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type="application/pdf",
    )
