"""Amounts are written one way on every page (the ``money`` filter)."""

from __future__ import annotations

from decimal import Decimal

from django.template import Context, Template
from django.utils import translation


def render(value: object, lang: str) -> str:
    with translation.override(lang):
        return Template("{% load crm_format %}{{ value|money }}").render(Context({"value": value}))


def test_amounts_are_grouped_with_the_language_s_separators_and_kopecks_only_when_any() -> None:
    assert render(Decimal("74400.00"), "ru") == "74\xa0400\xa0₽"
    assert render(Decimal("1500.5"), "ru") == "1\xa0500,50\xa0₽"
    assert render(Decimal("74400"), "en") == "74,400\xa0₽"
    assert render(None, "ru") == ""


def test_a_currency_other_than_roubles_gets_its_own_sign() -> None:
    with translation.override("ru"):
        text = Template("{% load crm_format %}{{ value|money:'EUR' }}").render(
            Context({"value": Decimal("10")})
        )
    assert text == "10\xa0€"


def test_phones_are_written_as_people_read_them() -> None:
    from crm_core.models import Phone

    with translation.override("ru"):
        text = Template("{% load crm_format %}{{ p|phone }}").render(
            Context({"p": Phone(e164="+79161234567", extension="5", raw="")})
        )
    assert text == "+7 916 123-45-67 доб. 5"
    assert (
        Template("{% load crm_format %}{{ p|phone }}").render(Context({"p": "not a number"}))
        == "not a number"
    )
