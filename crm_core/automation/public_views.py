"""What the company's customers reach without an account: the request form (hosted and
embedded in an iframe), the script that embeds it, and the JSON endpoint for site builders.

These views are the only ones on a company host open to anonymous visitors. They read and write
nothing but the form and the request, and answer every refusal with a reason.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.automation.models import RequestForm
from crm_core.automation.origins import frame_ancestors
from crm_core.automation.services.capture import (
    API,
    UTM_KEYS,
    WEB_FORM,
    Inbound,
    RefusedError,
    fields_of,
    label_of,
    receive,
)
from crm_core.automation.services.setup import hash_key
from relata import jsonlimits
from tenants.services.network import client_ip

HONEYPOT = "website"
STATUS = {"closed": 410, "rate_limited": 429, "invalid": 400, "spam": 200}


def _company_form(request: HttpRequest, token: str) -> RequestForm:
    if getattr(request, "company", None) is None:
        raise Http404("not a company host")
    form = RequestForm.objects.filter(public_id=token).first()
    if form is None:
        raise Http404("no such form")
    return form


def _frame_policy(form: RequestForm) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "style-src 'self'",
            "script-src 'self'",
            "img-src 'self' data:",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors(form.allowed_sites)}",
        ]
    )


@csrf_exempt  # anonymous, cross-site in an iframe: no session to protect; spam checks instead
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest, token: str) -> HttpResponse:
    form = _company_form(request, token)
    specs = [{**s, "label": label_of(s)} for s in fields_of(form)]
    source = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {
        "form": form,
        "specs": specs,
        "values": {s["key"]: source.get(f"f_{s['key']}", "") for s in specs},
        "page": source.get("page", "")[:1000],
        "utm": {k: source.get(k, "")[:200] for k in UTM_KEYS if source.get(k)},
        "errors": {},
        "honeypot": HONEYPOT,
    }
    status = 200
    if request.method == "POST":
        try:
            receive(
                company=request.company,  # type: ignore[attr-defined]
                form=form,
                channel=WEB_FORM,
                inbound=Inbound(
                    values={s["key"]: request.POST.get(f"f_{s['key']}", "") for s in specs},
                    page_url=context["page"] or request.headers.get("referer", ""),
                    referrer=request.POST.get("referrer", "")[:1000],
                    utm=context["utm"],
                    ip=client_ip(request),
                    honeypot=request.POST.get(HONEYPOT, ""),
                ),
            )
        except RefusedError as exc:
            status = STATUS[exc.code]
            if exc.code == "spam":
                context["thanks"] = form.thanks_text
            else:
                context["message"] = exc.message
                context["errors"] = exc.errors
        else:
            context["thanks"] = form.thanks_text
    if not form.is_active and request.method == "GET":
        context["message"] = _("This form no longer accepts requests.")
        status = 410
    response = render(request, "automation/public_form.html", context, status=status)
    response["Content-Security-Policy"] = _frame_policy(form)
    return response


@require_GET
def embed_script(request: HttpRequest, token: str) -> HttpResponse:
    """A small script for the company's site: puts the form in an iframe where it is placed,
    passing the page's address and UTM tags along."""
    form = _company_form(request, token)
    url = request.build_absolute_uri(reverse("automation_public_form", args=[form.public_id]))
    script = (
        "(function(){var s=document.currentScript,q=new URLSearchParams(location.search),"
        f"u=new URL({json.dumps(url)});u.searchParams.set('page',location.href);"
        f"{json.dumps(list(UTM_KEYS))}.forEach(function(k){{if(q.get(k))u.searchParams.set(k,q.get(k))}});"
        "var f=document.createElement('iframe');f.src=u.toString();f.width='100%';f.height='520';"
        "f.style.border='0';f.title='Request form';s.parentNode.insertBefore(f,s.nextSibling);})();"
    )
    response = HttpResponse(script, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _error(status: int, code: str, message: str, fields: Any = None) -> JsonResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt  # authenticated by the form's API key, not by a cookie
@require_POST
def api_request(request: HttpRequest) -> JsonResponse:
    """POST a request as JSON with ``Authorization: Bearer <form API key>``.

    Body: the form's fields by key, optionally ``page_url``, ``referrer`` and ``utm`` (an object
    of utm_* tags). Answers 201 with the ids made, or an error object with a code and a reason.
    """
    if getattr(request, "company", None) is None:
        raise Http404("not a company host")
    header = request.headers.get("authorization", "")
    key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    key = key or request.headers.get("x-form-key", "").strip()
    form = RequestForm.objects.filter(api_key_hash=hash_key(key)).first() if key else None
    if form is None:
        # 403 rather than 401: there is no login to offer, only a key the admin issues.
        return _error(403, "bad_key", _("Unknown or missing form key."))
    try:
        data = jsonlimits.loads(request.body or b"{}")
    except jsonlimits.UnacceptableJSONError as exc:
        return _error(400, exc.code, str(exc))
    if not isinstance(data, dict):
        return _error(400, "bad_json", _("The body must be a JSON object."))
    tags = data.get("utm")
    utm = {k: str(data[k]) for k in UTM_KEYS if data.get(k)}
    if isinstance(tags, dict):
        utm.update(tags)
    try:
        captured = receive(
            company=request.company,  # type: ignore[attr-defined]
            form=form,
            channel=API,
            inbound=Inbound(
                values={str(k): "" if v is None else str(v) for k, v in data.items() if k != "utm"},
                page_url=str(data.get("page_url", "")),
                referrer=str(data.get("referrer", "")),
                utm={str(k): str(v) for k, v in utm.items()},
                ip=client_ip(request),
            ),
        )
    except RefusedError as exc:
        return _error(
            STATUS[exc.code] if exc.code != "spam" else 400, exc.code, exc.message, exc.errors
        )
    return JsonResponse(
        {"id": captured.pk, "lead": captured.lead_id, "deal": captured.deal_id}, status=201
    )
