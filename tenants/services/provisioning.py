"""Creating a company: the one path used by sign-up, the operators' command and the tests."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from relata.db import connection
from tenants.models import Company, Domain, Membership, User
from tenants.services import schema_pool
from tenants.signals import company_provisioned

# Subdomains that belong to Relata itself or would mislead users.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "admin",
        "api",
        "static",
        "media",
        "app",
        "mail",
        "smtp",
        "imap",
        "pop",
        "ftp",
        "help",
        "support",
        "status",
        "docs",
        "blog",
        "billing",
        "pay",
        "payments",
        "login",
        "signup",
        "register",
        "account",
        "accounts",
        "auth",
        "sso",
        "ops",
        "operator",
        "console",
        "dashboard",
        "public",
        "relata",
        "cdn",
        "assets",
        "files",
        "test",
        "dev",
        "staging",
        "prod",
        "internal",
        "root",
        "system",
        "security",
        "abuse",
        "postmaster",
        "webmaster",
        "hostmaster",
        "ns1",
        "ns2",
        "dns",
        "vpn",
        "git",
        "metrics",
        "healthz",
        "health",
    }
)
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


class SignupError(ValidationError):
    """A sign-up that cannot go ahead; ``code`` names the field-level reason."""


def normalise_slug(raw: str) -> str:
    return raw.strip().lower()


def validate_slug(slug: str) -> None:
    if not SLUG_RE.match(slug) or "--" in slug:
        raise ValidationError(
            _(
                "Use 3 to 40 Latin letters, digits and hyphens, starting with a letter and "
                "not ending with a hyphen."
            ),
            code="invalid",
        )
    # Company schemas are "c_<slug>", so no slug can collide with spare_/restore_ schemas.
    if slug in RESERVED_SLUGS or slug.startswith("xn--"):
        raise ValidationError(
            _("This address is reserved. Please choose another."), code="reserved"
        )


def schema_name_for(slug: str) -> str:
    # Slugs never contain "_", so "c_" + slug with "-" → "_" is unique per slug.
    return "c_" + slug.replace("-", "_")


def domain_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def slug_is_taken(slug: str) -> bool:
    return (
        Company.objects.filter(slug=slug).exists()
        or Domain.objects.filter(domain=domain_for(slug)).exists()
    )


@dataclass(frozen=True)
class NewCompany:
    company: Company
    owner: User
    created_owner: bool


def create_company(
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_password: str | None = None,
    owner: User | None = None,
    language: str = "ru",
    time_zone: str = "Europe/Moscow",
    currency: str = "RUB",
    signup_key: uuid.UUID | None = None,
    prepared_schema: str | None = None,
) -> NewCompany:
    """Create a company with its schema, domain and owner in one transaction.

    Either everything exists afterwards or nothing does: the schema rename, the rows and the
    owner's account commit together, so a failure midway leaves no orphan schema and no
    company without one.

    ``prepared_schema`` names a schema that already holds the company's data (a restored
    backup); it is renamed into place and no starting data is added.
    """
    slug = normalise_slug(slug)
    validate_slug(slug)
    name = name.strip()
    if not name:
        raise SignupError(_("Enter the company name."), code="name_required")
    email = owner_email.strip().lower()
    if connection.schema_name != settings.PUBLIC_SCHEMA_NAME:
        connection.set_schema_to_public()
    try:
        with transaction.atomic():
            if slug_is_taken(slug):
                raise SignupError(_("This address is already taken."), code="slug_taken")
            created_owner = False
            if owner is None:
                owner = User.objects.filter(email__iexact=email).first()
                if owner is None:
                    owner = User.objects.create_user(
                        email=email, password=owner_password, language=language
                    )
                    created_owner = True
            company = Company(
                name=name,
                slug=slug,
                schema_name=schema_name_for(slug),
                language=language,
                time_zone=time_zone,
                currency=currency,
                signup_key=signup_key,
            )
            company.save()
            Domain.objects.create(domain=domain_for(slug), tenant=company, is_primary=True)
            Membership.objects.create(user=owner, company=company, role=Membership.Role.OWNER)
            if prepared_schema is not None:
                schema_pool.rename_schema(prepared_schema, company.schema_name)
            else:
                schema_pool.build_schema(company.schema_name)
                # Per-company starting data (default pipeline, …) comes from the apps that own it.
                with company:
                    company_provisioned.send(sender=Company, company=company, owner=owner)
    except IntegrityError as exc:
        # Two sign-ups racing for one address: the loser gets the same clear message.
        raise SignupError(_("This address is already taken."), code="slug_taken") from exc
    finally:
        connection.set_schema_to_public()
    return NewCompany(company=company, owner=owner, created_owner=created_owner)
