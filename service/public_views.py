"""The help centre's pages for the company's customers (no account): submit a request, follow
one's tickets through the magic link and answer there, rate a solved ticket; and the company's
colour and logo for those pages.

Only on a company host. The request and magic-link pages exist only when the company opened
its help centre to requests (settings); a link of another company, a forged one or an expired
one is a 404 like a missing page, so nothing tells a visitor what exists.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from knowledge.public_views import branding
from service.forms import CustomerReplyForm, HelpRequestForm, LinkForm, SurveyForm
from service.models import ServiceSettings, Ticket, TicketMessage
from service.services import customers, links
from tenants.models import Company
from tenants.services.network import client_ip

HONEYPOT = "website"


def _company(request: HttpRequest) -> Company:
    company = getattr(request, "company", None)
    if company is None:
        raise Http404("not a company host")
    return company


def _open_centre(request: HttpRequest) -> ServiceSettings:
    _company(request)
    row = ServiceSettings.current()
    if not row.help_requests:
        raise Http404("the help centre takes no requests")
    return row


def _render(
    request: HttpRequest, template: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    company = _company(request)
    # One help centre: its name, colour and logo are the knowledge base's help-centre settings.
    context = {"company": company, **branding(company), **context}
    response = render(request, template, context, status=status)
    # Links with tokens in their path: never sent on to another site, never cached by proxies.
    # ("no-referrer" would also make the browser send "Origin: null" with the page's own forms,
    # which Django's CSRF check rightly refuses.)
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def help_request(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    _open_centre(request)
    form = HelpRequestForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = customers.submit_request(
                    company=company,
                    name=data["name"],
                    email=data["email"],
                    subject=data["subject"],
                    text=data["text"],
                    ip=client_ip(request),
                    honeypot=request.POST.get(HONEYPOT, ""),
                )
            except ValidationError as exc:
                status = 400
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            except customers.RefusedError as exc:
                status = 429
                form.add_error(None, str(exc))
            else:
                return _render(
                    request,
                    "service/public/request_sent.html",
                    {"number": ticket.number if ticket else None},
                )
        else:
            status = 400
    return _render(
        request, "service/public/request.html", {"form": form, "honeypot": HONEYPOT}, status
    )


@require_http_methods(["GET", "POST"])
def help_my_link(request: HttpRequest) -> HttpResponse:
    """A new magic link by e-mail, for someone who lost the letter."""
    company = _company(request)
    _open_centre(request)
    form = LinkForm(request.POST if request.method == "POST" else None)
    status, sent = 200, False
    if request.method == "POST":
        if form.is_valid():
            try:
                customers.resend_link(
                    company=company,
                    email=form.cleaned_data["email"],
                    ip=client_ip(request),
                    honeypot=request.POST.get(HONEYPOT, ""),
                )
            except ValidationError as exc:
                status = 400
                form.add_error("email", exc.messages)
            except customers.RefusedError as exc:
                status = 429
                form.add_error(None, str(exc))
            else:
                sent = True
        else:
            status = 400
    return _render(
        request,
        "service/public/my_link.html",
        {"form": form, "sent": sent, "honeypot": HONEYPOT},
        status,
    )


def _email_of(token: str) -> str:
    email = links.magic_email(token)
    if email is None:
        raise Http404("no such link")
    return email


@require_GET
def help_my(request: HttpRequest, token: str) -> HttpResponse:
    _open_centre(request)
    email = _email_of(token)
    return _render(
        request,
        "service/public/my.html",
        {"tickets": customers.tickets_of(email), "token": token, "email": email},
    )


@require_http_methods(["GET", "POST"])
def help_my_ticket(request: HttpRequest, token: str, ticket_id: int) -> HttpResponseBase:
    company = _company(request)
    _open_centre(request)
    email = _email_of(token)
    ticket = Ticket.objects.filter(
        pk=ticket_id, requester_email=email, merged_into__isnull=True
    ).first()
    if ticket is None:
        raise Http404("no such ticket")
    form = CustomerReplyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                answered = customers.customer_reply(
                    company=company, email=email, ticket=ticket, text=form.cleaned_data["text"]
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
                status = 400
            else:
                messages.success(request, _("Thank you, we have your message."))
                return redirect("help_my_ticket", token, answered.pk)
        else:
            status = 400
    thread = TicketMessage.objects.filter(ticket=ticket).exclude(kind=TicketMessage.Kind.NOTE)
    return _render(
        request,
        "service/public/my_ticket.html",
        {
            "ticket": ticket,
            "thread": thread.order_by("created_at", "id"),
            "form": form,
            "token": token,
        },
        status,
    )


@require_http_methods(["GET", "POST"])
def help_survey(request: HttpRequest, token: str) -> HttpResponse:
    _company(request)
    ticket_id = links.survey_ticket_id(token)
    ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
    if ticket is None:
        raise Http404("no such survey")
    initial = {"rating": request.GET.get("rating")} if request.GET.get("rating") else None
    form = SurveyForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                customers.answer_survey(
                    ticket=ticket,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
                status = 400
            else:
                return _render(request, "service/public/survey_thanks.html", {"ticket": ticket})
        else:
            status = 400
    return _render(request, "service/public/survey.html", {"ticket": ticket, "form": form}, status)
