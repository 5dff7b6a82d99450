"""The addresses a PBX posts call events to, on the company's own host under /public/ (open to
the provider wherever it is, even under "office only").

The host names the company (django-tenants has already switched to its schema); the company's
own keys check the signature, so company A's PBX or secret can never write into company B.
Every refusal is answered with a status and a reason, and logged; nothing is written for it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from telephony.models import Provider
from telephony.providers import adapter_for
from telephony.providers.base import RefusedEventError
from telephony.providers.relata import SIGNATURE_HEADER, TIMESTAMP_HEADER
from telephony.serializers import (
    CallEventAnswerSerializer,
    CallEventErrorSerializer,
    CallEventSerializer,
)
from telephony.services.connection import credentials, current
from telephony.services.events import take

log = logging.getLogger("telephony.webhooks")


def receive(request: HttpRequest, provider: str, event: str = "") -> JsonResponse:
    company = getattr(request, "company", None)
    if company is None:
        return _refused(RefusedEventError(404, "not_found", "Not a company's address."), provider)
    if provider == Provider.RELATA and not (
        request.headers.get(TIMESTAMP_HEADER, "").strip()
        and request.headers.get(SIGNATURE_HEADER, "").strip()
    ):
        # Unsigned is refused as unsigned, whether or not a PBX is connected (the schema says so).
        return _refused(
            RefusedEventError(
                401, "signature", f"Sign the event: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}."
            ),
            provider,
        )
    connection = current()
    if (
        connection is None
        or not connection.is_active
        or (provider not in (Provider.RELATA, connection.provider))
    ):
        return _refused(
            RefusedEventError(404, "not_connected", "This PBX is not connected here."), provider
        )
    try:
        updates, payload = adapter_for(provider).parse(
            request, credentials(connection), event=event
        )
    except RefusedEventError as exc:
        return _refused(exc, provider)
    status = take(
        company=company,
        connection=connection,
        provider=provider,
        updates=updates,
        payload=payload,
    )
    return JsonResponse({"status": status})


def _refused(error: RefusedEventError, provider: str) -> JsonResponse:
    # The reason and the provider, never the body (it names people and numbers) or a key.
    log.warning("telephony: %s webhook refused (%s): %s", provider, error.code, error.message)
    body: dict[str, Any] = {"error": error.code, "message": error.message}
    fields = getattr(error, "fields", None)
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=error.status)


EXAMPLE = {
    "event": "started",
    "call_id": "pbx-7f3a9",
    "direction": "incoming",
    "from_number": "+79161234567",
    "to_number": "+74951234567",
    "extension": "101",
}


class CallEventsView(APIView):
    """Relata's own call-event format, for any PBX (or a script beside an Asterisk)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    # The body is read raw (the signature covers its bytes) and checked by the adapter.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="call_events_create",
        tags=["telephony"],
        summary="Post a call event (signed)",
        description=(
            "One event of a telephone call: started, answered, ended or missed. Sign it with the "
            "webhook secret from Settings → Telephony: `X-Relata-Signature: sha256=<hex "
            'HMAC-SHA256 of "<timestamp>.<raw body>">` and `X-Relata-Timestamp: <Unix '
            "seconds>`. An event more than five minutes from now is refused as a replay; the "
            "same call_id and event again is answered `duplicate` and changes nothing."
        ),
        auth=[],
        request=CallEventSerializer,
        parameters=[
            OpenApiParameter(
                TIMESTAMP_HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=True
            ),
            OpenApiParameter(
                SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True
            ),
        ],
        responses={
            200: CallEventAnswerSerializer,
            400: CallEventErrorSerializer,
            401: CallEventErrorSerializer,
            404: CallEventErrorSerializer,
        },
        examples=[OpenApiExample("An incoming call rings", value=EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> HttpResponse:
        return receive(request._request, Provider.RELATA)


@csrf_exempt  # a provider's server posts here: its signature stands in for a session
@require_POST
def mango_event(request: HttpRequest, event: str) -> HttpResponse:
    return receive(request, Provider.MANGO, event)


@csrf_exempt  # as above
@require_http_methods(["GET", "POST"])
def zadarma_event(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        # Zadarma checks the address before saving it: ?zd_echo=<x> must answer <x>.
        connection = current()
        if connection is None or connection.provider != Provider.ZADARMA:
            return HttpResponse(status=404)
        echo = request.GET.get("zd_echo", "")
        if not echo or len(echo) > 100 or not echo.isalnum():
            return HttpResponse(status=400)
        return HttpResponse(echo, content_type="text/plain")
    return receive(request, Provider.ZADARMA)
