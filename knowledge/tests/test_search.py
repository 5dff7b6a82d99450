"""Search finds articles by another form of the word and despite a typo, ranks the title
first, marks the words found, and never shows the public what it may not read."""

from __future__ import annotations

from typing import Any

import pytest

from knowledge.queries.search import normalise, search

pytestmark = pytest.mark.django_db


def _titles(found: Any) -> list[str]:
    return [f.article.title for f in found.results]


def test_another_word_form_finds_the_article(crm: Any, write: Any) -> None:
    with crm.a:
        write(crm.manager, "Как оплатить счёт", "Оплата банковской картой или по счёту для юрлиц.")
        write(crm.manager, "Доставка", "Курьер привозит заказы за два дня.")
        found = search("оплаты счетов", public=True)
        assert _titles(found) == ["Как оплатить счёт"]
        assert "<mark>" in found.results[0].snippet
        assert found.corrected == ""
        # English words are stemmed too.
        write(crm.manager, "Paying invoices", "You can pay by card.", language="en")
        assert _titles(search("pay an invoice", public=True)) == ["Paying invoices"]


def test_a_typo_is_corrected_to_a_word_the_articles_use(crm: Any, write: Any) -> None:
    with crm.a:
        write(crm.manager, "Возврат товара", "Вернуть покупку можно в течение четырнадцати дней.")
        found = search("вазврат", public=True)
        assert _titles(found) == ["Возврат товара"]
        assert found.corrected == "возврат"
        assert search("покупкой", public=True).results  # another form of a body word
        assert not search("телепортация", public=True).results


def test_the_title_ranks_above_the_text(crm: Any, write: Any) -> None:
    with crm.a:
        write(crm.manager, "Гарантия на окна", "Всё о сроках.")
        write(crm.manager, "Монтаж", "Гарантия на монтаж отдельно от гарантии на окна.")
        assert _titles(search("гарантия", public=True))[0] == "Гарантия на окна"


def test_internal_and_unpublished_articles_are_not_public(crm: Any, write: Any) -> None:
    with crm.a:
        write(crm.manager, "Скидки для своих", "Секретная скидка", visibility="internal")
        write(crm.manager, "Черновик о скидке", "Скидка в черновике", publish=False)
        write(crm.manager, "Скидки", "Обычная скидка")
        assert _titles(search("скидка", public=True)) == ["Скидки"]
        assert sorted(_titles(search("скидка", public=False))) == ["Скидки", "Скидки для своих"]


def test_snippets_escape_the_articles_text(crm: Any, write: Any) -> None:
    with crm.a:
        write(crm.manager, "Вставка", "Пример кода: <script>alert(1)</script> вставка")
        snippet = search("вставка", public=True).results[0].snippet
        assert "<script>" not in snippet
        assert "alert(1)" in snippet
        assert "<mark>вставка</mark>" in snippet


@pytest.mark.parametrize(
    "typed",
    ["", " ", "!!!", "a & | ! ( ) :*", "'\"\\", "x" * 5000, "<b>", "-оплата", "\u200b", "😀"],
)
def test_any_query_is_answered(crm: Any, write: Any, typed: str) -> None:
    with crm.a:
        write(crm.manager, "Оплата", "Оплата картой")
        search(typed, public=True)
        assert len(normalise(typed)) <= 200


@pytest.mark.parametrize(
    "accent", ["#2f6fde", "#ffff00", "#ffffff", "#000000", "#7fdbff", "#808080"]
)
def test_any_accent_colour_gives_readable_text_and_links(accent: str) -> None:
    from knowledge import colours

    rgb = colours._rgb(accent)
    # The header's words are large and bold: WCAG asks 3:1 of large text, 4.5:1 of links.
    assert colours.contrast(rgb, colours._rgb(colours.text_on(accent))) >= 3
    assert colours.contrast(colours._rgb(colours.link_on_page(accent)), colours.PAGE) >= 4.5
