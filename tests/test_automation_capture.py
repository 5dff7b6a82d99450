"""Requests from the website and the API: matching, assignment, bad input, spam, limits."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from crm_core.automation.models import CapturedRequest, RequestForm
from crm_core.automation.services.capture import API, WEB_FORM, Inbound, RefusedError, receive
from crm_core.models import (
    Client,
    Contact,
    Deal,
    Employee,
    Lead,
    Notification,
    Phone,
    StageChange,
    Team,
)


def _form(**kwargs: Any) -> RequestForm:
    return RequestForm.objects.create(name="Site", **kwargs)


def test_request_becomes_a_deal_at_the_first_stage_with_a_new_client(crm: Any) -> None:
    with crm.a:
        form = _form(target=RequestForm.Target.DEAL, assignee=crm.manager.user)
        captured = receive(
            company=crm.a.company,
            form=form,
            channel=WEB_FORM,
            inbound=Inbound(
                values={"name": "Петров Иван", "phone": "8 916 123-45-67", "message": "Окна"},
                page_url="https://okna.example/contacts",
                utm={"utm_source": "yandex", "utm_campaign": "autumn", "evil": "x"},
                ip="203.0.113.5",
            ),
        )
        assert captured.deal is not None
        deal = captured.deal
        assert deal.stage == crm.pipeline.stages.order_by("position").first()
        assert deal.responsible_id == crm.manager.user_id
        assert deal.source == "yandex"
        assert StageChange.objects.filter(deal=deal, from_stage=None).count() == 1
        assert Phone.objects.get(client=deal.client).e164 == "+79161234567"
        lead = Lead.objects.get(pk=captured.lead.pk)  # type: ignore[union-attr]
        assert lead.status == Lead.Status.CONVERTED
        assert lead.deal == deal
        assert lead.utm["page_url"] == "https://okna.example/contacts"
        assert lead.utm["utm_campaign"] == "autumn"
        notice = Notification.objects.get(user=crm.manager.user)
        assert (notice.text, notice.url) == ("Новая заявка: Петров Иван", f"/deals/{deal.pk}/")
        assert "evil" not in lead.utm


def test_request_matches_the_existing_client_by_phone_or_email(crm: Any) -> None:
    with crm.a:
        client = Client.objects.create(name="Петров", responsible=crm.colleague.user)
        Phone.objects.create(client=client, e164="+79161234567", raw="+7 916 123 45 67")
        other = Client.objects.create(name="Сидоров", responsible=crm.manager.user)
        Contact.objects.create(client=other, last_name="Сидоров", emails=["sid@example.com"])
        form = _form(
            target=RequestForm.Target.DEAL,
            assign=RequestForm.Assign.CLIENT_MANAGER,
            assignee=crm.manager.user,
        )
        by_phone = receive(
            company=crm.a.company,
            form=form,
            channel=API,
            inbound=Inbound(values={"name": "Иван", "phone": "+7 (916) 123-45-67"}),
        )
        by_email = receive(
            company=crm.a.company,
            form=form,
            channel=API,
            inbound=Inbound(values={"name": "С.", "phone": "", "email": "SID@example.com"}),
        )
        assert by_phone.deal is not None
        assert by_email.deal is not None
        assert by_phone.deal.client == client
        assert by_phone.deal.responsible_id == crm.colleague.user_id  # the client's manager
        assert by_email.deal.client == other
        assert Client.objects.count() == 3  # no duplicates (two + the fixture's client of A)


def test_bad_input_is_refused_with_reasons_and_kept(crm: Any) -> None:
    with crm.a:
        form = _form(target=RequestForm.Target.LEAD)
        with pytest.raises(RefusedError) as refused:
            receive(
                company=crm.a.company,
                form=form,
                channel=API,
                inbound=Inbound(values={"phone": "12", "email": "not-an-email"}),
            )
        assert refused.value.code == "invalid"
        assert set(refused.value.errors) == {"name", "phone", "email"}, refused.value.errors
        kept = CapturedRequest.objects.get()
        assert kept.status == CapturedRequest.Status.INVALID
        assert kept.payload == {"phone": "12", "email": "not-an-email"}
        assert Lead.objects.count() == 0


def test_a_lead_form_puts_the_request_in_the_inbox(crm: Any) -> None:
    with crm.a:
        form = _form(target=RequestForm.Target.LEAD, assignee=crm.manager.user)
        captured = receive(
            company=crm.a.company,
            form=form,
            channel=WEB_FORM,
            inbound=Inbound(values={"name": "Анна", "email": "anna@example.com"}),
        )
        lead = Lead.objects.get()
        assert captured.deal is None
        assert lead.status == Lead.Status.NEW
        assert lead.responsible_id == crm.manager.user_id
        assert Deal.objects.count() == 0


def test_honeypot_and_rate_limits(crm: Any) -> None:
    with crm.a:
        form = _form(target=RequestForm.Target.LEAD, per_ip_per_hour=2, per_form_per_hour=3)
        with pytest.raises(RefusedError) as spam:
            receive(
                company=crm.a.company,
                form=form,
                channel=WEB_FORM,
                inbound=Inbound(values={"name": "bot", "phone": "+79161234567"}, honeypot="x"),
            )
        assert spam.value.code == "spam"
        values = {"name": "Анна", "phone": "+79161234567"}
        for _ in range(2):
            receive(
                company=crm.a.company,
                form=form,
                channel=WEB_FORM,
                inbound=Inbound(values=values, ip="198.51.100.1"),
            )
        with pytest.raises(RefusedError) as per_ip:
            receive(
                company=crm.a.company,
                form=form,
                channel=WEB_FORM,
                inbound=Inbound(values=values, ip="198.51.100.1"),
            )
        assert per_ip.value.code == "rate_limited"
        receive(
            company=crm.a.company,
            form=form,
            channel=WEB_FORM,
            inbound=Inbound(values=values, ip="198.51.100.2"),
        )
        with pytest.raises(RefusedError) as per_form:
            receive(
                company=crm.a.company,
                form=form,
                channel=WEB_FORM,
                inbound=Inbound(values=values, ip="198.51.100.3"),
            )
        assert per_form.value.code == "rate_limited"
        assert Lead.objects.count() == 3


def test_round_robin_takes_turns_among_the_team(crm: Any) -> None:
    with crm.a:
        team = Team.objects.create(name="Requests")
        Employee.objects.filter(user=crm.manager.user).update(team=team)
        Employee.objects.create(user=crm.colleague.user, team=team)
        form = _form(
            target=RequestForm.Target.LEAD, assign=RequestForm.Assign.ROUND_ROBIN, team=team
        )
        got = [
            receive(
                company=crm.a.company,
                form=form,
                channel=API,
                inbound=Inbound(values={"name": f"N{i}", "phone": "+79161234567"}),
            ).lead.responsible_id  # type: ignore[union-attr]
            for i in range(4)
        ]
        first, second = sorted([crm.manager.user_id, crm.colleague.user_id])
        assert got == [first, second, first, second]


@pytest.mark.django_db(transaction=True)
def test_round_robin_is_safe_under_concurrent_requests(committed_companies: Any) -> None:
    from relata.db import connection
    from tenants.models import Membership, User

    a = committed_companies("RR")
    users = []
    for i in range(3):
        user = User.objects.create_user(email=f"rr{i}-{a.company.slug}@example.com")
        Membership.objects.create(user=user, company=a.company, role="manager")
        users.append(user)
    with a:
        team = Team.objects.create(name="Requests")
        for user in users:
            Employee.objects.create(user=user, team=team)
        form = _form(
            target=RequestForm.Target.LEAD,
            assign=RequestForm.Assign.ROUND_ROBIN,
            team=team,
            per_ip_per_hour=100,
        )
    errors: list[BaseException] = []

    def post(i: int) -> None:
        try:
            with a:
                receive(
                    company=a.company,
                    form=RequestForm.objects.get(pk=form.pk),
                    channel=API,
                    inbound=Inbound(values={"name": f"N{i}", "phone": "+79161234567"}),
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with a:
        counts = sorted(
            Lead.objects.filter(responsible_id__in=[u.pk for u in users])
            .values_list("responsible_id", flat=True)
            .order_by()
        )
    assert [counts.count(u.pk) for u in users] == [3, 3, 3]
