"""The knowledge base as colleagues use it (menu → list → editor → publish → history) and
the public help centre as customers see it: published public articles only, cached per
company, every bad input answered without a server error."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from communications.models import MailTemplate
from knowledge.models import Article, ArticleVersion, Category, HelpCentre
from knowledge.pages_cache import page_key
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def _form(**values: Any) -> dict[str, Any]:
    return {
        "draft_title": "Как оплатить заказ",
        "draft_body": "Оплатите **картой** или по счёту.",
        "category": "",
        "visibility": "public",
        "language": "ru",
        "action": "save",
        **values,
    }


def test_a_manager_writes_publishes_and_edits_without_readers_seeing_the_draft(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    home = browser.get("/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="nav-knowledge"' in home
    assert browser.get("/knowledge/", HTTP_HOST=crm.a.host).status_code == 200
    saved = browser.post("/knowledge/new/", _form(), HTTP_HOST=crm.a.host)
    assert saved.status_code == 302
    with crm.a:
        article = Article.objects.get()
    assert not article.is_published
    from django.test import Client as HttpClient

    visitor = HttpClient()
    assert visitor.get(f"/help/a/{article.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    browser.post(f"/knowledge/{article.pk}/publish/", HTTP_HOST=crm.a.host)
    page = visitor.get(f"/help/a/{article.pk}/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert "<strong>картой</strong>" in page.content.decode()
    assert "public" in page["Cache-Control"]
    # A new draft: readers keep the published text until it is published.
    browser.post(
        f"/knowledge/{article.pk}/",
        _form(draft_body="Только наличными."),
        HTTP_HOST=crm.a.host,
    )
    text = visitor.get(f"/help/a/{article.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "картой" in text
    assert "наличными" not in text
    browser.post(
        f"/knowledge/{article.pk}/",
        _form(draft_body="Только наличными.", action="publish"),
        HTTP_HOST=crm.a.host,
    )
    text = visitor.get(f"/help/a/{article.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "наличными" in text
    history = browser.get(f"/knowledge/{article.pk}/history/", HTTP_HOST=crm.a.host)
    assert history.content.decode().count("<li>") >= 2
    with crm.a:
        first = ArticleVersion.objects.get(article=article, number=1)
    browser.post(f"/knowledge/{article.pk}/history/{first.pk}/restore/", HTTP_HOST=crm.a.host)
    with crm.a:
        article.refresh_from_db()
        assert "картой" in article.draft_body
        assert "наличными" in article.body
    browser.post(f"/knowledge/{article.pk}/unpublish/", HTTP_HOST=crm.a.host)
    assert visitor.get(f"/help/a/{article.pk}/", HTTP_HOST=crm.a.host).status_code == 404


def test_preview_is_sanitised(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    answer = browser.post(
        "/knowledge/preview/",
        {"draft_body": "# Да\n<script>alert(1)</script>[x](javascript:alert(1))"},
        HTTP_HOST=crm.a.host,
    ).content.decode()
    assert "<h1>Да</h1>" in answer
    assert "<script>" not in answer
    assert 'href="javascript' not in answer


def test_read_only_members_cannot_write(crm: Any) -> None:
    browser = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    assert browser.get("/knowledge/", HTTP_HOST=crm.a.host).status_code == 200
    assert browser.post("/knowledge/new/", _form(), HTTP_HOST=crm.a.host).status_code == 403
    with crm.a:
        assert not Article.objects.exists()


def test_an_empty_title_is_refused_and_the_text_kept(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    answer = browser.post("/knowledge/new/", _form(draft_title=" "), HTTP_HOST=crm.a.host)
    assert answer.status_code == 200
    assert "Оплатите **картой**" in answer.content.decode()


def test_the_help_centre_shows_only_published_public_articles(crm: Any, write: Any) -> None:
    from django.test import Client as HttpClient

    with crm.a:
        section = Category.objects.create(name="Оплата")
        shown = write(crm.manager, "Открытая статья", "для всех", category=section)
        secret = write(
            crm.manager, "Секретная статья", "для своих", visibility="internal", category=section
        )
        draft = write(crm.manager, "Черновая статья", "не готово", publish=False, category=section)
    visitor = HttpClient()
    pages = [
        visitor.get(path, HTTP_HOST=crm.a.host).content.decode()
        for path in ("/help/", f"/help/c/{section.pk}/", "/help/search/?q=статья")
    ]
    assert "Оплата" in pages[0]
    assert "1 статья" in pages[0] or "1 article" in pages[0]
    for page in pages[1:]:
        assert "Открытая статья" in page
    for page in pages:
        assert "Секретная" not in page
        assert "Черновая" not in page
    # "Submit a request" appears only while customer service takes requests (service/tests).
    assert 'id="help-request"' not in pages[0]
    assert visitor.head("/help/", HTTP_HOST=crm.a.host).status_code == 200
    assert visitor.post("/help/", HTTP_HOST=crm.a.host).status_code in (403, 405)
    for hidden in (secret, draft):
        assert visitor.get(f"/help/a/{hidden.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    assert visitor.get(f"/help/a/{shown.pk}/", HTTP_HOST=crm.a.host).status_code == 200


def test_branding_logo_and_colour(crm: Any, media_root: Any) -> None:
    from django.test import Client as HttpClient

    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    picture = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(picture, "PNG")
    picture.seek(0)
    picture.name = "logo.png"
    saved = browser.post(
        "/knowledge/help-centre/",
        {
            "is_enabled": "on",
            "title": "Помощь Окон",
            "intro": "Мы рядом",
            "accent_colour": "#aa3300",
            "logo": picture,
        },
        HTTP_HOST=crm.a.host,
    )
    assert saved.status_code == 302, saved.context["form"].errors
    visitor = HttpClient()
    home = visitor.get("/help/", HTTP_HOST=crm.a.host).content.decode()
    assert "Помощь Окон" in home
    assert 'src="/help/logo/"' in home
    assert "#aa3300" in visitor.get("/help/theme.css", HTTP_HOST=crm.a.host).content.decode()
    logo = visitor.get("/help/logo/", HTTP_HOST=crm.a.host)
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    # Not a picture, or not a colour: a clear error, nothing saved.
    fake = io.BytesIO(b"<svg onload=alert(1)></svg>")
    fake.name = "logo.svg"
    refused = browser.post(
        "/knowledge/help-centre/",
        {"is_enabled": "on", "title": "X", "accent_colour": "red", "logo": fake},
        HTTP_HOST=crm.a.host,
    )
    assert refused.status_code == 200
    with crm.a:
        assert HelpCentre.objects.get().title == "Помощь Окон"
    # Managers do not change the help centre's look.
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/knowledge/help-centre/", HTTP_HOST=crm.a.host).status_code == 404
    # Closed: the public pages are gone.
    browser.post(
        "/knowledge/help-centre/", {"title": "X", "accent_colour": "#000000"}, HTTP_HOST=crm.a.host
    )
    assert visitor.get("/help/", HTTP_HOST=crm.a.host).status_code == 404


def test_pages_are_cached_per_company_and_forgotten_on_publish(crm: Any, write: Any) -> None:
    from django.test import Client as HttpClient

    visitor = HttpClient()
    with crm.a:
        write(crm.manager, "Первая", "текст")
    assert "Первая" in visitor.get("/help/", HTTP_HOST=crm.a.host).content.decode()
    with crm.a:
        key_a = cache.make_key(page_key(crm.a.company, "ru", "home"))
    with crm.b:
        key_b = cache.make_key(page_key(crm.b.company, "ru", "home"))
    assert key_a != key_b
    assert crm.a.company.schema_name in key_a
    with crm.a:
        write(crm.manager, "Вторая", "текст")
    assert "Вторая" in visitor.get("/help/", HTTP_HOST=crm.a.host).content.decode()


def test_the_reply_picker_finds_articles_and_saved_answers(
    crm: Any, write: Any, mailbox_on: Any
) -> None:
    with crm.a:
        mailbox_on(crm.manager)
        MailTemplate.objects.create(name="Спасибо за оплату", body="Спасибо! {company}, {manager}")
        write(crm.manager, "Как оплатить", "Картой")
        write(crm.manager, "Скидки сотрудникам", "Внутренняя скидка 10%", visibility="internal")
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    answer = browser.get("/knowledge/picker/?q=оплат&target=id_text", HTTP_HOST=crm.a.host)
    page = answer.content.decode()
    assert "Спасибо за оплату" in page
    assert "Okna Kirilla" in page  # the saved answer's placeholders are filled
    assert "Как оплатить" in page
    assert "/help/a/" in page
    internal = browser.get("/knowledge/picker/?q=скидки", HTTP_HOST=crm.a.host).content.decode()
    assert "Внутренняя скидка 10%" in internal  # its text, never a public link
    assert "/help/a/" not in internal
    # The mail composer has the picker.
    compose = browser.get("/mail/write/", HTTP_HOST=crm.a.host).content.decode()
    assert "knowledge/picker.js" in compose
    assert 'hx-get="/knowledge/picker/"' in compose


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    query=st.text(max_size=300),
    page=st.one_of(st.text(max_size=8), st.integers(-5, 10**6).map(str)),
    article=st.text(max_size=20),
)
def test_public_pages_answer_any_input_without_a_server_error(
    crm: Any, query: str, page: str, article: str
) -> None:
    from django.test import Client as HttpClient

    visitor = HttpClient()
    answer = visitor.get("/help/search/", {"q": query, "page": page}, HTTP_HOST=crm.a.host)
    assert answer.status_code in (200, 400)
    weird = visitor.get(f"/help/a/{article}/", HTTP_HOST=crm.a.host)
    assert weird.status_code in (200, 400, 404)
