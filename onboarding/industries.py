"""Industry templates of the guided start: the stages a deal goes through in that kind of
business, the rules on them, and sample data to try the CRM on.

Every template has five open stages, as the default pipeline a company starts with: choosing
one renames those stages in place (nothing to move), and the quote, invoice and contract
templates every company gets at sign-up serve all three.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from crm_core.automation.models import RuleAction, StageRule
from crm_core.automation.services.setup import WINDOW_RULES, RuleSpec
from crm_core.models import Task
from crm_core.services.pipelines import DEFAULT_STAGES


@dataclass(frozen=True)
class SampleDeal:
    """One sample client with a contact person, a deal on an open stage and a task."""

    client: str
    person: tuple[str, str]
    phone: str
    deal: str
    amount: str
    stage: int
    task: str


@dataclass(frozen=True)
class Industry:
    key: str
    name: str | Promise  # lazy: shown in the language of whoever looks
    description: str | Promise
    stages: tuple[tuple[str, int, str], ...]  # the open stages: (name, probability %, colour)
    rules: list[RuleSpec]
    sample: tuple[SampleDeal, ...]


def _task(title: str, kind: str, due_minutes: int, *, sla: bool = False) -> dict[str, object]:
    spec: dict[str, object] = {
        "kind": RuleAction.Kind.TASK,
        "title": title,
        "task_kind": kind,
        "due_minutes": due_minutes,
    }
    if sla:
        spec["sla"] = True
    return spec


_CALL_BACK: RuleSpec = WINDOW_RULES[0]  # a new request is called back within 15 minutes
_DAY = 24 * 60

# Samples carry no INN: a real file's counterparty must never be merged into a sample one.
WINDOWS = Industry(
    key="windows",
    name=_("Windows, balconies, construction to order"),
    description=_(
        "Stages from the first call to installation, with rules: call a new client back "
        "within 15 minutes, a measurement visit, a quote within 2 hours, the contract and "
        "payment, the installation."
    ),
    stages=tuple(
        (name, probability, colour)
        for name, probability, colour, outcome in DEFAULT_STAGES
        if outcome == "open"
    ),
    rules=WINDOW_RULES,
    sample=(
        SampleDeal(
            "ООО «Пример: Окна Плюс»",
            ("Иванов", "Иван"),
            "+79160000001",
            "Остекление офиса",
            "185000",
            0,
            "Перезвонить и договориться о замере",
        ),
        SampleDeal(
            "ИП Пример Сидоров",
            ("Сидоров", "Пётр"),
            "+79160000002",
            "Балкон под ключ",
            "64000",
            1,
            "Замер в четверг",
        ),
        SampleDeal(
            "ООО «Пример: СтройДом»",
            ("Петрова", "Анна"),
            "+79160000003",
            "Окна в коттедж",
            "420000",
            2,
            "Отправить коммерческое предложение",
        ),
    ),
)

TRADE = Industry(
    key="trade",
    name=_("Wholesale and distribution"),
    description=_(
        "Stages from a request to shipment, with rules: call a new client back within 15 "
        "minutes, a quote with prices within 2 hours, checking the payment, reserving and "
        "shipping the goods."
    ),
    stages=(
        (gettext_noop("New request"), 10, "#6b7585"),
        (gettext_noop("Quote sent"), 30, "#2457d6"),
        (gettext_noop("Invoice issued"), 60, "#7a4fd6"),
        (gettext_noop("Paid"), 80, "#d68a24"),
        (gettext_noop("Shipment"), 90, "#2a9d8f"),
    ),
    rules=[
        _CALL_BACK,
        (
            1,
            gettext_noop("Quote with prices within 2 hours"),
            StageRule.Trigger.ENTERS,
            [
                _task(
                    gettext_noop("Send the quote with prices: {deal}"),
                    Task.Kind.EMAIL,
                    120,
                    sla=True,
                )
            ],
        ),
        (
            2,
            gettext_noop("Check the payment"),
            StageRule.Trigger.ENTERS,
            [
                _task(
                    gettext_noop("Check that the invoice is paid: {deal}"),
                    Task.Kind.OTHER,
                    3 * _DAY,
                )
            ],
        ),
        (
            3,
            gettext_noop("Reserve the goods"),
            StageRule.Trigger.ENTERS,
            [
                _task(
                    gettext_noop("Reserve the goods and agree on the delivery: {deal}"),
                    Task.Kind.OTHER,
                    _DAY,
                )
            ],
        ),
        (
            4,
            gettext_noop("Shipment"),
            StageRule.Trigger.ENTERS,
            [
                _task(
                    gettext_noop("Ship the goods and send the closing documents: {deal}"),
                    Task.Kind.OTHER,
                    2 * _DAY,
                )
            ],
        ),
    ],
    sample=(
        SampleDeal(
            "ООО «Пример: ОптТорг»",
            ("Кузнецов", "Олег"),
            "+79160000011",
            "Поставка кабеля",
            "250000",
            0,
            "Уточнить объём и сроки поставки",
        ),
        SampleDeal(
            "ООО «Пример: Светлый дом»",
            ("Орлова", "Мария"),
            "+79160000012",
            "Партия светильников",
            "98000",
            1,
            "Отправить КП с ценами",
        ),
        SampleDeal(
            "ИП Пример Соколов",
            ("Соколов", "Денис"),
            "+79160000013",
            "Стройматериалы на объект",
            "460000",
            2,
            "Проверить оплату счёта",
        ),
    ),
)

SERVICES = Industry(
    key="services",
    name=_("Services to companies and people"),
    description=_(
        "Stages from a request to the completion certificate, with rules: call a new client "
        "back within 15 minutes, a consultation, the contract and payment, the work and its "
        "certificate."
    ),
    stages=(
        (gettext_noop("New request"), 10, "#6b7585"),
        (gettext_noop("Consultation"), 30, "#2457d6"),
        (gettext_noop("Contract"), 60, "#7a4fd6"),
        (gettext_noop("In progress"), 80, "#d68a24"),
        (gettext_noop("Completion certificate"), 90, "#2a9d8f"),
    ),
    rules=[
        _CALL_BACK,
        (
            1,
            gettext_noop("Consultation"),
            StageRule.Trigger.ENTERS,
            [_task(gettext_noop("Hold the consultation: {deal}"), Task.Kind.MEETING, 2 * _DAY)],
        ),
        (
            2,
            gettext_noop("Contract and payment"),
            StageRule.Trigger.ENTERS,
            [
                _task(
                    gettext_noop("Send the contract and the invoice: {deal}"), Task.Kind.OTHER, _DAY
                )
            ],
        ),
        (
            3,
            gettext_noop("Do the work"),
            StageRule.Trigger.ENTERS,
            [_task(gettext_noop("Do the work: {deal}"), Task.Kind.OTHER, 7 * _DAY)],
        ),
        (
            4,
            gettext_noop("Completion certificate"),
            StageRule.Trigger.ENTERS,
            [_task(gettext_noop("Send the completion certificate: {deal}"), Task.Kind.OTHER, _DAY)],
        ),
    ],
    sample=(
        SampleDeal(
            "ООО «Пример: Бухгалтерия Плюс»",
            ("Фёдорова", "Елена"),
            "+79160000021",
            "Бухгалтерское сопровождение",
            "36000",
            0,
            "Перезвонить и назначить консультацию",
        ),
        SampleDeal(
            "ООО «Пример: Кафе у дома»",
            ("Никитин", "Андрей"),
            "+79160000022",
            "Настройка 1С и кассы",
            "45000",
            1,
            "Провести консультацию",
        ),
        SampleDeal(
            "ИП Пример Волкова",
            ("Волкова", "Ирина"),
            "+79160000023",
            "Аудит за 2025 год",
            "150000",
            2,
            "Подготовить договор",
        ),
    ),
)

INDUSTRIES: dict[str, Industry] = {i.key: i for i in (WINDOWS, TRADE, SERVICES)}
