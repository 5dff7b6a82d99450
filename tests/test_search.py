"""The search box: phone fragments, INN, e-mail, names with typos, deals; within visibility."""

from __future__ import annotations

from typing import Any

from crm_core.queries.search import search, trigrams_available
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import create_deal
from tests.test_isolation import login_on_host


def _seed(crm: Any) -> None:
    with crm.a:
        create_client(
            membership=crm.manager,
            company=crm.a.company,
            data=ClientInput(
                name="ООО Ромашка",
                inn="7707083893",
                phones=["+7 916 123-45-67"],
                contact_name="Петров Иван",
                email="ivan@romashka.ru",
            ),
        )
        create_client(
            membership=crm.colleague,
            company=crm.a.company,
            data=ClientInput(name="ИП Васильков", phones=["8 (495) 765-43-21"]),
        )
        create_deal(membership=crm.manager, title="Пластиковые окна на дачу", pipeline=crm.pipeline)


def _names(results: Any) -> set[str]:
    return (
        {c.name for c in results.clients}
        | {str(c) for c in results.contacts}
        | {d.title for d in results.deals}
    )


def test_search_finds_by_phone_fragment_inn_email_name_and_deal(crm: Any) -> None:
    _seed(crm)
    with crm.a:
        assert "ООО Ромашка" in _names(search(crm.owner, "4567"))
        assert "ООО Ромашка" in _names(search(crm.owner, "916 123"))
        assert "ИП Васильков" in _names(search(crm.owner, "765-43"))
        assert "ООО Ромашка" in _names(search(crm.owner, "7707083893"))
        assert "Петров Иван" in _names(search(crm.owner, "Ivan@Romashka.ru"))
        if trigrams_available():  # managed PostgreSQL; the embedded dev server lacks pg_trgm
            assert "ООО Ромашка" in _names(search(crm.owner, "Рамашка"))  # a typo
            assert "Петров Иван" in _names(search(crm.owner, "Петроф"))
        assert "Пластиковые окна на дачу" in _names(search(crm.owner, "окна"))
        assert search(crm.owner, "zzzz").empty
        assert search(crm.owner, "1").empty  # too short to mean anything


def test_search_respects_visibility_and_companies(crm: Any) -> None:
    _seed(crm)
    with crm.a:
        assert "ИП Васильков" not in _names(search(crm.manager, "Васильков"))
        assert "ИП Васильков" not in _names(search(crm.manager, "765-43"))
        assert "ИП Васильков" in _names(search(crm.colleague, "Васильков"))
    outsider = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    page = outsider.get("/search/", {"q": "Ромашка"}, HTTP_HOST=crm.b.host).content.decode()
    assert "Ромашка" not in page.replace('value="Ромашка"', "")
    insider = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert (
        "ООО Ромашка"
        in insider.get("/search/", {"q": "Ромашка"}, HTTP_HOST=crm.a.host).content.decode()
    )


def test_name_and_title_indexes_keep_long_trigram_signatures(crm: Any) -> None:
    # Look-alike names ("ООО Вектор-Строй 1041") collide in the default 12-byte signatures and
    # the nearest-ten walk reads thousands of pages; see migration 0014 and docs/benchmarks.md.
    if not trigrams_available():
        return
    from django.db import connection

    with crm.a, connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexdef LIKE '%%gist_trgm_ops%%'"
        )
        definitions = dict(cursor.fetchall())
    names = {"client_name_gist", "deal_title_gist", "contactname_name_gist"}
    # (The knowledge base's index of single words keeps the default: words do not look alike.)
    assert names <= set(definitions)
    assert all("siglen='128'" in definitions[name] for name in names), definitions
