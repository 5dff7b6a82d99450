"""Browser tests wait for a condition with a function, never a bare expression.

Playwright evaluates a bare string expression with `eval` on every poll after the first, which
our Content-Security-Policy (no 'unsafe-eval') refuses: the wait then fails whenever the
condition is not already true on the first look — a test that passes or fails with the
machine's speed (it failed the keyboard test in a CI run). A function is evaluated once."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = re.compile(r"""wait_for_function\(\s*f?["'](?!\s*(\(|\w+\s*=>))""")


def test_no_wait_for_function_takes_a_bare_expression() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in sorted(ROOT.glob("**/test_*.py"))
        if ".venv" not in path.parts
        for text in [path.read_text(encoding="utf-8")]
        for match in BARE.finditer(text)
    ]
    assert found == []


def test_the_check_would_catch_one() -> None:
    assert BARE.search("page.wait_for_function(\"document.title === 'x'\")")
    assert BARE.search("page.wait_for_function(\n    f\"document.querySelector('#a')\"\n)")
    assert not BARE.search('page.wait_for_function("() => document.title")')
    assert not BARE.search('page.wait_for_function("s => s", arg=1)')
    assert not BARE.search("page.wait_for_function(STILL)")
