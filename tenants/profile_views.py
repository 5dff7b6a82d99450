"""On a company's host: the member's own profile (name and time zone)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tenants.models import Company, User
from tenants.services.profiles import update_profile
from tenants.zones import form_choices


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200, required=False)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy("Due times, reminders and the calendar show in this zone."),
    )

    def __init__(self, *args: object, company_zone: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = form_choices(company_zone)  # type: ignore[attr-defined]


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    if getattr(request, "membership", None) is None:
        if not request.user.is_authenticated:
            return redirect("company_login")
        raise Http404("not a member")
    user: User = request.user  # type: ignore[assignment]
    company: Company = request.company  # type: ignore[attr-defined]
    form = ProfileForm(
        request.POST or None,
        company_zone=company.time_zone,
        initial={"full_name": user.full_name, "time_zone": user.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_profile(user=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("profile")
    return render(request, "tenants/profile.html", {"form": form})
