"""Finding a company's requisites by its INN: a small pluggable source.

Settings: ``ONBOARDING_COMPANY_LOOKUP`` is the dotted path of a class with a ``name`` and a
``find(inn)`` method returning ``FoundCompany`` or None (e.g. a DaData or FNS EGRUL client an
operator adds). With none configured the wizard says so and the owner types the details.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundCompany:
    legal_name: str
    inn: str
    kpp: str = ""
    ogrn: str = ""
    legal_address: str = ""
    director: str = ""


class CompanyLookup(Protocol):
    name: str

    def find(self, inn: str) -> FoundCompany | None: ...


class LookupFailed(Exception):  # noqa: N818
    """The source did not answer (network, quota): the owner types the details instead."""


def configured() -> CompanyLookup | None:
    path = getattr(settings, "ONBOARDING_COMPANY_LOOKUP", "")
    if not path:
        return None
    source: CompanyLookup = import_string(path)()
    return source


def find(inn: str) -> FoundCompany | None:
    """The company with this (checksum-valid) INN, None when the source does not know it.
    Raises LookupFailed when there is no source or it fails."""
    source = configured()
    if source is None:
        raise LookupFailed("no source configured")
    try:
        return source.find(inn)
    except Exception as exc:  # a third-party source may fail in any way; the owner types
        logger.warning("company lookup %s failed for an INN", source.name, exc_info=True)
        raise LookupFailed(str(exc)) from exc
