"""Managing a company's team: invitations, roles, deactivation, ownership.

Every function takes the acting member explicitly and checks that they may manage the team
(owners and admins). Writes that change who holds a paid seat lock the company's row first,
record a seat change for billing in the same transaction, and so can never exceed the plan's
seat cap, even when two admins act at the same moment.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from billing.services import seats
from tenants.models import Company, Invitation, Membership, User
from tenants.queries.team import can_manage_team, token_digest
from tenants.signals import member_joined

Role = Membership.Role
INVITATION_TTL = timedelta(days=7)
# The owner role changes hands only through transfer_ownership.
INVITABLE_ROLES = (Role.ADMIN, Role.HEAD, Role.MANAGER, Role.READ_ONLY)

# Builds the absolute link for a token (the view knows the scheme, host and port).
LinkBuilder = Callable[[str], str]


class TeamError(ValidationError):
    """A refused team change, with a message for the person who tried it."""


def _require_manager(actor: Membership) -> None:
    if not can_manage_team(actor):
        raise PermissionDenied("owners and admins only")


def _is_paid(role: str) -> bool:
    return role != Role.READ_ONLY


def _clean_role(role: str, allowed: tuple[str, ...] = INVITABLE_ROLES) -> str:
    if role not in allowed:
        raise TeamError(_("Choose one of the offered roles."), code="role")
    return role


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise TeamError(_("Enter a valid e-mail address."), code="email") from exc
    return email


def _new_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_digest(token)
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + INVITATION_TTL
    return token


def _send(invitation: Invitation, link: str) -> None:
    company = invitation.company
    inviter = invitation.invited_by.get_full_name() if invitation.invited_by else company.name
    with translation.override(company.language):
        send_mail(
            _("%(inviter)s invites you to %(company)s on Relata")
            % {"inviter": inviter, "company": company.name},
            _(
                "You are invited to join %(company)s in Relata as %(role)s.\n\n"
                "Accept the invitation: %(link)s\n\n"
                "The link works once and expires on %(date)s."
            )
            % {
                "company": company.name,
                "role": invitation.get_role_display(),
                "link": link,
                "date": timezone.localtime(invitation.expires_at).strftime("%d.%m.%Y"),
            },
            None,
            [invitation.email],
        )


def invite(*, actor: Membership, email: str, role: str, link: LinkBuilder) -> Invitation:
    """Invite a person by e-mail. Inviting the same address again refreshes the open
    invitation (new link, new expiry) instead of making a second one. A paid role reserves a
    seat at once; the cap is checked under the company's row lock."""
    _require_manager(actor)
    email = _clean_email(email)
    role = _clean_role(role)
    with transaction.atomic():
        company = seats.lock_company(actor.company)
        if Membership.objects.filter(company=company, user__email=email, is_active=True).exists():
            raise TeamError(_("%(email)s is already a member.") % {"email": email}, code="member")
        invitation = Invitation.objects.filter(
            company=company, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).first()
        already_reserved = (
            invitation is not None and invitation.is_open() and _is_paid(invitation.role)
        )
        if _is_paid(role) and not already_reserved:
            seats.ensure_seat_free(company)
        if invitation is None:
            invitation = Invitation(company=company, email=email)
        invitation.role = role
        invitation.invited_by = actor.user
        token = _new_token(invitation)
        invitation.save()
        transaction.on_commit(lambda: _send(invitation, link(token)))
    return invitation


def resend(*, actor: Membership, invitation: Invitation, link: LinkBuilder) -> Invitation:
    """A new link (the old one stops working) and a fresh expiry."""
    _require_manager(actor)
    with transaction.atomic():
        company = seats.lock_company(actor.company)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, company=company)
        if invitation.accepted_at or invitation.revoked_at:
            raise TeamError(_("This invitation is no longer open."), code="closed")
        if not invitation.is_open() and _is_paid(invitation.role):
            seats.ensure_seat_free(company)  # an expired invitation no longer held its seat
        token = _new_token(invitation)
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        transaction.on_commit(lambda: _send(invitation, link(token)))
    return invitation


def revoke(*, actor: Membership, invitation: Invitation) -> Invitation:
    _require_manager(actor)
    updated = Invitation.objects.filter(
        pk=invitation.pk,
        company_id=actor.company_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=timezone.now())
    if not updated:
        raise TeamError(_("This invitation is no longer open."), code="closed")
    invitation.refresh_from_db()
    return invitation


def _open_invitation_locked(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("company")
        .filter(token_hash=token_digest(token))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise TeamError(_("This invitation link is not valid."), code="invalid")
    if invitation.accepted_at is not None:
        raise TeamError(_("This invitation has already been used."), code="used")
    if invitation.expires_at <= timezone.now():
        raise TeamError(
            _("This invitation has expired. Ask the person who invited you to send it again."),
            code="expired",
        )
    return invitation


def accept(*, token: str, user: User) -> Membership:
    """Join the company the invitation is for. Single use: the invitation row is locked and
    marked accepted in the same transaction that creates (or reactivates) the membership."""
    with transaction.atomic():
        # Lock order as everywhere else: the company, then the invitation.
        peek = Invitation.objects.filter(token_hash=token_digest(token)).first()
        if peek is None:
            raise TeamError(_("This invitation link is not valid."), code="invalid")
        company = seats.lock_company(peek.company)
        if company.status == Company.Status.CANCELED:
            raise TeamError(_("This company has been closed."), code="closed_company")
        invitation = _open_invitation_locked(token)
        if user.email.lower() != invitation.email.lower():
            raise TeamError(
                _("This invitation is for %(email)s. Log in with that address to accept it.")
                % {"email": invitation.email},
                code="other_user",
            )
        membership = Membership.objects.filter(company=company, user=user).first()
        if membership is not None and membership.is_active:
            raise TeamError(_("You are already a member of this company."), code="member")
        # The invitation's own reservation turns into the seat: no second cap check needed,
        # but a re-check protects against caps lowered by an operator since the invitation.
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if _is_paid(invitation.role):
            seats.ensure_seat_free(company, extra=1)
        if membership is None:
            membership = Membership(company=company, user=user)
        membership.role = invitation.role
        membership.is_active = True
        membership.save()
        if _is_paid(membership.role):
            seats.record_change(company, reason=f"invitation accepted by {user.email}")
        member_joined.send(sender=Membership, company=company, user=user, membership=membership)
    return membership


def register_and_accept(*, token: str, full_name: str, password: str) -> Membership:
    """A person without an account sets a password; the account and membership are created
    together, or neither is."""
    with transaction.atomic():
        invitation = Invitation.objects.filter(token_hash=token_digest(token)).first()
        if invitation is None:
            raise TeamError(_("This invitation link is not valid."), code="invalid")
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise TeamError(
                _("An account for %(email)s already exists: log in to accept.")
                % {"email": invitation.email},
                code="exists",
            )
        user = User(email=invitation.email, full_name=full_name.strip()[:200])
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise TeamError(exc.messages, code="password") from exc
        user.set_password(password)
        user.language = invitation.company.language
        user.save()
        return accept(token=token, user=user)


def _owners(company: Company) -> int:
    return Membership.objects.filter(company=company, role=Role.OWNER, is_active=True).count()


def _guard_owner(actor: Membership, member: Membership) -> None:
    """Only an owner may change an owner, and the last owner stays."""
    if member.role != Role.OWNER:
        return
    if actor.role != Role.OWNER:
        raise PermissionDenied("only owners change owners")
    if _owners(member.company) <= 1:
        raise TeamError(
            _("The last owner cannot leave or be removed. Transfer ownership first."),
            code="last_owner",
        )


def change_role(*, actor: Membership, member: Membership, role: str) -> Membership:
    _require_manager(actor)
    role = _clean_role(role)
    with transaction.atomic():
        company = seats.lock_company(actor.company)
        member = Membership.objects.select_for_update().get(pk=member.pk, company=company)
        if not member.is_active:
            raise TeamError(_("This member is deactivated."), code="inactive")
        _guard_owner(actor, member)
        if member.role == role:
            return member
        was_paid, paid = _is_paid(member.role), _is_paid(role)
        if paid and not was_paid:
            seats.ensure_seat_free(company)
        member.role = role
        member.save(update_fields=["role"])
        if was_paid != paid:
            seats.record_change(company, reason=f"{member.user.email} now {role}")
    return member


def deactivate(
    *, actor: Membership, member: Membership, reassign_to: Membership | None
) -> Membership:
    """Take the member out: the seat is freed, their records and history stay, and their open
    deals and open tasks go to ``reassign_to`` (an active member who can edit)."""
    _require_manager(actor)
    with transaction.atomic():
        company = seats.lock_company(actor.company)
        member = Membership.objects.select_for_update().get(pk=member.pk, company=company)
        if not member.is_active:
            raise TeamError(_("This member is already deactivated."), code="inactive")
        _guard_owner(actor, member)
        if reassign_to is None or reassign_to.company_id != company.pk:
            raise TeamError(
                _("Choose the colleague who takes over the open deals and tasks."), code="heir"
            )
        heir = Membership.objects.get(pk=reassign_to.pk)
        if not heir.is_active or heir.role == Role.READ_ONLY or heir.pk == member.pk:
            raise TeamError(
                _("Open deals and tasks can go only to another active member who can edit."),
                code="heir",
            )
        member.is_active = False
        member.save(update_fields=["is_active"])
        _reassign_open_work(company, actor=actor, old=member.user, new=heir.user)
        if _is_paid(member.role):
            seats.record_change(company, reason=f"{member.user.email} deactivated")
    return member


def _reassign_open_work(company: Company, *, actor: Membership, old: User, new: User) -> None:
    from crm_core.models import Deal, Task
    from crm_core.services import audit

    with tenant_context(company):
        for deal in Deal.objects.filter(responsible_id=old.pk, closed_at__isnull=True):
            deal.responsible_id = new.pk
            deal.save(update_fields=["responsible", "updated_at"])
            audit.record(actor, deal, "reassigned", {"responsible": (old.email, new.email)})
        for task in Task.objects.filter(assignee_id=old.pk, done_at__isnull=True):
            task.assignee_id = new.pk
            task.save(update_fields=["assignee"])
            audit.record(actor, task, "reassigned", {"assignee": (old.email, new.email)})


def transfer_ownership(*, actor: Membership, member: Membership) -> Membership:
    """The actor (an owner) hands ownership to another active member and becomes an admin."""
    if actor.role != Role.OWNER or not actor.is_active:
        raise PermissionDenied("only an owner transfers ownership")
    with transaction.atomic():
        company = seats.lock_company(actor.company)
        member = Membership.objects.select_for_update().get(pk=member.pk, company=company)
        if not member.is_active or member.pk == actor.pk:
            raise TeamError(_("Ownership can go only to another active member."), code="transfer")
        was_paid = _is_paid(member.role)
        if not was_paid:
            seats.ensure_seat_free(company)
        member.role = Role.OWNER
        member.save(update_fields=["role"])
        Membership.objects.filter(pk=actor.pk).update(role=Role.ADMIN)
        actor.role = Role.ADMIN
        if not was_paid:
            seats.record_change(company, reason=f"ownership to {member.user.email}")
    return member


def invitation_link_path(token: str) -> str:
    return f"/invitations/{token}/"


def default_link(token: str) -> str:
    """An absolute link when no request is at hand (management commands)."""
    return f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{invitation_link_path(token)}"
