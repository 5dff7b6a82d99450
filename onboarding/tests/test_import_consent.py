"""The consent column of a client list: «Согласие на рассылку» is recognised and mapped,
yes records a consent from the import (naming the batch) so a segment can mail the people who
agreed, a value that is neither yes nor no is said in the row's report, and undoing the
import removes the consents it recorded."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_core.models import Contact
from marketing.models import Consent, Segment
from marketing.services.audience import audience
from marketing.services.segments import add_members
from onboarding.importing import columns
from onboarding.models import ImportBatch, ImportRowNote
from relata.celery import app
from tenants.models import Membership
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")

HEADER = ["Наименование", "Контактное лицо", "E-mail", "Согласие на рассылку"]
ROWS = [
    ["ООО Ромашка", "Сидорова Анна", "anna@romashka.test", "да"],
    ["ООО Лютик", "Орлов Иван", "ivan@lutik.test", "нет"],
    ["ООО Василёк", "Котов Пётр", "petr@vasilek.test", "может быть"],
    ["ООО Клевер", None, "info@klever.test", "+"],
    ["ООО Мак", "Маков Олег", "oleg@mak.test", "Yes"],
]


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Клиенты"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_consent_header_is_recognised_in_both_languages() -> None:
    assert columns.field_for("Согласие на рассылку") == "marketing_consent"
    assert columns.field_for("Marketing consent") == "marketing_consent"
    assert columns.field_for("E-mail") == "email"


@pytest.mark.django_db
def test_imported_consents_let_a_segment_mail_those_who_agreed_and_go_with_undo(
    make_company: Any, eager: None
) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post(
        "/import/", {"file": SimpleUploadedFile("clients.xlsx", _xlsx())}, HTTP_HOST=a.host
    )
    assert response.status_code == 302
    with a:
        preview = ImportBatch.objects.get()
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    # The column is suggested as the consent, and the target is offered by its name.
    assert '<option value="marketing_consent" selected' in page
    form = {"sheet": "Клиенты", "header_row": "1"}
    fields = ["name", "contact_name", "email", "marketing_consent"]
    form.update({f"col_{i}": f for i, f in enumerate(fields)})
    assert browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host).status_code == 302
    assert browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host).status_code == 302
    with a:
        batch = ImportBatch.objects.get(dry_run=False)
        assert batch.status == "done"
        consents = list(Consent.objects.order_by("email"))
        assert [c.email for c in consents] == [
            "anna@romashka.test",
            "info@klever.test",
            "oleg@mak.test",
        ]
        assert {c.source for c in consents} == {"import"}
        assert all(str(batch.pk) in c.details and "clients.xlsx" in c.details for c in consents)
        assert all(c.contact_id for c in consents)
        # The unreadable answer is said in its row; the row itself is imported.
        note = ImportRowNote.objects.get(batch=batch, row=4)
        assert "может быть" in note.reason
        assert Contact.objects.filter(last_name="Котов").exists()
        owner = Membership.objects.get(company=a.company, user=a.owner)
        segment = Segment.objects.create(name="Все из файла", kind="static")
        add_members(
            membership=owner,
            segment=segment,
            contact_ids=list(Contact.objects.values_list("pk", flat=True)),
        )
        assert sorted(c.emails[0] for c in audience(owner, segment)) == [
            "anna@romashka.test",
            "info@klever.test",
            "oleg@mak.test",
        ]
    response = browser.post(f"/import/{batch.pk}/undo/", {"confirm": "1"}, HTTP_HOST=a.host)
    assert response.status_code == 302
    with a:
        assert ImportBatch.objects.get(pk=batch.pk).status == "undone"
        assert not Consent.objects.exists()
