"""Web-form requests as a company sees them: repeats join the open deal, the inbox lists every
request, and what the CRM writes is Russian with the names declined."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from crm_core.automation.models import AutomationSettings, CapturedRequest, RequestForm
from crm_core.automation.services import setup
from crm_core.automation.services.capture import WEB_FORM, Inbound, receive
from crm_core.models import Activity, Client, Deal, Lead, Notification, Task
from crm_core.names import deal_title, instrumental
from tests.test_isolation import login_on_host


def _send(crm: Any, form: RequestForm, **values: str) -> CapturedRequest:
    return receive(
        company=crm.a.company,
        form=form,
        channel=WEB_FORM,
        inbound=Inbound(values=values, ip="203.0.113.7"),
    )


def _deal_form(crm: Any) -> RequestForm:
    return RequestForm.objects.create(
        name="Сайт", target=RequestForm.Target.DEAL, assignee=crm.manager.user
    )


def test_the_same_visitor_twice_joins_the_open_deal_without_a_second_task(crm: Any) -> None:
    with crm.a:
        setup.install_window_template(membership=crm.owner, company=crm.a.company)
        form = _deal_form(crm)
        first = _send(crm, form, name="Орлов Георгий", phone="8 916 123-45-67", message="Окна")
        assert first.deal_id is not None
        tasks = Task.objects.count()
        assert tasks >= 1  # the template's "call back in 15 minutes"
        again = _send(crm, form, name="Орлов Георгий", phone="+7 916 123 45 67", message="Ну где?")
        assert again.deal_id == first.deal_id
        assert Deal.objects.count() == 1
        assert Task.objects.count() == tasks
        # The repeat is kept as a request of its own, linked to the deal and noted on it.
        assert Lead.objects.filter(deal_id=first.deal_id).count() == 2
        assert again.lead is not None
        assert again.lead.deal_id == first.deal_id
        note = Activity.objects.get(deal_id=first.deal_id, body="Ну где?")
        assert note.summary.startswith("Повторная заявка")
        assert Notification.objects.filter(
            user=crm.manager.user, text="Повторная заявка: Орлов Георгий"
        ).exists()
        # By e-mail too, with a different case.
        by_mail = _send(crm, form, name="Орлов", email="orlov@example.com")
        repeat = _send(crm, form, name="Орлов", email="ORLOV@example.com")
        assert repeat.deal_id == by_mail.deal_id
        assert Deal.objects.count() == 2


def test_a_repeat_after_the_window_or_after_the_deal_closed_opens_a_new_deal(crm: Any) -> None:
    with crm.a:
        form = _deal_form(crm)
        first = _send(crm, form, name="Анна", phone="8 916 765-43-21")
        Lead.objects.update(created_at=timezone.now() - timedelta(hours=25))
        later = _send(crm, form, name="Анна", phone="8 916 765-43-21")
        assert later.deal_id != first.deal_id
        lost = crm.pipeline.stages.get(outcome="lost")
        assert later.deal_id is not None
        Deal.objects.filter(pk=later.deal_id).update(stage=lost, closed_at=timezone.now())
        after_close = _send(crm, form, name="Анна", phone="8 916 765-43-21")
        assert after_close.deal_id not in {first.deal_id, later.deal_id}
        # The window is the company's: 0 switches joining off.
        settings = AutomationSettings.current()
        settings.repeat_window_minutes = 0
        settings.save()
        no_join = _send(crm, form, name="Анна", phone="8 916 765-43-21")
        assert no_join.deal_id != after_close.deal_id
        assert Deal.objects.count() == 4


def test_a_repeat_never_joins_another_companys_deal(crm: Any) -> None:
    with crm.b:
        form_b = RequestForm.objects.create(name="B", target=RequestForm.Target.DEAL)
        receive(
            company=crm.b.company,
            form=form_b,
            channel=WEB_FORM,
            inbound=Inbound(values={"name": "Орлов", "phone": "8 916 123-45-67"}),
        )
    with crm.a:
        made = _send(crm, _deal_form(crm), name="Орлов", phone="8 916 123-45-67")
        assert made.deal is not None
        assert Deal.objects.count() == 1


def test_the_window_is_edited_by_an_admin_only(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = owner.get("/automation/", HTTP_HOST=crm.a.host)
    assert 'name="repeat_window_minutes"' in page.content.decode()
    saved = owner.post(
        "/automation/repeats/", {"repeat_window_minutes": "30"}, HTTP_HOST=crm.a.host
    )
    assert saved.status_code == 302
    bad = owner.post("/automation/repeats/", {"repeat_window_minutes": "-5"}, HTTP_HOST=crm.a.host)
    assert bad.status_code == 302
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    refused = manager.post(
        "/automation/repeats/", {"repeat_window_minutes": "1"}, HTTP_HOST=crm.a.host
    )
    assert refused.status_code in {403, 404}
    with crm.a:
        assert AutomationSettings.current().repeat_window_minutes == 30
    with crm.b:
        assert AutomationSettings.current().repeat_window_minutes == 24 * 60


def test_the_inbox_lists_web_form_requests_that_became_deals(crm: Any) -> None:
    with crm.a:
        _send(crm, _deal_form(crm), name="Орлов Георгий", phone="8 916 123-45-67")
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = owner.get("/leads/", HTTP_HOST=crm.a.host).content.decode()
    assert "Орлов Георгий" in page
    assert "data-lead=" in page
    # Company B's inbox stays B's.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert "Орлов Георгий" not in other.get("/leads/", HTTP_HOST=crm.b.host).content.decode()


def test_what_the_request_writes_is_russian_and_declined(crm: Any) -> None:
    with crm.a, translation.override("en"):  # the visitor's browser is English
        made = _send(crm, _deal_form(crm), name="Орлов Георгий", phone="8 916 123-45-67")
        assert made.deal is not None
        assert made.deal.title == "Сделка с Георгием Орловым"
        assert made.deal.source == "Веб-форма: Сайт"
        assert made.lead is not None
        assert made.lead.source == "Веб-форма: Сайт"
        assert made.deal.client_id is not None
        client = Client.objects.get(pk=made.deal.client_id)
        assert Activity.objects.filter(client=client, summary="Клиент создан").exists()


def test_the_hosted_form_asks_for_a_persons_name(crm: Any, client: Any) -> None:
    with crm.a:
        form = _deal_form(crm)
    page = client.get(
        f"/public/forms/{form.public_id}/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Ваше имя *" in page
    assert "Название" not in page


@pytest.mark.parametrize(
    ("name", "declined"),
    [
        ("Орлов Георгий", "Георгием Орловым"),
        ("Георгий Орлов", "Георгием Орловым"),
        ("Сидорова Анна", "Анной Сидоровой"),
        ("Анна Петровна Сидорова", "Анной Петровной Сидоровой"),
        ("Черных Ольга", "Ольгой Черных"),
        ("Шевченко Никита", "Никитой Шевченко"),
        ("Мария", "Марией"),
        ("Орлов", "Орловым"),
    ],
)
def test_people_are_declined(name: str, declined: str) -> None:
    assert instrumental(name) == declined


@pytest.mark.parametrize("name", ["ООО Ромашка", "Ромашка", "ACME Ltd", "ИП Орлов Г.", "+7 916"])
def test_not_a_person_is_left_as_written(name: str) -> None:
    assert instrumental(name) is None
    with translation.override("ru"):
        assert deal_title(name) == f"Сделка с клиентом {name}"
