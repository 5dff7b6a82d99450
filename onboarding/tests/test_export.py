"""The full export, and the round trip: exported from A, imported into a new company B."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from crm_core.models import (
    Activity,
    Attachment,
    Client,
    Contact,
    Deal,
    DealItem,
    Phone,
    Pipeline,
    Product,
    Task,
)
from onboarding.models import ExportJob
from onboarding.services.exports import build_export, request_export
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import
from relata.celery import app
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


def _fill(company: Any, owner: Any) -> None:
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.order_by("position")[1]
    client = Client.objects.create(
        name="ООО Ромашка",
        inn="7707083893",
        kpp="773601001",
        custom={"Сегмент": "VIP"},
        tags=["опт"],
        responsible=owner,
    )
    contact = Contact.objects.create(
        client=client, last_name="Иванов", first_name="Иван", emails=["ivan@romashka.ru"]
    )
    Phone.objects.create(contact=contact, e164="+79161112233", raw="8 916 111-22-33")
    product = Product.objects.create(name="Окно ПВХ", sku="OK-1", price=Decimal("7500.00"))
    deal = Deal.objects.create(
        title="Остекление офиса",
        client=client,
        pipeline=pipeline,
        stage=stage,
        amount=Decimal("15000.00"),
        responsible=owner,
    )
    deal.contacts.add(contact)
    DealItem.objects.create(deal=deal, product=product, name="Окно ПВХ", quantity=2, price=7500)
    Task.objects.create(title="Позвонить", deal=deal, deadline=timezone.now(), assignee=owner)
    Activity.objects.create(kind="call", client=client, deal=deal, summary="Обсудили замер")
    Attachment.objects.create(
        deal=deal, name="замер.txt", file=ContentFile(b"2 x 1400", name="zamer.txt"), size=8
    )


def _picture() -> tuple[Any, ...]:
    deal = Deal.objects.get(title="Остекление офиса")
    return (
        list(Client.objects.values_list("name", "inn", "kpp", "custom", "tags")),
        list(Contact.objects.values_list("last_name", "emails", "client__name")),
        list(Phone.objects.values_list("e164", "contact__last_name")),
        list(Product.objects.values_list("name", "sku", "price")),
        (deal.client.name, deal.stage.name, deal.pipeline.name, deal.amount),  # type: ignore[union-attr]
        [str(c) for c in deal.contacts.all()],
        list(deal.items.values_list("name", "quantity", "price", "product__sku")),
        list(Task.objects.values_list("title", "deal__title")),
        list(Activity.objects.values_list("summary", "client__name", "deal__title")),
        [(a.name, a.file.read()) for a in Attachment.objects.all()],
    )


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_export_then_import_into_a_new_company(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        _fill(a.company, a.owner)
        original = _picture()
        job = build_export(request_export(user_id=a.owner.pk), company=a.company)
        assert job.status == "done"
        assert job.counts["clients"] == 1
        data = job.file.read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert {"relata.json", "xlsx/clients.xlsx", "xlsx/deals.xlsx", "xlsx/tasks.xlsx"} <= set(
        archive.namelist()
    )
    clients = openpyxl.load_workbook(io.BytesIO(archive.read("xlsx/clients.xlsx"))).active
    rows = list(clients.iter_rows(values_only=True))
    assert rows[1][rows[0].index("name")] == "ООО Ромашка"
    b = make_company("Beta")
    with b:
        before = Pipeline.objects.count()
        report = run_import(b.company, b.owner, data, "export.zip")
        assert report.batch.file_format == "relata"
        assert _picture() == original
        assert Pipeline.objects.filter(is_default=True).count() == 1
        # The restore is a batch like any other: undone in one action.
        undo_batch(report.batch)
        assert Client.objects.count() == 0
        assert Deal.objects.count() == 0
        assert Pipeline.objects.count() == before


def test_exports_are_for_owners_and_admins_of_their_own_company(
    make_company: Any, eager: None
) -> None:
    from tenants.models import Membership, User

    a = make_company("Alpha")
    b = make_company("Beta")
    browser = login_on_host(a.owner, a.company, a.host)
    assert browser.post("/export/", HTTP_HOST=a.host).status_code == 302
    with a:
        job = ExportJob.objects.get()
        assert job.status == "done"
        assert str(job.file.name).startswith("exports/")
    download = browser.get(f"/export/{job.pk}/download/", HTTP_HOST=a.host)
    assert download.status_code == 200
    assert b"relata.json" in b"".join(download.streaming_content)  # type: ignore[attr-defined]
    manager = User.objects.create_user(email="m@example.com", password="Member-Pass-991")
    Membership.objects.create(user=manager, company=a.company, role="manager")
    as_manager = login_on_host(manager, a.company, a.host)
    assert as_manager.get("/export/", HTTP_HOST=a.host).status_code == 404
    assert as_manager.get(f"/export/{job.pk}/download/", HTTP_HOST=a.host).status_code == 404
    as_b = login_on_host(b.owner, b.company, b.host)
    assert as_b.get(f"/export/{job.pk}/download/", HTTP_HOST=b.host).status_code == 404


def test_issued_documents_and_requisites_go_into_the_archive_and_back(make_company: Any) -> None:
    from crm_core.documents.models import Counter, Document, DocumentTemplate, Requisites
    from crm_core.documents.services.documents import generate
    from tenants.models import Membership

    a = make_company("Alpha")
    with a:
        _fill(a.company, a.owner)
        Requisites.objects.create(name="ООО «Окна Кирилла»", inn="7707083893")
        owner = Membership.objects.get(company=a.company, user=a.owner)
        invoice = DocumentTemplate.objects.filter(kind="invoice").first()
        assert invoice is not None
        deal = Deal.objects.get()
        issued = [generate(membership=owner, deal=deal, template=invoice) for _ in range(2)]
        expected = sorted(
            (d.kind, d.year, d.number, d.total, d.attachment.name, d.attachment.file.read())
            for d in issued
        )
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    assert {"xlsx/documents.xlsx", "xlsx/requisites.xlsx"} <= set(
        zipfile.ZipFile(io.BytesIO(data)).namelist()
    )
    b = make_company("Beta")
    with b:
        templates = DocumentTemplate.objects.count()  # the ones every new company gets
        report = run_import(b.company, b.owner, data, "export.zip")
        restored = sorted(
            (d.kind, d.year, d.number, d.total, d.attachment.name, d.attachment.file.read())
            for d in Document.objects.select_related("attachment")
        )
        assert restored == expected
        assert Requisites.objects.get().name == "ООО «Окна Кирилла»"
        # The archive's templates are the same defaults: not added twice.
        assert DocumentTemplate.objects.count() == templates
        # Numbering goes on after the restored documents, never repeating one of them.
        year = issued[0].year
        assert Counter.objects.get(kind="invoice", year=year).last_number == 2
        member = Membership.objects.get(company=b.company, user=b.owner)
        template = DocumentTemplate.objects.filter(kind="invoice").first()
        assert template is not None
        third = generate(membership=member, deal=Deal.objects.get(), template=template)
        assert third.number == 3
        third.attachment.delete()
        undo_batch(report.batch)
        assert Document.objects.count() == 0
        assert Requisites.objects.count() == 0
