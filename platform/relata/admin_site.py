"""Django's admin for operators, held to the console's standard: staff who signed in with a
second factor in this session.

The admin's own login form checks a password only, which would make /ops/admin/ the way round
the console's MFA rule. This site has no login form of its own: it sends people to allauth's
login (where MFA applies) and lets in only those the console would let in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.sites import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse


class OperatorAdminSite(AdminSite):
    site_header = "Relata operators"

    def has_permission(self, request: HttpRequest) -> bool:
        # Imported here: this module is loaded with the app registry, before any model.
        from billing.operators.access import refusal

        return bool(
            request.user.is_active
            and getattr(request, "company", None) is None
            and refusal(request) is None
        )

    def login(self, request: HttpRequest, extra_context: object = None) -> HttpResponse:
        if request.user.is_authenticated:
            # Signed in, but not as an operator with MFA: say why instead of offering the
            # password form that would sign them in again without the second factor.
            if self.has_permission(request):
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            from billing.operators.access import refusal

            reason = refusal(request) or "not_staff"
            return render(request, "billing/ops/refused.html", {"reason": reason}, status=403)
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': target})}")


class OperatorAdminConfig(AdminConfig):
    """Installed instead of ``django.contrib.admin`` so that ``admin.site`` (where every app
    registers its models) is this site."""

    default_site = "relata.admin_site.OperatorAdminSite"
