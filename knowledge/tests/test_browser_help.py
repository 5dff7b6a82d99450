"""The knowledge base in a real browser: a manager writes an article from the menu, previews
it, publishes it; a visitor of the help centre finds it by another Russian word form and with
a typo, and reads it — at both screen sizes, in Russian and English, with no
Content-Security-Policy violation or script error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from conftest import child_env
from tenants.services import handoff
from tests.browser import (
    ConsoleWatch,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)

pytestmark = pytest.mark.browser
SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


def test_write_publish_and_find_by_word_form_and_typo(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from service.models import ServiceSettings

    made = committed_companies("Окна Кирилла")
    with made:
        # Customer service takes requests: the help centre links its request page.
        taking = ServiceSettings.current()
        taking.help_requests = True
        taking.save()
    base = start_web(
        run_process, child_env(MEDIA_ROOT=str(tmp_path / "media")), tmp_path / "web.log"
    )
    port = base.rsplit(":", 1)[1]
    site = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.goto(f"{site}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")

    page.click("#nav-knowledge")
    page.wait_for_selector("#kb-list")
    page.click("#kb-categories")
    page.fill("#id_name", "Оплата и возврат")
    page.click("#kb-category-save")
    page.wait_for_selector("#kb-category-list")
    page.click("#kb-new")
    page.fill("#id_draft_title", "Как вернуть деньги за заказ")
    page.fill(
        "#id_draft_body",
        "## Возврат\n\nДеньги за **возвращённый** заказ приходят на карту за пять дней.\n\n"
        "- Напишите нам\n- Приложите чек",
    )
    page.wait_for_selector("#kb-preview strong")  # the htmx preview
    page.select_option("#id_category", label="Оплата и возврат")
    page.select_option("#id_visibility", "public")
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"knowledge-editor-ru-{name}")
    page.click("#kb-save-publish")
    page.wait_for_selector("#kb-public-link")
    article_path = page.url.removeprefix(site)
    # A picture: uploaded on the editor page, its Markdown put into the text, shown in the
    # preview and, once published, in the help centre.
    picture = tmp_path / "схема.png"
    Image.new("RGB", (240, 120), "navy").save(picture, "PNG")
    page.set_input_files("#kb-image", str(picture))
    page.click("#kb-image-upload")
    page.wait_for_selector("#kb-preview img")  # the Markdown went in, the preview followed
    assert "](/help/images/" in page.input_value("#id_draft_body")
    page.wait_for_selector(".kb-image-list img")
    save_screenshot(page, "knowledge-editor-picture")
    page.click("#kb-save-publish")
    page.wait_for_selector("#kb-public-link")
    watch.assert_clean("the knowledge base")

    # Every screen of the knowledge base, at both sizes, in both languages: screenshots for a
    # reviewer, and no CSP violation, script error or serious accessibility problem.
    screens = {
        "list": "/knowledge/",
        "editor": article_path,
        "history": f"{article_path}history/",
        "categories": "/knowledge/categories/",
        "help-settings": "/knowledge/help-centre/",
    }
    problems: dict[str, list[str]] = {}
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            for name, path in screens.items():
                where = f"{name}-{language}-{size}"
                response = page.goto(f"{site}{path}")
                assert response is not None
                assert response.status == 200, where
                assert page.evaluate("document.documentElement.lang") == language, where
                save_screenshot(page, f"knowledge-{where}")
                found = watch.take() + serious_accessibility_problems(page)
                if found:
                    problems[where] = found

    visitor = page.context.browser.new_context()
    reader = visitor.new_page()
    reader_watch = ConsoleWatch(reader)
    for language in ("ru", "en"):
        visitor.add_cookies([{"name": "django_language", "value": language, "url": site}])
        for name, (width, height) in SIZES.items():
            reader.set_viewport_size({"width": width, "height": height})
            reader.goto(f"{site}/help/")
            reader.wait_for_selector("#help-sections")
            assert reader.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            save_screenshot(reader, f"help-home-{language}-{name}")
            found = reader_watch.take() + serious_accessibility_problems(reader)
            if found:
                problems[f"help-home-{language}-{name}"] = found
            # Another word form ("деньгами", "возврата") than the article's.
            reader.fill("#help-q", "возврата деньгами")
            reader.click("#help-search-go")
            reader.wait_for_selector("#help-results")
            assert "Как вернуть деньги за заказ" in reader.inner_text("#help-results")
            assert reader.locator("#help-results mark").count() >= 1
            save_screenshot(reader, f"help-search-{language}-{name}")
            found = reader_watch.take() + serious_accessibility_problems(reader)
            if found:
                problems[f"help-search-{language}-{name}"] = found
            # A typo.
            reader.goto(f"{site}/help/search/?q=вазврат")
            reader.wait_for_selector("#help-corrected")
            reader.click("#help-results a")
            reader.wait_for_selector("#help-article")
            assert "пять дней" in reader.inner_text("#help-article")
            # The picture may still be on its way when the text is there.
            reader.wait_for_function("() => document.querySelector('#help-article img').complete")
            assert (
                reader.evaluate("document.querySelector('#help-article img').naturalWidth") == 240
            )
            assert reader.get_attribute("#help-request", "href") == "/help/request/"
            save_screenshot(reader, f"help-article-{language}-{name}")
            found = reader_watch.take() + serious_accessibility_problems(reader)
            if found:
                problems[f"help-article-{language}-{name}"] = found
    visitor.close()
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


def test_a_manager_inserts_an_article_and_a_saved_answer_into_a_letter(  # noqa: PLR0917  (pytest passes fixtures by name)
    committed_companies: Any,
    run_process: Any,
    chromium_page: Any,
    tmp_path: Path,
    mailbox_on: Any,
    write: Any,
) -> None:
    from communications.models import MailTemplate
    from tenants.models import Membership, User

    made = committed_companies("Окна Кирилла")
    user = User.objects.create_user(email="anna@example.com", password="Member-Pass-991")
    manager = Membership.objects.create(user=user, company=made.company, role="manager")
    with made:
        mailbox_on(manager)
        MailTemplate.objects.create(
            name="Спасибо за обращение", body="Спасибо! С уважением, {company}"
        )
        article = write(manager, "Как вернуть деньги", "Деньги приходят за пять дней.")
        write(manager, "Скидки сотрудникам", "Внутренняя скидка 10%", visibility="internal")
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    watch = ConsoleWatch(page)
    page.goto(
        f"http://{made.host}:{port}/handoff/{handoff.issue(user=user, company=made.company)}/"
    )
    page.wait_for_selector("#workspace-title")
    page.click("#nav-mail")
    page.click("#mail-write")
    page.fill("#id_text", "Здравствуйте!")
    page.click(".reply-picker summary")
    page.fill(".reply-picker-q", "возврата")
    page.locator(".reply-picker-choice", has_text="Как вернуть деньги").click()
    typed = page.input_value("#id_text")
    assert typed.startswith("Здравствуйте!\nКак вернуть деньги\n")
    assert f"/help/a/{article.pk}/" in typed
    page.fill(".reply-picker-q", "спасибо")
    page.locator(".reply-picker-choice", has_text="Спасибо за обращение").click()
    assert "С уважением, Окна Кирилла" in page.input_value("#id_text")
    page.fill(".reply-picker-q", "скидки")
    page.locator(".reply-picker-choice", has_text="Скидки сотрудникам").click()
    assert "Внутренняя скидка 10%" in page.input_value("#id_text")
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"knowledge-picker-ru-{name}")
    watch.assert_clean("the reply picker")
