"""A form that creates something acts once per page: a double click, a re-sent POST, five
simultaneous submissions make one document or task (crm_core/services/once.py)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from django.db import connection as thread_connection

from crm_core.documents.models import Document
from crm_core.models import Pipeline, Task
from crm_core.services.deals import create_deal
from tenants.models import Membership
from tests.test_documents import _deal, _invoice
from tests.test_isolation import login_on_host


def test_the_same_page_s_task_is_made_once_and_a_new_page_makes_another(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'name="form_token"' in page
    form = {"task-title": "Перезвонить", "task-due": "tomorrow", "task-kind": "call"}
    token = str(uuid.uuid4())
    for _click in range(2):
        answer = browser.post(
            f"/deals/{deal.pk}/card/task/", {**form, "form_token": token}, HTTP_HOST=crm.a.host
        )
        assert answer.status_code == 302
    browser.post(
        f"/deals/{deal.pk}/card/task/",
        {**form, "form_token": str(uuid.uuid4())},
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        assert Task.objects.filter(deal=deal, title="Перезвонить").count() == 2


def test_a_refused_submission_lets_the_token_go(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    token = str(uuid.uuid4())
    browser.post(
        f"/deals/{deal.pk}/card/task/",
        {"task-title": "", "task-due": "tomorrow", "form_token": token},
        HTTP_HOST=crm.a.host,
    )
    browser.post(
        f"/deals/{deal.pk}/card/task/",
        {
            "task-title": "Исправлено",
            "task-due": "tomorrow",
            "task-kind": "call",
            "form_token": token,
        },
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        assert Task.objects.filter(deal=deal, title="Исправлено").count() == 1


def test_five_simultaneous_invoice_requests_make_one_invoice(
    committed_companies: Any, media_root: Any
) -> None:
    company = committed_companies("Пять кликов")
    owner = Membership.objects.get(company=company.company, user=company.owner)
    with company:
        deal = _deal(owner, Pipeline.objects.get(is_default=True))
        template = _invoice()
    browser = login_on_host(company.owner, company.company, company.host)
    token = str(uuid.uuid4())
    start = threading.Barrier(5)

    def click() -> None:
        try:
            start.wait()
            browser.post(
                f"/deals/{deal.pk}/documents/",
                {"template": template.pk, "confirm": "1", "form_token": token},
                HTTP_HOST=company.host,
            )
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=click) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    with company:
        assert Document.objects.filter(deal=deal).count() == 1


def _token_of(page: str) -> str:
    import re

    found = re.search(r'name="form_token" value="([0-9a-f-]{36})"', page)
    assert found, "the form carries no one-time token"
    return found.group(1)


def test_create_forms_of_every_kind_act_once_per_page(crm: Any) -> None:
    """The board's new deal, the home page's new client, a contact person, a custom field, a
    note from the composer: the same page sent twice makes one of each, the second send goes
    back to the page with a word, and the repeat of an htmx post changes nothing."""
    from crm_core.models import Activity, Client, Contact, CustomField, Deal

    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    host = {"HTTP_HOST": crm.a.host}
    with crm.a:
        pipeline = Pipeline.objects.get(is_default=True)

    def twice(page_url: str, post_url: str, data: dict[str, Any], **extra: Any) -> list[int]:
        token = _token_of(owner.get(page_url, **host).content.decode())
        return [
            owner.post(post_url, {**data, "form_token": token}, **host, **extra).status_code
            for _send in range(2)
        ]

    # The board's "New deal" form comes when it is opened (a fragment of its own).
    new_deal_form = f"/deals/pipeline/{pipeline.pk}/form/new/"
    assert twice(
        new_deal_form, "/deals/new/", {"title": "Остекление", "pipeline": pipeline.pk}
    ) == [
        302,
        302,
    ]
    twice("/", "/", {"name": "ООО Рама", "kind": "legal"})
    twice("/contacts/new/", "/contacts/new/", {"last_name": "Рамина", "first_name": "Ольга"})
    twice(
        "/settings/fields/",
        "/settings/fields/",
        {"entity": "deal", "label": "Этаж", "kind": "text"},
    )
    with crm.a:
        deal = Deal.objects.get(title="Остекление")
    statuses = twice(
        f"/deals/{deal.pk}/",
        f"/deals/{deal.pk}/card/note/",
        {"note-text": "Замер в пятницу"},
        HTTP_HX_REQUEST="true",
    )
    assert statuses == [200, 204]
    with crm.a:
        assert Deal.objects.filter(title="Остекление").count() == 1
        assert Client.objects.filter(name="ООО Рама").count() == 1
        assert Contact.objects.filter(last_name="Рамина").count() == 1
        assert CustomField.objects.filter(label="Этаж").count() == 1
        assert Activity.objects.filter(summary__contains="Замер в пятницу").count() == 1
