"""Logs and Sentry events carry the company and the user's id, and no personal data."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sentry_sdk
from django.test import Client as HttpClient
from sentry_sdk.transport import Transport

from relata.logs import CompanyContextFilter
from relata.sentry import init_sentry
from tests.test_isolation import login_on_host


class CapturingTransport(Transport):
    """A Sentry transport that keeps envelopes in memory instead of sending them."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Any) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def sentry_events() -> Any:
    transport = CapturingTransport()
    init_sentry("https://public@sentry.example.invalid/1", environment="test", transport=transport)
    yield transport.events
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to a disabled client


def test_sentry_event_from_a_company_request_carries_company_and_user_id_only(
    two_companies: Any, sentry_events: list[dict[str, Any]]
) -> None:
    a, _ = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    browser.get("/", HTTP_HOST=a.host)
    # Capture inside the request context the way the Django integration does: from a view.
    from relata.logs import current_user_id

    with a:
        token = current_user_id.set(a.owner.pk)
        try:
            sentry_sdk.capture_message("something odd in the CRM")
        finally:
            current_user_id.reset(token)
    (event,) = sentry_events
    assert event["tags"]["company"] == a.company.schema_name
    assert event["user"] == {"id": str(a.owner.pk)}
    assert event["environment"] == "test"
    assert a.owner.email not in str(event)


def test_unhandled_error_in_a_view_reaches_sentry_with_company_tag(
    two_companies: Any, sentry_events: list[dict[str, Any]], monkeypatch: Any
) -> None:
    a, _ = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    browser.raise_request_exception = False

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("selector exploded")

    monkeypatch.setattr("crm_core.home_views.recent_clients", broken)
    assert browser.get("/", HTTP_HOST=a.host).status_code == 500
    errors = [event for event in sentry_events if event.get("level") == "error"]
    assert errors, sentry_events
    event = errors[-1]
    assert event["tags"]["company"] == a.company.schema_name
    assert event["user"] == {"id": str(a.owner.pk)}
    assert "cookies" not in event.get("request", {})
    assert a.owner.email not in str(event)


def test_log_lines_carry_the_company_and_user(two_companies: Any) -> None:
    """The handler configured in settings.LOGGING writes the company on every line."""
    import io

    from django.conf import settings

    from relata.logs import current_user_id

    a, b = two_companies
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CompanyContextFilter())
    log_format: str = settings.LOGGING["formatters"]["plain"]["format"]  # type: ignore[index]
    handler.setFormatter(logging.Formatter(log_format))
    logger = logging.getLogger("relata.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with a:
            token = current_user_id.set(a.owner.pk)
            logger.info("called the client back")
            current_user_id.reset(token)
        with b:
            logger.info("nobody here")
    finally:
        logger.removeHandler(handler)
    line_a, line_b = stream.getvalue().splitlines()
    assert f"[company={a.company.schema_name} user={a.owner.pk}]" in line_a
    assert f"[company={b.company.schema_name} user=-]" in line_b


def test_security_headers_on_every_response(db: None) -> None:
    response = HttpClient().get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
