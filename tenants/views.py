"""Sign-up, the company chooser and the handoff between hosts. Thin: logic is in services."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants.forms import SignupForm
from tenants.models import Company, Membership, User
from tenants.queries.memberships import active_membership, closed_companies_for, companies_for
from tenants.services import handoff, support
from tenants.services.network import client_ip, set_allowlist
from tenants.services.provisioning import SignupError, create_company
from tenants.urlbuilding import company_url, public_url

AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"
# A new company starts in the guided setup on its own host (every step can be skipped).
_SETUP = reverse_lazy("setup_start", urlconf="relata.urls_tenant")


def _into_company(
    request: HttpRequest, user: User, company: Company, *, then: str = ""
) -> HttpResponseRedirect:
    """Into the company's own host through a single-use handoff; `then` is the page there
    to land on (the home page when empty)."""
    token = handoff.issue(user=user, company=company)
    query = f"?{urlencode({'next': then})}" if then else ""
    return HttpResponseRedirect(company_url(request, company, f"/handoff/{token}/{query}"))


def _repeated_signup(request: HttpRequest) -> HttpResponseRedirect | None:
    """The same sign-up form submitted again (double click, back + resubmit): if its first
    submission created the company and the credentials match its owner, go there."""
    key = request.POST.get("signup_key", "")
    try:
        company = Company.objects.filter(signup_key=key).first()
    except Exception:
        return None
    if company is None:
        return None
    user = authenticate(
        request, email=request.POST.get("email", ""), password=request.POST.get("password", "")
    )
    if user is None or active_membership(user=user, company=company) is None:
        return None
    login(request, user, backend=AUTH_BACKEND)
    return _into_company(request, user, company, then=str(_SETUP))


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        repeated = _repeated_signup(request)
        if repeated is not None:
            return repeated
        form = SignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = create_company(
                    name=data["company_name"],
                    slug=data["slug"],
                    owner_email=data["email"],
                    owner_password=data["password"],
                    language=get_language() or "ru",
                    signup_key=data["signup_key"],
                )
            except SignupError as exc:
                # A twin of this very submission (a double click) may have won the race for
                # the address a moment ago: then this one lands in the same workspace.
                repeated = _repeated_signup(request)
                if repeated is not None:
                    return repeated
                form.add_error("slug" if exc.code == "slug_taken" else None, exc)
            else:
                from allauth.account.models import EmailAddress

                EmailAddress.objects.get_or_create(
                    user=result.owner, email=result.owner.email, defaults={"primary": True}
                )
                login(request, result.owner, backend=AUTH_BACKEND)
                _send_verification(request, result.owner)
                return _into_company(request, result.owner, result.company, then=str(_SETUP))
    else:
        form = SignupForm()
    return render(request, "tenants/signup.html", {"form": form})


def _send_verification(request: HttpRequest, user: User) -> None:
    from allauth.account.internal.flows.email_verification import (
        send_verification_email_for_user,
    )

    send_verification_email_for_user(request, user)


@login_required
@require_GET
def companies(request: HttpRequest) -> HttpResponse:
    memberships = list(companies_for(user=request.user))  # type: ignore[arg-type]
    closed = list(closed_companies_for(user=request.user))  # type: ignore[arg-type]
    return render(request, "tenants/companies.html", {"memberships": memberships, "closed": closed})


@login_required
@require_GET
def enter_company(request: HttpRequest, slug: str) -> HttpResponse:
    membership = (
        companies_for(user=request.user).filter(company__slug=slug).first()  # type: ignore[arg-type]
    )
    if membership is None:
        raise Http404("not a member")
    return _into_company(request, request.user, membership.company)  # type: ignore[arg-type]


@login_required
@require_GET
def final_export(request: HttpRequest, slug: str) -> FileResponse:
    membership = (
        closed_companies_for(user=request.user).filter(company__slug=slug).first()  # type: ignore[arg-type]
    )
    path = Path(membership.company.final_export) if membership else None
    if path is None or not path.is_file():
        raise Http404("no final export")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


# --- On a company's host ------------------------------------------------------------------


@require_GET
def redeem_handoff(request: HttpRequest, token: str) -> HttpResponse:
    company: Company = request.company  # type: ignore[attr-defined]
    user = handoff.redeem(token=token, company=company)
    if user is None or active_membership(user=user, company=company) is None:
        messages.error(request, _("This sign-in link has expired. Please sign in again."))
        return HttpResponseRedirect(_public_login_url(request, company))
    if request.user.is_authenticated and request.user.pk != user.pk:
        logout(request)
    login(request, user, backend=AUTH_BACKEND)
    then = request.GET.get("next", "")
    # Only a page of this company's own host: never an open redirect elsewhere.
    if not url_has_allowed_host_and_scheme(then, allowed_hosts=None) or not then.startswith("/"):
        then = "/"
    return redirect(then)


def _public_login_url(request: HttpRequest, company: Company) -> str:
    enter = reverse("enter_company", urlconf="relata.urls_public", kwargs={"slug": company.slug})
    login_path = reverse("account_login", urlconf="relata.urls_public")
    return public_url(request, f"{login_path}?{urlencode({'next': enter})}")


@require_GET
def company_login(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(_public_login_url(request, request.company))  # type: ignore[attr-defined]


@require_GET
def enter_support(request: HttpRequest, token: str) -> HttpResponse:
    """An operator's single-use link into this company's CRM as support (read-only)."""
    from tenants.middleware import SESSION_KEY

    company: Company = request.company  # type: ignore[attr-defined]
    session = support.enter(token=token, company=company)
    if session is None:
        return render(request, "tenants/support_refused.html", status=403)
    logout(request)
    login(request, session.operator, backend=AUTH_BACKEND)
    # After login(): it starts a fresh session, which would drop the key.
    request.session[SESSION_KEY] = session.pk
    return redirect("/")


@require_http_methods(["GET", "POST"])
def end_support(request: HttpRequest) -> HttpResponse:
    """The banner's "end support session": a confirmation page, then the way out."""
    current = getattr(request, "support_session", None)
    if current is None:
        return redirect("/")
    if request.method == "GET":
        return render(request, "tenants/support_end.html", {"support_session": current})
    support.end(current, reason="ended_by_operator")
    logout(request)
    return HttpResponseRedirect(public_url(request, f"/ops/companies/{current.company_id}/"))


@require_POST
def company_logout(request: HttpRequest) -> HttpResponse:
    current = getattr(request, "support_session", None)
    if current is not None:
        support.end(current, reason="logged_out")
    logout(request)
    return HttpResponseRedirect(public_url(request, "/"))


@require_http_methods(["GET", "POST"])
def company_security(request: HttpRequest) -> HttpResponse:
    """On a company's host: the "office only" network list (owners and admins)."""
    membership = getattr(request, "membership", None)
    if membership is None:
        if not request.user.is_authenticated:
            return redirect("company_login")
        raise Http404("not a member")
    if membership.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise Http404("owners and admins only")
    company: Company = request.company  # type: ignore[attr-defined]
    address = client_ip(request)
    error = None
    text = company.ip_allowlist
    if request.method == "POST":
        text = request.POST.get("ip_allowlist", "")
        try:
            set_allowlist(company=company, membership=membership, text=text, current_ip=address)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Saved."))
            return redirect("company_security")
    return render(
        request,
        "tenants/security.html",
        {"allowlist": text, "address": address, "error": error},
    )
