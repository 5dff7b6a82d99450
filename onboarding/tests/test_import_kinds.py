"""kinds.client_kind: legal entity, sole trader or private person, from every format's signs."""

from __future__ import annotations

import pytest

from onboarding.importing.kinds import client_kind, is_sole_trader_name, marker_kind

PERSONAL_INN = "500312345614"  # a valid 12-digit Russian INN
KAZAKH_BIN = "181620360057"  # 12 digits, not a Russian INN (the 1C Kazakhstan demo base)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ИП Петров Пётр Петрович", True),
        ("И.П. Петров", True),
        ("Индивидуальный предприниматель Сидорова А. В.", True),
        ("индивидуального предпринимателя Сидоровой", True),
        ("Петров П. П. ИП", True),
        ('ИП "Петров"', True),
        ("ИПОТЕКА-ЦЕНТР ООО", False),
        ("Ипатов Сергей", False),
        ('ООО "Вектор"', False),
        ("", False),
    ],
)
def test_a_sole_trader_by_name(name: str, expected: bool) -> None:
    assert is_sole_trader_name(name) is expected


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("ИндивидуальныйПредприниматель", "sole_trader"),
        ("ИП", "sole_trader"),
        ("ФизическоеЛицо", "person"),
        ("ФизЛицо", "person"),
        ("Физ. лицо", "person"),
        ("ЮридическоеЛицо", "legal"),
        ("ЮрЛицо", "legal"),
        ("Юр. лицо", "legal"),
        ("sole_trader", "sole_trader"),
        ("Покупатель", ""),
        ("", ""),
    ],
)
def test_markers_of_every_format(marker: str, expected: str) -> None:
    assert marker_kind(marker) == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # EnterpriseData's explicit value.
        ({"name": "Петров П. П.", "marker": "ИндивидуальныйПредприниматель"}, "sole_trader"),
        # 1C:Accounting keeps a sole trader as a person with a 12-digit INN.
        ({"name": "Петров П. П.", "inn": PERSONAL_INN, "marker": "ФизическоеЛицо"}, "sole_trader"),
        # CommerceML writes one as an organisation: its INN, OGRNIP or name tell.
        ({"name": "Петров", "inn": PERSONAL_INN, "marker": "ЮрЛицо"}, "sole_trader"),
        ({"name": "Петров", "ogrnip": "304500116000157", "marker": "ЮрЛицо"}, "sole_trader"),
        ({"name": "Петров", "full_name": "ИП Петров Пётр", "marker": "ЮрЛицо"}, "sole_trader"),
        # A Kazakh BIN is not a sole trader's sign: an organisation stays one.
        ({"name": "ТД Уют", "inn": KAZAKH_BIN, "marker": "ЮрЛицо"}, "legal"),
        ({"name": "ТД Уют", "inn": KAZAKH_BIN}, "legal"),
        # A private person with no tax id.
        ({"name": "Петров Пётр", "marker": "ФизЛицо"}, "person"),
        # A web shop's buyer fields filled for a company with a 10-digit INN.
        ({"name": "Вектор", "inn": "7707083893", "marker": "ФизЛицо"}, "legal"),
        # Nothing tells: the caller's default.
        ({"name": "Анна Смирнова", "default": "person"}, "person"),
        ({"name": "Вектор"}, "legal"),
        ({"name": "Вектор", "inn": PERSONAL_INN}, "sole_trader"),
    ],
)
def test_client_kind(kwargs: dict[str, str], expected: str) -> None:
    assert client_kind(**kwargs) == expected
