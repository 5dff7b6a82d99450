"""The quick reading of Russian phone spellings gives what phonenumbers' parser gives."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from crm_core import normalise

SPELLINGS = (
    "8 ({a}) {b}-{c}-{d}",
    "+7 {a} {b} {c} {d}",
    "+7({a}){b}-{c}-{d}",
    "8{a}{b}{c}{d}",
    "7{a}{b}{c}{d}",
    "{a}{b}{c}{d}",
    "({a}) {b}-{c}-{d}",
    "+8 {a} {b} {c} {d}",
    "+1 {a} {b} {c} {d}",
    "8 10 {a} {b} {c}{d}",
    "{a} {b}-{c}",
)
EXTENSIONS = ("", " доб. 12", ", доб 5", " ext. 123", " вн. 7", " добавочный 0451")


def _slow(raw: str, monkeypatch: Any) -> tuple[str, str] | None:
    with monkeypatch.context() as patched:
        patched.setattr(normalise, "_plain_russian", lambda _text: None)
        try:
            number = normalise.parse_phone(raw)
        except ValidationError:
            return None
    return number.e164, number.extension


def test_the_quick_reading_agrees_with_phonenumbers(monkeypatch: Any) -> None:
    rng = random.Random(11)  # noqa: S311 - test data, not secrets
    quick = 0
    for _ in range(3000):
        first = rng.choice("3489" + "7" + "0123456789")
        national = first + "".join(rng.choice("0123456789") for _ in range(9))
        parts = {"a": national[:3], "b": national[3:6], "c": national[6:8], "d": national[8:]}
        raw = rng.choice(SPELLINGS).format(**parts) + rng.choice(EXTENSIONS)
        fast = normalise._plain_russian(raw)
        slow = _slow(raw, monkeypatch)
        if fast is not None:
            quick += 1
            assert (fast.e164, fast.extension) == slow, raw
            assert fast.raw == raw.strip()
    # Most spellings of valid numbers take the quick way (else this test tests nothing).
    assert quick > 500


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 (495) 123-45-67 доб. 12", ("+74951234567", "12")),
        ("+7 916 123 45 67", ("+79161234567", "")),
        ("8 727 250 12 34", ("+77272501234", "")),  # Almaty: a +7 number of Kazakhstan
        ("8 800 555-35-35", ("+78005553535", "")),
    ],
)
def test_everyday_spellings_are_read_quickly(raw: str, expected: tuple[str, str]) -> None:
    number = normalise._plain_russian(raw)
    assert number is not None
    assert (number.e164, number.extension) == expected
    assert (normalise.parse_phone(raw).e164, normalise.parse_phone(raw).extension) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "+1 212 555 0100",
        "8 10 49 30 1234567",
        "+44 20 7946 0958",
        "123-45",
        "8 (000) 000-00-00",
        "\uff19\uff11\uff16 \uff11\uff12\uff13-\uff14\uff15-\uff16\uff17",  # fullwidth digits
        "916\t123 45 67",  # a tab, which phonenumbers does not take as a separator
        "8 916 123 45 67" + " " * 60 + "1",  # longer than a number: the parser's own limits
    ],
)
def test_other_spellings_go_to_phonenumbers(raw: str, monkeypatch: Any) -> None:
    assert normalise._plain_russian(raw) is None
    # Whatever phonenumbers makes of them is what parse_phone gives.
    try:
        number = normalise.parse_phone(raw)
    except ValidationError:
        assert _slow(raw, monkeypatch) is None
    else:
        assert (number.e164, number.extension) == _slow(raw, monkeypatch)
