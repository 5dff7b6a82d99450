"""The Russian UI has no English holes: every entry of the project's own catalogues (each app's
locale/ru) is translated and none is fuzzy, and every string crm_core's code and templates mark
for translation has an entry in them.

GNU gettext's own tools do the reading (the ones compilemessages needs anyway): msgattrib lists
the untranslated and fuzzy entries; xgettext extracts crm_core's strings — from its templates
through Django's own ``templatize``, as makemessages does — and msgcmp says which are missing.
Running makemessages on a copy of the tree would take minutes; this takes two seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "node_modules", ".git", ".relata"}
# The keywords makemessages gives xgettext for Python (django/core/management/commands).
KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
    "--keyword=ngettext:1,2",
    "--keyword=gettext",
    "--keyword=_",
]
ENV = {**os.environ, "LC_ALL": "C.UTF-8"}


def _catalogues() -> list[Path]:
    return sorted(
        path
        for path in ROOT.glob("**/locale/ru/LC_MESSAGES/django.po")
        if not SKIP.intersection(path.relative_to(ROOT).parts)
    )


def _msgids(po_text: str) -> list[str]:
    """The msgids of msgattrib's output (one line each: it is asked for --no-wrap)."""
    return [m for m in re.findall(r'^msgid "(.*)"$', po_text, re.M) if m]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=ENV, check=False)


def test_every_catalogue_entry_is_translated_and_none_is_fuzzy() -> None:
    catalogues = _catalogues()
    assert len(catalogues) >= 10, catalogues  # every app's, not none found
    holes: dict[str, list[str]] = {}
    for po in catalogues:
        for flag in ("--untranslated", "--only-fuzzy"):
            listed = _run("msgattrib", flag, "--no-obsolete", "--no-wrap", str(po))
            assert listed.returncode == 0, listed.stderr
            found = _msgids(listed.stdout)
            if found:
                holes[f"{po.relative_to(ROOT)} {flag}"] = found
    assert holes == {}


def test_every_string_crm_core_marks_for_translation_is_in_a_catalogue(tmp_path: Path) -> None:
    crm = ROOT / "crm_core"
    sources = [
        str(path)
        for path in crm.rglob("*.py")
        if "migrations" not in path.parts and "tests" not in path.parts
    ]
    for n, template in enumerate(sorted(crm.rglob("*.html"))):
        as_python = tmp_path / f"{n}-{template.name}.py"
        as_python.write_text(templatize(template.read_text(), origin=str(template)))
        sources.append(str(as_python))
    used = tmp_path / "crm_core.pot"
    extracted = _run(
        "xgettext", "-L", "Python", "--from-code=UTF-8", "--no-wrap", "-o", str(used),
        *KEYWORDS, *sources,
    )  # fmt: skip
    assert extracted.returncode == 0, extracted.stderr
    assert used.stat().st_size > 10_000  # hundreds of strings were found
    # Django merges every app's catalogue at run time: the first translation of a msgid wins.
    merged = tmp_path / "all.po"
    joined = _run("msgcat", "--use-first", "-o", str(merged), *map(str, _catalogues()))
    assert joined.returncode == 0, joined.stderr
    compared = _run("msgcmp", "-N", str(merged), str(used))
    pot_lines = used.read_text().splitlines()
    missing = []
    for line in compared.stderr.splitlines():
        if "but not defined" in line or "untranslated" in line:
            number = int(line.split(":")[1])
            # The reported line is the entry's msgstr (or inside it): its msgid is above.
            above = (pot_lines[i] for i in range(number - 1, -1, -1))
            missing.append(next(text for text in above if text.startswith("msgid ")))
    assert missing == []
    assert compared.returncode == 0, compared.stderr[-2000:]
