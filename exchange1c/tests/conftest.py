"""A company with its exchange switched on, and 1C pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from exchange1c.services import access
from exchange1c.tests.onec import OneC
from relata.celery import app
from tests.browser import chromium_page

__all__ = ["chromium_page", "eager", "exchange", "switched_on"]


@dataclass
class Exchange:
    company: Any
    owner: Any
    host: str
    login: str
    password: str

    def onec(self, kind: str = "catalog") -> OneC:
        return OneC(host=self.host, login=self.login, password=self.password, kind=kind)


def switched_on(made: Any) -> Exchange:
    with made.company:
        settings = access.switch(company=made.company, enabled=True)
        password = access.new_password(company=made.company)
    return Exchange(made.company, made.owner, made.host, settings.login, password)


@pytest.fixture
def exchange(make_company: Callable[..., Any], media_root: Any, settings: Any) -> Exchange:
    settings.EXCHANGE1C_FILE_LIMIT = 4096  # small, so the real files go in several chunks
    return switched_on(make_company("Okna Kirilla"))


@pytest.fixture
def eager() -> Iterator[None]:
    """The import task runs inside the request, in its company's schema."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
