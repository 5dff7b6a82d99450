"""Public-site pages of the shell: the landing page and the health check."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from relata.celery import app as celery_app


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("companies")
    return render(request, "relata/landing.html")


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


def _broker_ok() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            # kombu's redis transport connects lazily: ask the server something.
            conn.default_channel.client.ping()
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    healthy = db_ok and broker_ok
    body = {
        "status": "ok" if healthy else "fail",
        "database": db_detail,
        "broker": broker_detail,
        "failing": [name for name, ok in (("database", db_ok), ("broker", broker_ok)) if not ok],
    }
    return JsonResponse(body, status=200 if healthy else 503)


# Seconds a client is asked to wait before trying again while the database is unreachable: a
# restart or a fail-over takes about this long (bench/faults.py measured 10–20 s outages).
RETRY_AFTER = "10"


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler. The database being unreachable (restarting, failing over) is not a bug
    in the request: answer 503 with Retry-After, so browsers and API clients try again instead
    of giving up. Rendered without the request — a context processor could need the database."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "error": {
                        "code": "unavailable",
                        "message": "The service is restarting; try again in a few seconds.",
                        "fields": {},
                    }
                },
                status=503,
                headers={"Retry-After": RETRY_AFTER},
            )
        return HttpResponse(
            render_to_string("relata/unavailable.html", {"retry_after": RETRY_AFTER}),
            status=503,
            headers={"Retry-After": RETRY_AFTER},
        )
    return defaults.server_error(request)
