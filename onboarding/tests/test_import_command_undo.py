"""`manage.py import_data COMPANY --list` and `--undo BATCH`: the web's list and undo for
operators, each company's imports only."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from crm_core.models import Client
from onboarding.models import ImportBatch
from onboarding.tests.sheets import excel_csv

pytestmark = pytest.mark.usefixtures("media_root")


def _sheet(tmp_path: Path, name: str, *clients: str) -> Path:
    path = tmp_path / name
    rows = [["Наименование", "ИНН"]] + [[c, ""] for c in clients]
    path.write_bytes(excel_csv(rows))
    return path


def _run(*args: str) -> str:
    out = StringIO()
    call_command("import_data", *args, stdout=out)
    return out.getvalue()


def _batch_id(output: str) -> int:
    found = re.search(r"(?:import|dry run) #(\d+)", output)
    assert found, output
    return int(found.group(1))


def test_list_then_undo_then_list(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    assert _run(a.company.slug, "--list").strip() == "No imports yet."
    _run(a.company.slug, str(_sheet(tmp_path, "trial.csv", "Вектор")), "--dry-run")
    batch = _batch_id(_run(a.company.slug, str(_sheet(tmp_path, "clients.csv", "Вектор", "Нева"))))
    listed = _run(a.company.slug, "--list").splitlines()
    assert len(listed) == 2
    assert re.match(
        rf"#{batch}  \d{{4}}-\d\d-\d\d \d\d:\d\d  clients\.csv \(csv, import\)  done", listed[0]
    )
    assert "created: 2" in listed[0]
    assert "trial.csv (csv, dry run)" in listed[1]
    with a:
        assert Client.objects.count() == 2
    assert f"Import #{batch} (clients.csv) is undone." in _run(a.company.slug, "--undo", str(batch))
    with a:
        assert Client.objects.count() == 0
        assert ImportBatch.objects.get(pk=batch).status == "undone"
    assert "  undone 20" in _run(a.company.slug, "--list").splitlines()[0]
    with pytest.raises(CommandError, match="already been undone"):
        _run(a.company.slug, "--undo", str(batch))


def test_undo_keeps_what_people_changed_since_and_says_so(
    make_company: Any, tmp_path: Path
) -> None:
    a = make_company("Alpha")
    batch = _batch_id(_run(a.company.slug, str(_sheet(tmp_path, "c.csv", "Вектор", "Нева"))))
    with a:
        neva = Client.objects.get(name="Нева")
        neva.industry = "Строительство"
        neva.save()
    output = _run(a.company.slug, "--undo", str(batch))
    assert "kept: " in output
    assert "Нева" in output
    with a:
        assert list(Client.objects.values_list("name", flat=True)) == ["Нева"]


def test_a_dry_run_and_a_missing_batch_are_refused(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    trial = _batch_id(_run(a.company.slug, str(_sheet(tmp_path, "t.csv", "Вектор")), "--dry-run"))
    with pytest.raises(CommandError, match="dry run"):
        _run(a.company.slug, "--undo", str(trial))
    with pytest.raises(CommandError, match="has no import #999"):
        _run(a.company.slug, "--undo", "999")
    with pytest.raises(CommandError, match="take no file"):
        _run(a.company.slug, str(tmp_path / "t.csv"), "--list")
    with pytest.raises(CommandError, match="Give a file"):
        _run(a.company.slug)


def test_another_company_s_batch_is_refused_and_left_alone(
    make_company: Any, tmp_path: Path
) -> None:
    a, b = make_company("Alpha"), make_company("Beta")
    _run(a.company.slug, str(_sheet(tmp_path, "ours.csv", "Вектор")))
    _run(b.company.slug, str(_sheet(tmp_path, "theirs1.csv", "Нева")))
    theirs = _batch_id(_run(b.company.slug, str(_sheet(tmp_path, "theirs2.csv", "Орион"))))
    with a:
        assert not ImportBatch.objects.filter(pk=theirs).exists()
    with pytest.raises(CommandError, match=f"{a.company.slug} has no import #{theirs}"):
        _run(a.company.slug, "--undo", str(theirs))
    with b:
        assert ImportBatch.objects.get(pk=theirs).status == "done"
        assert set(Client.objects.values_list("name", flat=True)) == {"Нева", "Орион"}
    # Each company's list shows its own imports only.
    assert "ours.csv" in _run(a.company.slug, "--list")
    assert "theirs" not in _run(a.company.slug, "--list")
    assert "ours.csv" not in _run(b.company.slug, "--list")
    with a:
        assert list(Client.objects.values_list("name", flat=True)) == ["Вектор"]
