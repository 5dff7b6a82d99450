"""The audit log reads as people speak: labels, names, local times, yes/no, choice labels —
in the page's language (issue #18)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_core.models import AuditEntry, Client
from crm_core.queries.audit import audit_rows
from crm_core.services.audit import record
from crm_core.services.clients import ClientInput, create_client, update_client
from crm_core.services.deals import create_deal
from crm_core.services.tasks import complete_task, create_task
from tests.test_isolation import login_on_host


def _story(crm: Any) -> Client:
    crm.colleague.user.full_name = "Анна Коллегова"
    crm.colleague.user.save()
    crm.owner.user.full_name = "Кирилл Владелец"
    crm.owner.user.save()
    with crm.a:
        client = create_client(
            membership=crm.owner, company=crm.a.company, data=ClientInput(name="ООО Журнал")
        )
        update_client(
            membership=crm.owner,
            client=client,
            version=client.version,
            inn="",
            foreign_tax_id=False,
            responsible_id=crm.colleague.user_id,
            kind=Client.Kind.SOLE_TRADER,
        )
        deal = create_deal(membership=crm.owner, title="Окна", pipeline=crm.pipeline)
        task = create_task(
            membership=crm.owner,
            title="Позвонить",
            deadline=timezone.now() + dt.timedelta(days=1),
            deal=deal,
        )
        task.done_at = None
        complete_task(membership=crm.owner, task=task)
        # A yes/no value, as services record them, and an amount.
        record(crm.owner, client, "update", {"is_active": (True, False)})
        record(crm.owner, deal, "update", {"amount": ("74400.00", "1234567.5")})
    return client


def _audit_text(page: str) -> str:
    table = page[page.index('id="audit-log"') :]
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", table))


def test_audit_log_in_russian(crm: Any) -> None:
    _story(crm)
    with crm.a:
        done_at = AuditEntry.objects.get(action="done").changes["done_at"][1]
    moment = dt.datetime.fromisoformat(done_at).astimezone(dt.timezone(dt.timedelta(hours=3)))
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = admin.get("/audit/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    text = _audit_text(page)
    assert "Ответственный менеджер: Кирилл Владелец → Анна Коллегова" in text
    assert "Юридическое лицо → " in text  # the choice's label, not "legal"
    assert "responsible_id" not in text
    assert "+00:00" not in text
    # The company's zone (Moscow) and the Russian short format.
    assert f"— → {moment:%d.%m.%Y %H:%M}" in text
    assert "Кирилл Владелец" in text  # who, by name
    assert "Клиент «ООО Журнал»" in text
    assert "74\xa0400\xa0₽ → 1\xa0234\xa0567,50\xa0₽" in text.replace("&nbsp;", "\xa0")


def test_audit_log_in_english(crm: Any) -> None:
    _story(crm)
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = admin.get("/audit/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    text = _audit_text(page)
    assert "Responsible manager: Кирилл Владелец → Анна Коллегова" in text
    assert "Legal entity → Sole trader" in text
    assert "Client «ООО Журнал»" in text
    assert "yes → no" in text
    assert "74,400\xa0₽ → 1,234,567.50\xa0₽" in text.replace("&nbsp;", "\xa0")
    assert "+00:00" not in text
    assert "done_at" not in text


def test_names_are_fetched_once_per_page_not_per_row(crm: Any) -> None:
    _story(crm)
    with crm.a:
        client = Client.objects.get(name="ООО Журнал")
        for n in range(30):
            record(crm.owner, client, "update", {"responsible_id": (crm.owner.user_id, n + 1)})
        entries = list(AuditEntry.objects.all()[:200])
        with CaptureQueriesContext(connection) as queries:
            rows = audit_rows(entries)
        assert len(rows) == len(entries)
        assert len(queries) <= 6  # users, clients, deals, tasks, custom fields


def test_another_company_sees_none_of_it(crm: Any) -> None:
    _story(crm)
    outsider = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    page = outsider.get("/audit/", HTTP_HOST=crm.b.host).content.decode()
    assert "ООО Журнал" not in page
    assert "Анна Коллегова" not in page
