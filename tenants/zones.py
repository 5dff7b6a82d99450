"""Which time zone a person's dates and times read in: their own, chosen in their profile, or
else the company's (a manager in Yekaterinburg and one in Moscow see the same due time as
17:00 and 15:00)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils.translation import gettext_lazy as _

FALLBACK = "Europe/Moscow"

# Russia's zones west to east, then the neighbours' capitals; every other IANA zone after them.
NEAR = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
    "Europe/Minsk",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Asia/Bishkek",
    "Asia/Yerevan",
    "Asia/Baku",
    "Asia/Tbilisi",
)


@cache
def zone(name: str) -> ZoneInfo:
    """The zone of that name, or Moscow's for an empty or unknown one."""
    try:
        return ZoneInfo(name or FALLBACK)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK)


def zone_of(user: object, company: object) -> ZoneInfo:
    """The person's own zone if they chose one, else the company's."""
    own = str(getattr(user, "time_zone", "") or "")
    return zone(own or str(getattr(company, "time_zone", "") or ""))


@cache
def choices() -> list[tuple[str, str]]:
    rest = sorted(available_timezones() - set(NEAR) - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in (*NEAR, *rest)]


def form_choices(company_zone: str) -> list[tuple[str, str]]:
    """For a profile form: "the company's" first (stored as empty), then every zone."""
    label = _("As the company: %(zone)s") % {"zone": company_zone.replace("_", " ")}
    return [("", str(label)), *choices()]
