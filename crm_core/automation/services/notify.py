"""Telling members: an in-app notice now, an e-mail after the transaction commits."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction

from crm_core.models import Employee, Notification
from tenants.models import Company, Membership, User

ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def notify(company: Company, user_id: int | None, text: str, url: str = "") -> bool:
    """A notice for an active member of ``company``; False (nothing sent) for anyone else."""
    if user_id is None or not is_active_member(company, user_id):
        return False
    Notification.objects.create(user_id=user_id, text=text[:500], url=url)
    email = User.objects.filter(pk=user_id, is_active=True).values_list("email", flat=True).first()
    if email:
        subject = f"{company.name}: {text}"[:200]
        transaction.on_commit(lambda: send_mail(subject, text, None, [email], fail_silently=True))
    return True


def is_active_member(company: Company, user_id: int) -> bool:
    return Membership.objects.filter(company=company, user_id=user_id, is_active=True).exists()


def heads_of(company: Company, user_id: int | None) -> list[int]:
    """Who is above a member: the head of their team, else the company's owners and admins."""
    head = (
        Employee.objects.filter(user_id=int(user_id), team__head__isnull=False)
        .values_list("team__head_id", flat=True)
        .first()
        if user_id
        else None
    )
    if head and head != user_id and is_active_member(company, head):
        return [head]
    admins = Membership.objects.filter(company=company, role__in=ADMIN_ROLES, is_active=True)
    if user_id is not None:
        admins = admins.exclude(user_id=user_id)
    return list(admins.order_by("user_id").values_list("user_id", flat=True))
