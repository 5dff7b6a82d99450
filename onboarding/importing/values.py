"""Reading the values people and 1C put in cells: Russian numbers and dates, several
phones in one cell, names with stray spaces."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
# Separators between several numbers in one cell (a comma never appears inside a Russian
# phone number; Alt+Enter in Excel is a line break) — but never before an extension, which
# belongs to the number before it ("8 495 123-45-67, доб. 12").
_PHONE_SPLIT = re.compile(
    r"\s*(?:[;,/\r\n]|[ \t\u00a0]{2,}|\bи\b)\s*(?!\s*(?:доб|ext|вн|x\s*\d|#))", re.IGNORECASE
)
# A currency word or sign around an amount, with the dot of its abbreviation ("руб.", "р."),
# which must not be read as a decimal point.
_NOT_A_DIGIT = re.compile(r"[^\d\s,.\-\u00a0\u202f]+\.?")
_EMAIL_SPLIT = re.compile(r"[\s;,]+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
# A typed date with the day and the month in either order: "05.03.2026", "05.03.26",
# "03/25/2026", "05.03.2026 г.", "05.03.2026г.".
_TYPED_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?!\d)")
DAY_FIRST, MONTH_FIRST = "dmy", "mdy"
# "5 марта 2026", "05 мар. 2026 г.", "5 March 2026": the month in words, so no order to guess.
_MONTH_NAMES = (
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь",
    "january february march april may june july august september october november december",
    "янв фев мар апр май июн июл авг сен окт ноя дек",
    "янв февр мар апр май июн июл авг сент окт нояб дек",
    "jan feb mar apr may jun jul aug sep oct nov dec",
)
_MONTHS = {
    **{word: n for names in _MONTH_NAMES for n, word in enumerate(names.split(), start=1)},
    "sept": 9,
}
_WORDED_DATE = re.compile(r"^(\d{1,2})\s+([а-яёa-z]{3,9})\.?,?\s+(\d{4})(?!\d)", re.IGNORECASE)


def text(value: object) -> str:
    """A cell as trimmed text; whole floats from Excel lose their ".0"."""
    if type(value) is str:  # most cells: the other cases' checks skipped
        raw = value
    elif value is None:
        return ""
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))
    elif isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    else:
        raw = str(value)
    # Most cells hold no tab, line break, non-breaking space or double space: isprintable() is
    # False for all of those but the last, and skipping the regex halves the cost of a cell.
    if "  " not in raw and raw.isprintable():
        return raw.strip()
    # A NUL (a damaged CSV, an old xls) cannot be stored in PostgreSQL text: dropped.
    return _SPACES.sub(" ", raw.replace("\x00", "")).strip()


def name(value: object) -> str:
    """A name: trimmed, inner runs of spaces collapsed, trailing colons and dots dropped."""
    return text(value).strip(" ;")


def number(value: object) -> Decimal | None:
    """`1 234,56`, `1234.56`, `1,234.56`, `12 500 ₽`, an Excel float → Decimal; '' → None."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    # Excel writes large numbers to CSV in scientific notation: "1,23E+11", "1e40".
    if _SCIENTIFIC.fullmatch(str(value).strip()):
        return Decimal(str(value).strip().replace(",", "."))
    raw = re.sub(r"[^\d,.\-]", "", _SPACES.sub("", _NOT_A_DIGIT.sub("", str(value))))
    if not raw or raw in {"-", ".", ","}:
        return None
    if "," in raw and "." in raw:
        # The last separator is the decimal one: 1,234.56 or 1.234,56.
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    else:
        raw = raw.replace(",", ".")
        if raw.count(".") > 1:
            head, _, tail = raw.rpartition(".")
            raw = head.replace(".", "") + "." + tail
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


_EXCEL_EPOCH = dt.date(1899, 12, 30)


def date(value: object, order: str = DAY_FIRST) -> str:  # noqa: PLR0911  (one return per form)
    """ISO date from `dd.mm.yyyy` (or `mm/dd/yyyy` when the file's `order` is month first),
    `dd.mm.yy`, `yyyy-mm-dd[Thh:mm:ss]`, `5 марта 2026` (`5 мар. 2026`, `5 March 2026`), an
    Excel serial or a datetime; '' when it is not a date."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and 1 < value < 100000:
        return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
    raw = text(value)
    match = _TYPED_DATE.match(raw)
    if match:
        first, second = int(match[1]), int(match[2])
        day, month = (second, first) if order == MONTH_FIRST else (first, second)
        return _iso(_year(match[3]), month, day)
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", raw)
    if match:
        return _iso(int(match[1]), int(match[2]), int(match[3]))
    match = _WORDED_DATE.match(raw)
    named = _MONTHS.get(match[2].lower().replace("ё", "е")) if match else None
    if match and named:
        return _iso(int(match[3]), named, int(match[1]))
    return ""


def _year(typed: str) -> int:
    year = int(typed)
    if year < 100:
        year += 2000 if year < 70 else 1900
    return year


def _iso(year: int, month: int, day: int) -> str:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return ""


class DateOrder(NamedTuple):
    """How a file's typed dates put the day and the month."""

    order: str  # DAY_FIRST or MONTH_FIRST
    typed: bool  # the cells hold typed dates at all (not only Excel dates or none)
    open: bool  # they read two ways ("03.04.2026") and none tells which, or they disagree
    example: str = ""  # the first of them that reads two ways, to ask with


def date_order(cells: Iterable[object]) -> DateOrder:
    """The order these cells' typed dates are written in. "25.03.2026" can only be day first,
    "03/25/2026" only month first; a file of "03.04.2026"s leaves it open, and is read day
    first (the Russian order) unless the person says otherwise."""
    typed = day_first = month_first = False
    example = ""
    for cell in cells:
        match = _TYPED_DATE.match(text(cell)) if isinstance(cell, str) else None
        if match is None:
            continue
        first, second, year = int(match[1]), int(match[2]), _year(match[3])
        as_day_first = bool(_iso(year, second, first))
        as_month_first = bool(_iso(year, first, second))
        typed |= as_day_first or as_month_first
        day_first |= as_day_first and not as_month_first
        month_first |= as_month_first and not as_day_first
        if as_day_first and as_month_first and first != second and not example:
            example = match[0]
    if month_first and not day_first:
        return DateOrder(MONTH_FIRST, typed, open=False)
    if month_first and day_first:
        return DateOrder(DAY_FIRST, typed, open=True)  # the rows disagree: asked, no example
    # Open only when some date would change with the order ("12.12.2026" would not).
    is_open = bool(example) and not day_first
    return DateOrder(DAY_FIRST, typed, open=is_open, example=example if is_open else "")


def phones(value: object) -> list[str]:
    """The separate numbers in one cell: `+7 916 111-22-33, 8 (495) 123-45-67 доб. 12`."""
    # Split before the whitespace is tidied: line breaks and runs of spaces separate numbers.
    raw = value.strip() if isinstance(value, str) else text(value)
    if not raw:
        return []
    # Parts without digits are kept too: the engine reports them instead of dropping them.
    return [text(part) for part in _PHONE_SPLIT.split(raw) if part.strip(" -–—.")]


def emails(value: object) -> list[str]:
    """E-mails in a cell, lower-cased (e-mail addresses are matched case-insensitively)."""
    return [part.lower() for part in _EMAIL_SPLIT.split(text(value)) if "@" in part]


def person_name(full: str) -> tuple[str, str, str]:
    """ "Фамилия Имя Отчество" → (last, first, middle). Two words are read as last + first."""
    parts = name(full).split(" ")
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], " ".join(parts[2:]).strip()
