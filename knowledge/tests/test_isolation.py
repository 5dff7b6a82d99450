"""Company B's help centre never shows company A's articles, search never crosses companies,
the colleagues' pages are closed to other companies' members, and the export archive and the
company's deletion take the knowledge base with them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient

from knowledge.models import Article, ArticleVersion, Category
from knowledge.queries.search import search
from onboarding.services.exports import build_export, request_export
from onboarding.tests.helpers import run_import
from tests.test_isolation import login_on_host


@pytest.mark.django_db
def test_b_never_shows_or_finds_a_s_articles(crm: Any, write: Any) -> None:
    with crm.a:
        section = Category.objects.create(name="Окна А")
        mine = write(crm.manager, "Секрет компании А", "уникальноеслово", category=section)
    visitor = HttpClient()
    assert (
        "Секрет компании"
        not in visitor.get("/help/search/?q=уникальноеслово", HTTP_HOST=crm.b.host).content.decode()
    )
    assert visitor.get(f"/help/a/{mine.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    assert visitor.get(f"/help/c/{section.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    assert "Окна А" not in visitor.get("/help/", HTTP_HOST=crm.b.host).content.decode()
    with crm.b:
        assert not search("уникальноеслово", public=False).results
        # Nor does B's typo correction learn A's words.
        assert not search("уникальнослово", public=True).results
    # A's page was cached first; B's host with the same path gets B's own page.
    a_page = visitor.get("/help/", HTTP_HOST=crm.a.host).content.decode()
    assert "Окна А" in a_page
    assert "Окна А" not in visitor.get("/help/", HTTP_HOST=crm.b.host).content.decode()


@pytest.mark.django_db
def test_members_of_a_cannot_open_b_s_knowledge_base(crm: Any, write: Any) -> None:
    with crm.b:
        theirs = write(_owner(crm.b), "Статья Б", "текст Б")
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    own = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    browser.force_login(crm.manager.user)
    for path in ("/knowledge/", f"/knowledge/{theirs.pk}/", "/knowledge/picker/?q=текст"):
        answer = browser.get(path, HTTP_HOST=crm.b.host)
        assert answer.status_code in (302, 404)
        assert "Статья Б" not in answer.content.decode()
    # On A's own host, B's article id is not A's article.
    assert own.get(f"/knowledge/{theirs.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    picker = own.get("/knowledge/picker/?q=текст", HTTP_HOST=crm.a.host).content.decode()
    assert "Статья Б" not in picker


def _owner(company: Any) -> Any:
    from tenants.models import Membership

    return Membership.objects.get(company=company.company, user=company.owner)


@pytest.mark.django_db
def test_the_archive_carries_the_knowledge_base(make_company: Any, write: Any) -> None:
    a = make_company("Alpha")
    with a:
        section = Category.objects.create(name="Доставка")
        article = write(_owner(a), "Сроки доставки", "Привозим за два дня", category=section)
        write(_owner(a), "Черновик", "ещё пишем", publish=False)
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    b = make_company("Beta")
    with b:
        run_import(b.company, b.owner, data, "export.zip")
        restored = Article.objects.get(title="Сроки доставки")
        assert restored.category is not None
        assert restored.category.name == "Доставка"
        assert restored.is_published
        assert ArticleVersion.objects.filter(article=restored).count() == 1
        assert Article.objects.filter(draft_title="Черновик", is_published=False).exists()
        # The database indexes the restored text anew: another word form finds it.
        assert [f.article.pk for f in search("доставку", public=True).results] == [restored.pk]
        # …and a typo is still corrected to the restored article's words.
        assert [f.article.pk for f in search("срокы", public=True).results] == [restored.pk]
    assert article.pk  # A's own article stays A's


def test_deleting_a_company_drops_its_articles(committed_companies: Any, write: Any) -> None:
    from tenants.models import Company
    from tenants.services.deletion import purge_company

    gone = committed_companies("Gone")
    with gone:
        write(_owner(gone), "Прощай", "текст")
        schema = gone.company.schema_name
    purge_company(Company.objects.get(pk=gone.company.pk))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name LIKE 'knowledge_%%'",
            [schema],
        )
        assert cursor.fetchone()[0] == 0
