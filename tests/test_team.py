"""Team management by a company's owners and admins: invitations, roles, deactivation."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.utils import timezone, translation

from billing.models import Plan, SeatChange
from tenants.models import Invitation, Membership, User
from tenants.services import team
from tests.test_isolation import login_on_host


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


LINK = re.compile(r"http://[^/\s]+(/invitations/[^/\s]+/)")


def _link_from(mail: Any) -> str:
    match = LINK.search(mail.body)
    assert match, mail.body
    return match.group(1)


def _invite(admin: HttpClient, host: str, email: str, role: str, capture: Any) -> Any:
    with capture(execute=True):
        return admin.post("/settings/team/invite/", {"email": email, "role": role}, HTTP_HOST=host)


def test_new_person_accepts_invitation_sets_password_and_lands_in_company(
    crm: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    response = _invite(
        admin, crm.a.host, "New.Person@Example.com", "manager", django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@example.com"]
    path = _link_from(mailoutbox[0])

    guest = HttpClient()
    page = guest.get(path)
    assert page.status_code == 200
    assert "register-form" in page.content.decode()
    # Bad input: passwords that differ are refused, nothing is created.
    refused = guest.post(
        path, {"full_name": "Nina", "password": "Long-Pass-771", "password2": "Other-Pass-771"}
    )
    assert refused.status_code == 400
    assert not User.objects.filter(email="new.person@example.com").exists()
    with django_capture_on_commit_callbacks(execute=False):
        joined = guest.post(
            path, {"full_name": "Nina", "password": "Long-Pass-771", "password2": "Long-Pass-771"}
        )
    assert joined.status_code == 302
    assert f"{crm.a.company.slug}.localhost" in joined["Location"]
    assert "/handoff/" in joined["Location"]
    member = Membership.objects.get(company=crm.a.company, user__email="new.person@example.com")
    assert member.role == "manager"
    assert member.is_active
    assert SeatChange.objects.filter(company=crm.a.company).latest("id").quantity == 5
    # Single use.
    again = HttpClient().post(
        path, {"full_name": "X", "password": "Long-Pass-771", "password2": "Long-Pass-771"}
    )
    assert again.status_code == 400


def test_existing_account_must_be_the_invited_one(
    crm: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    outsider = User.objects.create_user(email="someone@example.com", password="Some-Pass-881")
    invited = User.objects.create_user(email="invited@example.com", password="Some-Pass-881")
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    _invite(
        admin, crm.a.host, "invited@example.com", "read_only", django_capture_on_commit_callbacks
    )
    path = _link_from(mailoutbox[-1])

    anonymous = HttpClient().get(path)
    assert "/accounts/login/" in anonymous.content.decode()  # has an account: log in first

    wrong = HttpClient()
    wrong.force_login(outsider)
    assert wrong.post(path).status_code == 400
    assert not Membership.objects.filter(user=outsider, company=crm.a.company).exists()

    right = HttpClient()
    right.force_login(invited)
    assert right.post(path).status_code == 302
    member = Membership.objects.get(user=invited, company=crm.a.company)
    assert member.role == "read_only"
    # Read-only seats are free: no seat change for billing.
    assert not SeatChange.objects.filter(company=crm.a.company).exists()


def test_expired_resent_and_revoked_links(crm: Any) -> None:
    invitation = team.invite(actor=crm.owner, email="late@example.com", role="manager", link=str)
    old_token = "x"
    invitation.token_hash = team.token_digest(old_token)
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save()
    late = User.objects.create_user(email="late@example.com", password="Late-Pass-991")
    with pytest.raises(ValidationError, match="expired"):
        team.accept(token=old_token, user=late)

    team.resend(actor=crm.owner, invitation=invitation, link=str)
    invitation.refresh_from_db()
    assert invitation.is_open()
    with pytest.raises(ValidationError):
        team.accept(token=old_token, user=late)  # the old link no longer works

    team.revoke(actor=crm.owner, invitation=invitation)
    assert not Invitation.objects.get(pk=invitation.pk).is_open()
    with pytest.raises(ValidationError):
        team.revoke(actor=crm.owner, invitation=invitation)


def test_only_owners_and_admins_manage_the_team(crm: Any) -> None:
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/team/", HTTP_HOST=crm.a.host).status_code == 404
    assert (
        manager.post(
            "/settings/team/invite/",
            {"email": "x@example.com", "role": "admin"},
            HTTP_HOST=crm.a.host,
        ).status_code
        == 404
    )
    assert not Invitation.objects.filter(email="x@example.com").exists()
    with pytest.raises(PermissionDenied):
        team.invite(actor=crm.manager, email="x@example.com", role="admin", link=str)
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = owner.get("/settings/team/", HTTP_HOST=crm.a.host).content.decode()
    assert "m1@example.com" in page
    assert 'id="seats-used">4<' in page
    assert 'id="seats-read-only">1<' in page
    russian = owner.get("/settings/team/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru")
    assert "Пригласить коллегу" in russian.content.decode()


def test_deactivation_hands_open_work_over_and_keeps_history(crm: Any) -> None:
    from crm_core.models import AuditEntry, Deal, Task

    with crm.a:
        stage = crm.pipeline.stages.first()
        open_deal = Deal.objects.create(
            title="Open", pipeline=crm.pipeline, stage=stage, responsible_id=crm.manager.user_id
        )
        closed_deal = Deal.objects.create(
            title="Won",
            pipeline=crm.pipeline,
            stage=stage,
            responsible_id=crm.manager.user_id,
            closed_at=timezone.now(),
        )
        open_task = Task.objects.create(
            title="Call", assignee_id=crm.manager.user_id, deadline=timezone.now(), deal=open_deal
        )
        done_task = Task.objects.create(
            title="Done",
            assignee_id=crm.manager.user_id,
            deadline=timezone.now(),
            done_at=timezone.now(),
        )
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    # A read-only member cannot take over work.
    refused = admin.post(
        f"/settings/team/members/{crm.manager.pk}/deactivate/",
        {"reassign_to": crm.viewer.pk},
        HTTP_HOST=crm.a.host,
    )
    assert refused.status_code == 302
    assert Membership.objects.get(pk=crm.manager.pk).is_active
    done = admin.post(
        f"/settings/team/members/{crm.manager.pk}/deactivate/",
        {"reassign_to": crm.colleague.pk},
        HTTP_HOST=crm.a.host,
    )
    assert done.status_code == 302
    assert not Membership.objects.get(pk=crm.manager.pk).is_active
    with crm.a:
        assert Deal.objects.get(pk=open_deal.pk).responsible_id == crm.colleague.user_id
        assert Deal.objects.get(pk=closed_deal.pk).responsible_id == crm.manager.user_id
        assert Task.objects.get(pk=open_task.pk).assignee_id == crm.colleague.user_id
        assert Task.objects.get(pk=done_task.pk).assignee_id == crm.manager.user_id
        assert AuditEntry.objects.filter(action="reassigned").count() == 2
    assert SeatChange.objects.filter(company=crm.a.company).latest("id").quantity == 3
    # The deactivated member can no longer come in.
    gone = HttpClient()
    gone.force_login(crm.manager.user)
    assert gone.get("/", HTTP_HOST=crm.a.host).status_code in (302, 404)


def test_last_owner_stays_and_ownership_transfers(crm: Any) -> None:
    with pytest.raises(ValidationError, match="last owner"):
        team.change_role(actor=crm.owner, member=crm.owner, role="admin")
    with pytest.raises(ValidationError, match="last owner"):
        team.deactivate(actor=crm.owner, member=crm.owner, reassign_to=crm.colleague)
    admin = team.change_role(actor=crm.owner, member=crm.colleague, role="admin")
    with pytest.raises(PermissionDenied):
        team.change_role(actor=admin, member=crm.owner, role="manager")
    with pytest.raises(PermissionDenied):
        team.transfer_ownership(actor=admin, member=admin)
    team.transfer_ownership(actor=crm.owner, member=admin)
    assert Membership.objects.get(pk=admin.pk).role == "owner"
    assert Membership.objects.get(pk=crm.owner.pk).role == "admin"
    former = Membership.objects.get(pk=crm.owner.pk)
    with pytest.raises(PermissionDenied):
        team.deactivate(actor=former, member=admin, reassign_to=former)


def test_role_changes_count_seats_and_respect_the_cap(crm: Any) -> None:
    Plan.objects.filter(is_default=True).update(is_default=False)  # the shipped default plan
    Plan.objects.create(
        code="small", name="Small", price_per_seat=Decimal(500), seat_cap=4, is_default=True
    )
    # 4 paid seats used (owner, 2 managers, head) + 1 read-only: the cap is reached.
    with pytest.raises(ValidationError, match="read-only seats are free"):
        team.change_role(actor=crm.owner, member=crm.viewer, role="manager")
    with pytest.raises(ValidationError):
        team.invite(actor=crm.owner, email="fifth@example.com", role="manager", link=str)
    # Read-only is free and never capped.
    team.invite(actor=crm.owner, email="auditor@example.com", role="read_only", link=str)
    team.change_role(actor=crm.owner, member=crm.colleague, role="read_only")
    assert SeatChange.objects.filter(company=crm.a.company).latest("id").quantity == 3
    team.invite(actor=crm.owner, email="fifth@example.com", role="manager", link=str)
    with pytest.raises(ValidationError):  # the invitation holds the freed seat
        team.change_role(actor=crm.owner, member=crm.viewer, role="manager")


def test_admin_of_a_never_sees_or_touches_b(two_companies: Any) -> None:
    a, b = two_companies
    owner_b = Membership.objects.get(company=b.company, user=b.owner)
    team.invite(actor=owner_b, email="b-secret@example.com", role="manager", link=str)
    invitation_b = Invitation.objects.get(company=b.company)
    admin = login_on_host(a.owner, a.company, a.host)
    page = admin.get("/settings/team/", HTTP_HOST=a.host).content.decode()
    assert b.owner.email not in page
    assert "b-secret@example.com" not in page
    for url in (
        f"/settings/team/members/{owner_b.pk}/role/",
        f"/settings/team/members/{owner_b.pk}/deactivate/",
        f"/settings/team/members/{owner_b.pk}/transfer/",
        f"/settings/team/invitations/{invitation_b.pk}/resend/",
        f"/settings/team/invitations/{invitation_b.pk}/revoke/",
    ):
        assert admin.post(url, {"role": "read_only"}, HTTP_HOST=a.host).status_code == 404, url
    assert Membership.objects.get(pk=owner_b.pk).role == "owner"
    assert Invitation.objects.get(pk=invitation_b.pk).is_open()
    # A's admin on B's host: not a member there.
    admin.force_login(a.owner)
    assert admin.get("/settings/team/", HTTP_HOST=b.host).status_code in (302, 404)


def test_two_admins_inviting_at_once_cannot_exceed_the_cap(
    committed_companies: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    from billing.services import seats

    made = committed_companies("Cap Race")
    owner = Membership.objects.get(company=made.company, user=made.owner)
    second = User.objects.create_user(email=f"admin2-{made.company.slug}@example.com")
    admin2 = Membership.objects.create(company=made.company, user=second, role="admin")
    plan = Plan.objects.create(
        code=f"cap-{made.company.slug}", name="Cap", seat_cap=3, price_per_seat=Decimal(1)
    )
    from billing.models import Subscription

    Subscription.objects.create(company=made.company, plan=plan)
    # Widen the window between counting and inserting, as a slow request would.
    counted = seats.seats_reserved

    def slow_count(company: Any) -> int:
        value = counted(company)
        time.sleep(0.3)
        return value

    monkeypatch.setattr(seats, "seats_reserved", slow_count)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(actor: Membership, email: str) -> None:
        barrier.wait()
        try:
            team.invite(actor=actor, email=email, role="manager", link=str)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(owner, "one@example.com")),
        threading.Thread(target=run, args=(admin2, "two@example.com")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(outcomes) == ["ok", "refused"]
        assert Invitation.objects.filter(company=made.company).count() == 1
    finally:
        plan.subscription_set.all().delete()
        plan.delete()


def test_no_joining_a_closed_company(crm: Any) -> None:
    invitation = team.invite(actor=crm.owner, email="late2@example.com", role="manager", link=str)
    invitation.token_hash = team.token_digest("closed")
    invitation.save()
    crm.a.company.status = "canceled"
    crm.a.company.save()
    late = User.objects.create_user(email="late2@example.com", password="Late-Pass-991")
    with pytest.raises(ValidationError, match="closed"):
        team.accept(token="closed", user=late)
    assert not Membership.objects.filter(user=late).exists()
