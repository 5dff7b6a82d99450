"""Reading numbers people (or scripts) put in query strings and form fields.

`str.isdigit()` is true for "²", "³" and other Unicode digits that `int()` refuses, and an
int of any length fails in PostgreSQL's bigint: both turned a bad parameter into a 500.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BIGINT = 2**63


def whole_number(raw: str | None, *, below: int = BIGINT) -> int | None:
    """The non-negative whole number `raw` spells in ASCII digits, below `below`; else None."""
    if not raw or not (raw.isascii() and raw.isdigit()):
        return None
    number = int(raw)
    return number if number < below else None


FIRST_YEAR, LAST_YEAR = 1900, 2199


def plausible_date(value: dt.date) -> None:
    """A form field's validator: dates a CRM has a use for. At the calendar's edges
    (9999-12-31 with an offset, a report period's day after) date arithmetic overflows."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            _("Choose a date between %(first)s and %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
            code="date_range",
        )
