"""Companies (the tenants), their domains, global users and memberships.

Everything here lives in the public schema. A company's own CRM data lives in its schema.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Global: one e-mail, one account, possibly member of several companies."""

    # Always stored lower-cased (see save), so the unique constraint is case-insensitive.
    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    # The person's own time zone (an IANA name); empty: each company's own.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    is_staff = models.BooleanField(_("operator"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


_M = TypeVar("_M", bound=models.Model)


class ForgetOnUpdate(models.QuerySet[_M]):
    """``update()`` sends no signal: it tells ``updated`` which rows it changed, so what the
    request cache keeps of them (tenants.services.request_cache) is forgotten too."""

    # Written on a member's request every few minutes (tenants.services.activity) and read only
    # by the operators' console, from the database: not a reason to forget the company.
    NOT_KEPT = frozenset({"last_activity_at"})

    def update(self, **kwargs: Any) -> int:
        if set(kwargs) <= self.NOT_KEPT:
            return super().update(**kwargs)
        changed = list(self.all())
        count = super().update(**kwargs)
        from tenants.cache_signals import updated

        for row in changed:
            updated(row)
        return count


class ForgetOnUpdateManager(models.Manager[_M]):
    def get_queryset(self) -> ForgetOnUpdate[_M]:
        return ForgetOnUpdate(self.model, using=self._db)


class Company(TenantMixin):
    """A customer company: the tenant. Its CRM lives in the PostgreSQL schema ``schema_name``."""

    class Status(models.TextChoices):
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        SUSPENDED = "suspended", _("Suspended")
        CANCELED = "canceled", _("Canceled")

    name = models.CharField(_("company name"), max_length=200)
    slug = models.SlugField(_("address"), max_length=40, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.TRIALING
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The form key of the sign-up that created the company: a sign-up submitted twice (a double
    # click) finds the company the first submission made instead of failing or making a second one.
    signup_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # A canceled company is deleted completely at this moment (tenants.services.deletion);
    # until then its owners can download the final export made when deletion was scheduled.
    deletion_scheduled_at = models.DateTimeField(_("deletion scheduled for"), null=True, blank=True)
    final_export = models.CharField(max_length=500, blank=True, default="", editable=False)
    # "Office only": when set, the company's CRM answers only to these networks (one IP or
    # CIDR per line). Kept in public so the check happens before the company's data is touched.
    ip_allowlist = models.TextField(_("allowed networks"), blank=True, default="")
    # Whether Relata's support may open this company's CRM (read-only, recorded). Off until an
    # owner or admin switches it on; ``support_access_until`` ends it on its own when set.
    support_access = models.BooleanField(_("support access allowed"), default=False)
    support_access_until = models.DateTimeField(_("support access until"), null=True, blank=True)
    # When a member last used the CRM, for operators; written at most every few minutes
    # (tenants.services.activity), so the console never reads every company's schema.
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)

    objects: ClassVar[ForgetOnUpdateManager[Company]] = ForgetOnUpdateManager()

    # Schemas come from the pre-migrated pool (tenants.services.schema_pool), never from
    # running migrations on save, and are dropped only by the deletion service.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


class Membership(models.Model):
    """Who may enter a company, with which role. What billing counts as a seat."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Administrator")
        HEAD = "head", _("Head of sales")
        MANAGER = "manager", _("Manager")
        READ_ONLY = "read_only", _("Read-only")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MANAGER)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects: ClassVar[ForgetOnUpdateManager[Membership]] = ForgetOnUpdateManager()  # type: ignore[assignment]  # (the stubs type it as Self)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company"], name="membership_user_company_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"


class SupportSession(models.Model):
    """An operator of Relata inside a company's CRM as support, with the company's consent.

    Shown to the company's owners and admins on their team page. The operator gets no
    membership (no seat); the session is read-only (tenants.middleware)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="support_sessions")
    operator = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Kept as text so the record still says who it was if the operator's account goes.
    operator_email = models.EmailField(_("operator"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    # Set when the operator enters the CRM with the single-use link.
    entered_at = models.DateTimeField(_("entered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("support session")
        verbose_name_plural = _("support sessions")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"support {self.operator_email} in {self.company_id}"


class HandoffToken(models.Model):
    """A short-lived, single-use ticket that carries a login from the public site to one company.

    Only the SHA-256 of the token is stored, so a database read does not yield usable tokens.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Set for an operator's way in as support: redeemed only by the support entrance, never
    # as an ordinary member's login.
    support_session = models.ForeignKey(
        SupportSession, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="handoff_expires_idx")]

    def __str__(self) -> str:
        return f"handoff for {self.user_id} into {self.company_id}"


class SpareSchema(models.Model):
    """A pre-migrated schema waiting to become a new company's schema (renamed on claim).

    ``fingerprint`` names the tenant migrations the schema was built with; a release that adds
    a tenant migration changes it, and spares with an old fingerprint are dropped and rebuilt.
    """

    name = models.CharField(max_length=63, unique=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """An invitation to join a company with a role, sent by e-mail as a single-use link.

    Only the SHA-256 of the link's token is stored (as for handoff tokens). A pending invitation
    for a paid role holds a seat until it is accepted, revoked or expires, so that two admins
    inviting at once cannot exceed the plan's seat cap.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"), max_length=254)
    role = models.CharField(
        _("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.MANAGER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("invited"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per address and company: resending reuses it.
            models.UniqueConstraint(
                fields=["company", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.company} ({self.role})"

    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class PendingDispatch(models.Model):
    """A company has work waiting to be handed to the broker (e.g. webhook deliveries written
    while Redis was down). The work itself is a row in the company's schema, written in the
    transaction that caused it — the transactional outbox; this marker only tells the periodic
    sweep which schemas to look in, so it need not visit every company. ``kind`` is a name the
    upper layer registers ("webhooks"); tenancy knows nothing of what it means."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "kind"], name="pending_dispatch_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of company {self.company_id} since {self.since:%Y-%m-%d %H:%M}"
