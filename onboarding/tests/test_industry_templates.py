"""Industry templates: each sets its stages, its rules and its sample data; choosing another
replaces what the first brought and keeps what people made; a pipeline with real deals is
never reshaped; a company's choice never reaches another company."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from crm_core.automation.models import StageRule
from crm_core.models import Deal, Pipeline, Stage
from onboarding.models import SetupProgress
from onboarding.services import templates
from tenants.models import Membership
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")

WINDOW_STAGES = ["Первый звонок", "Замер", "Согласование", "Оплата", "Монтаж"]
TRADE_STAGES = ["Новая заявка", "КП отправлено", "Счёт выставлен", "Оплачено", "Отгрузка"]
SERVICE_STAGES = ["Новая заявка", "Консультация", "Договор", "В работе", "Акт выполненных работ"]


def _owner(made: Any) -> Membership:
    return Membership.objects.get(company=made.company, user=made.owner)


def _open_stages(pipeline: Pipeline) -> list[str]:
    return list(
        pipeline.stages.filter(outcome=Stage.Outcome.OPEN)
        .order_by("position")
        .values_list("name", flat=True)
    )


def _rules(pipeline: Pipeline) -> list[tuple[str, str]]:
    return sorted(
        StageRule.objects.filter(stage__pipeline=pipeline).values_list("stage__name", "name")
    )


def test_the_wizard_offers_three_industries_and_sets_the_chosen_one_up(
    make_company: Any,
) -> None:
    a, b = make_company("Alpha"), make_company("Beta")
    browser = login_on_host(a.owner, a.company, a.host)
    page = browser.get("/setup/template/", HTTP_HOST=a.host).content.decode()
    for key in ("windows", "trade", "services"):
        assert f'id="template-{key}"' in page
    assert "Оптовая торговля и поставки" in page
    response = browser.post(
        "/setup/template/", {"action": "trade", "sample": "1"}, HTTP_HOST=a.host
    )
    assert response.status_code == 302  # on to the first step not done yet
    with a:
        pipeline = Pipeline.objects.get(is_default=True)
        assert _open_stages(pipeline) == TRADE_STAGES
        assert _rules(pipeline) == sorted(
            [
                ("Новая заявка", "Перезвонить новому клиенту"),
                ("КП отправлено", "КП с ценами за 2 часа"),
                ("Счёт выставлен", "Проверка оплаты"),
                ("Оплачено", "Резерв товара"),
                ("Отгрузка", "Отгрузка"),
            ]
        )
        deals = dict(Deal.objects.values_list("title", "stage__name"))
        assert deals == {
            "Поставка кабеля": "Новая заявка",
            "Партия светильников": "КП отправлено",
            "Стройматериалы на объект": "Счёт выставлен",
        }
        assert SetupProgress.objects.get().steps["template"] == "done"
    with b:  # the other company keeps the stages it started with, and no rules
        pipeline = Pipeline.objects.get(is_default=True)
        assert _open_stages(pipeline) == WINDOW_STAGES
        assert not StageRule.objects.exists()
        assert not Deal.objects.exists()


def test_choosing_another_template_replaces_its_rules_and_keeps_peoples(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        owner = _owner(a)
        templates.apply_industry_template(owner, a.company, "windows", with_sample=True)
        pipeline = Pipeline.objects.get(is_default=True)
        measurement = pipeline.stages.get(name="Замер")
        StageRule.objects.create(stage=measurement, name="Моё правило", trigger="enters")
        templates.apply_industry_template(owner, a.company, "services", with_sample=False)
        assert _open_stages(pipeline) == SERVICE_STAGES
        assert _rules(pipeline) == sorted(
            [
                ("Новая заявка", "Перезвонить новому клиенту"),
                ("Консультация", "Консультация"),
                ("Консультация", "Моё правило"),  # a person's rule stays with its stage
                ("Договор", "Договор и оплата"),
                ("В работе", "Выполнение работ"),
                ("Акт выполненных работ", "Акт выполненных работ"),
            ]
        )
        # The sample deals stay on the same positions of the renamed stages.
        assert dict(Deal.objects.values_list("title", "stage__name")) == {
            "Остекление офиса": "Новая заявка",
            "Балкон под ключ": "Консультация",
            "Окна в коттедж": "Договор",
        }
        assert templates.industry_of(pipeline, a.company).key == "services"


def test_a_pipeline_with_real_deals_keeps_its_stages_and_the_template_gets_its_own(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        default = Pipeline.objects.get(is_default=True)
        Deal.objects.create(
            title="Настоящая сделка",
            pipeline=default,
            stage=default.stages.order_by("position")[1],
            amount=Decimal(100),
        )
        templates.apply_industry_template(_owner(a), a.company, "trade", with_sample=True)
        assert _open_stages(default) == WINDOW_STAGES
        assert not StageRule.objects.filter(stage__pipeline=default).exists()
        own = Pipeline.objects.get(name="Оптовая торговля и поставки")
        assert not own.is_default
        assert _open_stages(own) == TRADE_STAGES
        assert list(own.stages.exclude(outcome="open").values_list("outcome", flat=True)) == [
            "won",
            "lost",
        ]
        assert len(_rules(own)) == 5
        # The sample goes where the template's stages are; the real deal stays put.
        assert set(Deal.objects.filter(pipeline=own).values_list("title", flat=True)) == {
            "Поставка кабеля",
            "Партия светильников",
            "Стройматериалы на объект",
        }
        assert Deal.objects.get(title="Настоящая сделка").stage.name == "Замер"
        # Choosing it again adds nothing.
        templates.apply_industry_template(_owner(a), a.company, "trade", with_sample=False)
        assert Pipeline.objects.count() == 2
        assert len(_rules(own)) == 5


def test_a_manager_cannot_apply_a_template(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        manager = _owner(a)
        manager.role = Membership.Role.MANAGER
        with pytest.raises(PermissionDenied):
            templates.apply_industry_template(manager, a.company, "trade", with_sample=False)
        assert _open_stages(Pipeline.objects.get(is_default=True)) == WINDOW_STAGES
