"""Partners and suppliers come in with the client base: from a "Тип компании" column, or from
the kind column of a sheet that writes "Поставщик" there (issue #19)."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.models import Client
from onboarding.tests.helpers import run_import
from onboarding.tests.sheets import csv_bytes

pytestmark = pytest.mark.usefixtures("media_root")


def test_relationship_column_and_kind_column_values(make_company: Any) -> None:
    a = make_company("Alpha")
    own_column = csv_bytes(
        [
            ["Наименование", "Тип компании"],
            ["ООО Стекло", "Поставщик"],
            ["ООО Монтаж", "партнер"],
            ["ООО Дилер", "Партнёр"],
            ["ООО Покупатель", "Клиент"],
            ["Glass Ltd", "supplier"],
            ["ООО Непонятно", "конкурент"],
        ],
        encoding="utf-8-sig",
        delimiter=";",
    )
    in_kind = csv_bytes(
        [["Наименование", "Вид"], ["ООО Профиль", "поставщик"], ["Partner Co", "Partner"]],
        encoding="utf-8-sig",
        delimiter=";",
    )
    with a:
        first = run_import(a.company, a.owner, own_column, "clients.csv")
        assert first.batch.mapping["тип компании"] == "relationship"
        second = run_import(a.company, a.owner, in_kind, "more.csv")
        assert second.batch.mapping["вид"] == "kind"
        got = dict(Client.objects.values_list("name", "relationship"))
    assert got == {
        "ООО Стекло": "supplier",
        "ООО Монтаж": "partner",
        "ООО Дилер": "partner",
        "ООО Покупатель": "customer",
        "Glass Ltd": "supplier",
        "ООО Непонятно": "customer",  # not one of ours: an ordinary client, nothing refused
        "ООО Профиль": "supplier",
        "Partner Co": "partner",
    }


def test_the_company_archive_carries_the_relationship_and_the_teams(make_company: Any) -> None:
    from crm_core.models import Team
    from onboarding.services.exports import build_export, request_export

    a = make_company("Alpha")
    with a:
        Client.objects.create(name="ООО Стекло", relationship="supplier", responsible=a.owner)
        Client.objects.create(name="ООО Монтаж", relationship="partner", responsible=a.owner)
        Team.objects.create(name="Снабжение", head=a.owner)
        job = build_export(request_export(user_id=a.owner.pk), company=a.company)
        assert job.status == "done"
        data = job.file.read()
    b = make_company("Beta")
    with b:
        run_import(b.company, b.owner, data, "export.zip")
        assert dict(Client.objects.values_list("name", "relationship")) == {
            "ООО Стекло": "supplier",
            "ООО Монтаж": "partner",
        }
        assert list(Team.objects.values_list("name", flat=True)) == ["Снабжение"]
