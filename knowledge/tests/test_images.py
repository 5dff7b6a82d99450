"""Pictures in articles: uploaded in the editor (checked, with clear errors), inserted as
Markdown, shown on the help centre only from a published public article and otherwise only to
the company's members, never across companies; carried by the export archive with the help
centre's logo, and gone with the company."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from PIL import Image

from knowledge import rendering
from knowledge.models import Article, ArticleImage, HelpCentre
from knowledge.services import images
from onboarding.services.exports import build_export, request_export
from onboarding.tests.helpers import run_import
from tests.test_isolation import login_on_host

MARKDOWN = re.compile(r"!\[[^\]]*\]\((/help/images/[0-9a-f-]{36}/)\)")


def _png(name: str = "окно.png", size: tuple[int, int] = (60, 30), kind: str = "PNG") -> Any:
    picture = io.BytesIO()
    Image.new("RGB", size, "blue").save(picture, kind)
    picture.seek(0)
    picture.name = name
    return picture


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _upload(browser: Any, host: str, article: Article, picture: Any) -> str:
    response = browser.post(
        f"/knowledge/{article.pk}/images/", {"image": picture}, HTTP_HOST=host, HTTP_HX_REQUEST="1"
    )
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.mark.django_db
def test_a_picture_uploaded_in_the_editor_shows_in_the_public_article(
    crm: Any, media_root: Any, write: Any, settings: Any
) -> None:
    with crm.a:
        article = write(crm.owner, "Как мыть окна", "Сначала раму.")
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    editor = browser.get(f"/knowledge/{article.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="kb-image-form"' in editor
    answer = _upload(browser, crm.a.host, article, _png())
    found = MARKDOWN.search(answer)
    assert found, answer
    url = found.group(1)
    assert "data-inserted=" in answer
    # Bad uploads: a clear error each, nothing kept.
    fake = io.BytesIO(b"<svg onload=alert(1)></svg>")
    fake.name = "x.png"
    assert 'id="kb-image-error"' in _upload(browser, crm.a.host, article, fake)
    assert 'id="kb-image-error"' in _upload(browser, crm.a.host, article, _fake())
    bmp = _upload(browser, crm.a.host, article, _png("a.bmp", kind="BMP"))
    assert 'id="kb-image-error"' in bmp
    settings.KNOWLEDGE_IMAGE_MAX_MB = 0.001  # about 1 KB
    noisy = io.BytesIO()
    Image.effect_noise((200, 200), 100).save(noisy, "PNG")
    noisy.seek(0)
    noisy.name = "big.png"
    assert 'id="kb-image-error"' in _upload(browser, crm.a.host, article, noisy)
    settings.KNOWLEDGE_IMAGE_MAX_MB = 5
    missing = browser.post(
        f"/knowledge/{article.pk}/images/", {}, HTTP_HOST=crm.a.host, HTTP_HX_REQUEST="1"
    )
    assert 'id="kb-image-error"' in missing.content.decode()
    with crm.a:
        assert ArticleImage.objects.count() == 1
    # Not published yet: the help centre's visitors do not get it; a member does.
    visitor = HttpClient()
    assert visitor.get(url, HTTP_HOST=crm.a.host).status_code == 404
    assert browser.get(url, HTTP_HOST=crm.a.host).status_code == 200
    saved = browser.post(
        f"/knowledge/{article.pk}/",
        {
            "draft_title": "Как мыть окна",
            "draft_body": f"Сначала раму.\n\n{found.group(0)}\n",
            "visibility": "public",
            "language": "ru",
            "action": "publish",
        },
        HTTP_HOST=crm.a.host,
    )
    assert saved.status_code == 302
    page = visitor.get(f"/help/a/{article.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert f'<img src="{url}"' in page
    shown = visitor.get(url, HTTP_HOST=crm.a.host)
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert _content(shown).startswith(b"\x89PNG")
    # Company B's host does not serve A's picture.
    assert visitor.get(url, HTTP_HOST=crm.b.host).status_code == 404


def _fake() -> Any:
    fake = io.BytesIO(b"not a picture at all")
    fake.name = "x.png"
    return fake


def test_only_the_companys_own_pictures_stay_in_the_text() -> None:
    own = "/help/images/0b6e3c1a-2f4d-4e5b-9c8d-1a2b3c4d5e6f/"
    assert f'src="{own}"' in rendering.to_html(f"![a]({own})")
    for elsewhere in (
        "https://tracker.example/pixel.png",
        f"https://other.relata.ru{own}",
        f"//evil.example{own}",
        "/help/logo/",
        "javascript:alert(1)",
    ):
        assert "src=" not in rendering.to_html(f"![a]({elsewhere})"), elsewhere


@pytest.mark.django_db
def test_an_internal_articles_picture_is_for_members_only(
    crm: Any, media_root: Any, write: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with crm.a:
        article = write(crm.owner, "Внутренний регламент", "", visibility="internal")
        picture = images.upload_image(crm.owner, article, _upload_file())
        url = images.url_of(picture)
        article.draft_body = images.markdown_of(picture)
        article.save()
        from knowledge.services import articles

        articles.publish(crm.owner, article)
    visitor = HttpClient()
    assert visitor.get(url, HTTP_HOST=crm.a.host).status_code == 404
    member = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert member.get(url, HTTP_HOST=crm.a.host).status_code == 200
    assert "private" in member.get(url, HTTP_HOST=crm.a.host)["Cache-Control"]
    # A member of B, on B's host: not there.
    stranger = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert stranger.get(url, HTTP_HOST=crm.b.host).status_code == 404
    # …and a member of B cannot upload into A's article.
    assert (
        stranger.post(
            f"/knowledge/{article.pk}/images/", {"image": _png()}, HTTP_HOST=crm.b.host
        ).status_code
        == 404
    )
    # Deleting the article takes its pictures' files too.
    with crm.a:
        stored = Path(picture.file.path)
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        member.post(f"/knowledge/{article.pk}/delete/", {"confirm": "on"}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert not ArticleImage.objects.exists()
    assert not stored.exists()


def _upload_file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("схема.png", _png().getvalue(), content_type="image/png")


@pytest.mark.django_db
def test_the_archive_carries_pictures_and_the_help_centres_logo(
    make_company: Any, media_root: Any, write: Any
) -> None:
    from knowledge.services import articles, help_centre
    from tenants.models import Membership

    a = make_company("Alpha")
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        article = write(owner, "Схема проезда", "")
        picture = images.upload_image(owner, article, _upload_file())
        article.draft_body = images.markdown_of(picture)
        article.save()
        articles.publish(owner, article)
        logo = _upload_file()
        logo.name = "logo.png"
        help_centre.save_settings(
            owner, is_enabled=True, title="Помощь", intro="", accent_colour="#2f6fde", logo=logo
        )
        original = picture.file.read()
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    b = make_company("Beta")
    with b:
        run_import(b.company, b.owner, data, "export.zip")
        restored = ArticleImage.objects.get()
        assert restored.key == picture.key
        assert restored.file.read() == original
        centre = HelpCentre.objects.get()
        assert centre.logo
        assert centre.logo.read().startswith(b"\x89PNG")
    visitor = HttpClient()
    page = visitor.get(f"/help/a/{restored.article_id}/", HTTP_HOST=b.host).content.decode()
    assert f'src="{images.url_of(restored)}"' in page
    assert _content(visitor.get(images.url_of(restored), HTTP_HOST=b.host)) == original
    assert _content(visitor.get("/help/logo/", HTTP_HOST=b.host)).startswith(b"\x89PNG")


def test_a_deleted_companys_pictures_are_gone(  # committed: purge drops the schema
    committed_companies: Any, media_root: Any, write: Any
) -> None:
    from tenants.models import Company, Membership
    from tenants.services.deletion import purge_company

    gone = committed_companies("Gone")
    with gone:
        owner = Membership.objects.get(company=gone.company, user=gone.owner)
        article = write(owner, "Прощай", "текст")
        stored = Path(images.upload_image(owner, article, _upload_file()).file.path)
    assert stored.exists()
    purge_company(Company.objects.get(pk=gone.company.pk))
    assert not stored.exists()
