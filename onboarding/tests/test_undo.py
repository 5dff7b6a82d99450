"""Undo is honest: what people did with the imported records since is never lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from crm_core.models import Activity, Attachment, Client, Contact, Deal, Pipeline, Product, Task
from onboarding.models import ImportBatch
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import
from onboarding.tests.sheets import csv_bytes

pytestmark = pytest.mark.usefixtures("media_root")


def _sheet(*rows: list[str]) -> bytes:
    return csv_bytes(
        [["Наименование", "ИНН", "Юридический адрес", "Контактное лицо"], *rows],
        encoding="utf-8",
        delimiter=";",
    )


def test_undo_keeps_created_clients_people_worked_on_and_removes_the_untouched(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(
            a.company,
            a.owner,
            _sheet(
                ["Ромашка", "7707083893", "", "Иванов Иван"],
                ["Лютик", "", "", "Петров Пётр"],
                ["Василёк", "", "", ""],
                ["Одуванчик", "", "", ""],
                ["Клевер", "", "", ""],
            ),
        )
        assert Client.objects.count() == 5
        later = timezone.now() + dt.timedelta(seconds=1)
        romashka = Client.objects.get(name="Ромашка")
        Task.objects.create(title="Перезвонить", client=romashka, deadline=later)
        lutik = Client.objects.get(name="Лютик")
        Activity.objects.create(kind="call", client=lutik, summary="Обсудили замер")
        vasilek = Client.objects.get(name="Василёк")
        Attachment.objects.create(
            client=vasilek, name="kp.txt", file=ContentFile(b"kp", name="kp.txt"), size=2
        )
        odu = Client.objects.get(name="Одуванчик")
        odu.legal_address = "Самара, ул. Садовая, 3"
        odu.save()

        kept = undo_batch(report.batch)

        assert sorted(Client.objects.values_list("name", flat=True)) == [
            "Василёк",
            "Лютик",
            "Одуванчик",
            "Ромашка",
        ]
        # What a kept client holds from the import stays with it.
        assert [str(c) for c in Contact.objects.filter(client=romashka)] == ["Иванов Иван"]
        assert Task.objects.get().client == romashka
        assert Activity.objects.get().client == lutik
        assert Attachment.objects.get().client == vasilek
        reasons = {k["label"]: " ".join(k["reasons"]) for k in kept}
        assert "tasks" in reasons["Client «Ромашка»"]
        assert "activities" in reasons["Client «Лютик»"]
        assert (
            "files" in reasons["Client «Василёк»"] or "attachments" in reasons["Client «Василёк»"]
        )
        assert "changed since the import" in reasons["Client «Одуванчик»"]
        report.batch.refresh_from_db()
        assert report.batch.status == ImportBatch.Status.UNDONE
        assert report.batch.undo_report == kept


def test_undo_restores_a_field_only_while_it_holds_what_the_import_wrote(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        first = Client.objects.create(name="Ромашка", inn="7707083893")
        second = Client.objects.create(name="Лютик", inn="7736207543")
        report = run_import(
            a.company,
            a.owner,
            _sheet(
                ["Ромашка", "7707083893", "Москва, ул. Ленина, 1", ""],
                ["Лютик", "7736207543", "Тверь, ул. Мира, 2", ""],
            ),
        )
        assert report.counts["updated"] == 2
        second.refresh_from_db()
        second.legal_address = "Тверь, ул. Мира, 2, офис 5"  # a person corrected it
        second.save()

        kept = undo_batch(report.batch)

        first.refresh_from_db()
        second.refresh_from_db()
        assert first.legal_address == ""  # still what the import wrote: restored
        assert second.legal_address == "Тверь, ул. Мира, 2, офис 5"  # the person's edit wins
        assert [k["label"] for k in kept] == ["Client «Лютик»"]
        assert "legal address" in kept[0]["reasons"][0]


def test_undo_of_a_restored_archive_keeps_a_deal_moved_since_and_its_pipeline(
    make_company: Any,
) -> None:
    from onboarding.services.exports import build_export, request_export

    a = make_company("Alpha")
    b = make_company("Beta")
    with a:
        pipeline = Pipeline.objects.get(is_default=True)
        client = Client.objects.create(name="Ромашка")
        for title in ("Окна", "Двери"):
            Deal.objects.create(
                title=title,
                client=client,
                pipeline=pipeline,
                stage=pipeline.stages.order_by("position")[0],
                amount=Decimal(100),
            )
        Product.objects.create(name="Окно ПВХ", price=Decimal(7500))
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    with b:
        report = run_import(b.company, b.owner, data, "export.zip")
        deal = Deal.objects.get(title="Окна")
        Task.objects.create(title="Замер", deal=deal, deadline=timezone.now())

        kept = undo_batch(report.batch)

        assert list(Deal.objects.values_list("title", flat=True)) == ["Окна"]
        assert Client.objects.filter(name="Ромашка").exists()  # the kept deal's client
        assert not Product.objects.exists()
        labels = [k["label"] for k in kept]
        assert "Deal «Окна»" in labels
        assert "Client «Ромашка»" in labels
