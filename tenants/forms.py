from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenants.models import User
from tenants.services.provisioning import normalise_slug, slug_is_taken, validate_slug


class SignupForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    slug = forms.CharField(
        label=_("Address of your CRM"),
        max_length=40,
        help_text=_("Latin letters, digits and hyphens; it becomes the address of your CRM."),
    )
    email = forms.EmailField(label=_("Work e-mail"), max_length=254)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(render_value=False)
    )
    # A key per rendered form: a second submission of the same form (a double click) is
    # recognised instead of producing an "address taken" error or a second company.
    signup_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_company_name(self) -> str:
        name: str = self.cleaned_data["company_name"].strip()
        if not name:
            raise ValidationError(_("Enter the company name."), code="required")
        return name

    def clean_slug(self) -> str:
        slug = normalise_slug(self.cleaned_data["slug"])
        validate_slug(slug)
        if slug_is_taken(slug):
            raise ValidationError(_("This address is already taken."), code="slug_taken")
        return slug

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _("An account with this e-mail already exists. Log in to add a company."),
                code="email_taken",
            )
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            candidate = User(email=data.get("email", ""))
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data
