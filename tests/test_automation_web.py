"""The public request form, its embed script and the JSON API on a company host; admin pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from crm_core.automation.models import CapturedRequest, RequestForm
from crm_core.automation.services.setup import issue_api_key
from crm_core.models import Deal, Lead
from tests.test_isolation import login_on_host


def _form(company: Any, **kwargs: Any) -> RequestForm:
    with company:
        return RequestForm.objects.create(name="Site", **kwargs)


def test_anonymous_visitor_leaves_a_request_through_the_hosted_form(crm: Any) -> None:
    form = _form(crm.a, target=RequestForm.Target.DEAL, allowed_sites="https://okna.example")
    visitor = HttpClient(enforce_csrf_checks=True)
    url = f"/public/forms/{form.public_id}/"
    page = visitor.get(
        url + "?page=https://okna.example/&utm_source=vk&utm_medium=cpc", HTTP_HOST=crm.a.host
    )
    assert page.status_code == 200
    assert "frame-ancestors 'self' https://okna.example" in page["Content-Security-Policy"]
    assert "X-Frame-Options" not in page
    assert b'name="utm_source" value="vk"' in page.content
    sent = visitor.post(
        url,
        {
            "f_name": "Иван",
            "f_phone": "+7 916 000-11-22",
            "page": "https://okna.example/",
            "utm_source": "vk",
        },
        HTTP_HOST=crm.a.host,
        REMOTE_ADDR="203.0.113.9",
    )
    assert sent.status_code == 200, sent.content
    assert b"request-thanks" in sent.content
    with crm.a:
        deal = Deal.objects.get()
        assert deal.source == "vk"
        lead = Lead.objects.get()
        assert lead.utm["page_url"] == "https://okna.example/"
        assert lead.utm["ip"] == "203.0.113.9"


def test_the_rest_of_the_crm_stays_closed_to_anonymous_visitors(crm: Any) -> None:
    visitor = HttpClient()
    assert visitor.get("/automation/", HTTP_HOST=crm.a.host).status_code == 302
    assert visitor.get("/deals/", HTTP_HOST=crm.a.host).status_code == 302
    other = visitor.get("/deals/")  # a normal page keeps denying frames
    assert other.get("X-Frame-Options", "DENY") == "DENY"


def test_form_with_bad_input_answers_with_reasons_and_keeps_what_was_typed(crm: Any) -> None:
    form = _form(crm.a)
    response = HttpClient().post(
        f"/public/forms/{form.public_id}/",
        {"f_name": "", "f_phone": "abc", "f_email": "x@"},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 400
    assert b"request-error" in response.content
    assert b'value="abc"' in response.content
    with crm.a:
        assert CapturedRequest.objects.get().status == CapturedRequest.Status.INVALID


def test_honeypot_gets_thanks_and_creates_nothing(crm: Any) -> None:
    form = _form(crm.a)
    response = HttpClient().post(
        f"/public/forms/{form.public_id}/",
        {"f_name": "Bot", "f_phone": "+79160001122", "website": "http://spam"},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 200
    assert b"request-thanks" in response.content
    with crm.a:
        assert Lead.objects.count() == 0
        assert CapturedRequest.objects.count() == 0


def test_embed_script_points_at_the_form_on_the_company_host(crm: Any) -> None:
    form = _form(crm.a)
    response = HttpClient().get(f"/public/forms/{form.public_id}/embed.js", HTTP_HOST=crm.a.host)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert f"{crm.a.host}/public/forms/{form.public_id}/".encode() in response.content


def test_api_creates_a_request_with_the_form_key(crm: Any) -> None:
    form = _form(crm.a, target=RequestForm.Target.LEAD)
    with crm.a:
        key = issue_api_key(membership=crm.owner, form=form)
    api = HttpClient()
    body = {"name": "Анна", "phone": "89160001122", "utm": {"utm_source": "tilda"}}
    response = api.post(
        "/public/api/requests/",
        json.dumps(body),
        content_type="application/json",
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 201, response.content
    with crm.a:
        lead = Lead.objects.get(pk=response.json()["lead"])
        assert lead.source == "tilda"
    bad = api.post(
        "/public/api/requests/",
        json.dumps({"name": "Анна", "email": "nope"}),
        content_type="application/json",
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"
    assert "email" in bad.json()["error"]["fields"]
    broken = api.post(
        "/public/api/requests/",
        "{not json",
        content_type="application/json",
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "bad_json"
    missing = api.post("/public/api/requests/", "{}", "application/json", HTTP_HOST=crm.a.host)
    assert missing.status_code == 403


def test_company_a_form_key_and_form_id_do_not_reach_company_b(crm: Any) -> None:
    form = _form(crm.a, target=RequestForm.Target.LEAD)
    with crm.a:
        key = issue_api_key(membership=crm.owner, form=form)
    api = HttpClient()
    response = api.post(
        "/public/api/requests/",
        json.dumps({"name": "X", "phone": "+79160001122"}),
        content_type="application/json",
        HTTP_HOST=crm.b.host,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 403
    assert api.get(f"/public/forms/{form.public_id}/", HTTP_HOST=crm.b.host).status_code == 404
    posted = api.post(
        f"/public/forms/{form.public_id}/",
        {"f_name": "X", "f_phone": "+79160001122"},
        HTTP_HOST=crm.b.host,
    )
    assert posted.status_code == 404
    with crm.b:
        assert Lead.objects.count() == 0
    with crm.a:
        assert Lead.objects.count() == 0


def test_admin_configures_a_form_and_managers_cannot(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    response = owner.post(
        "/automation/forms/new/",
        {
            "name": "Замер",
            "is_active": "on",
            "target": "deal",
            "pipeline": crm.pipeline.pk,
            "assign": "fixed",
            "assignee_id": str(crm.manager.user_id),
            "field_lines": "name | Имя *\nphone | Телефон *\nwindows | Сколько окон",
            "per_ip_per_hour": 5,
            "per_form_per_hour": 100,
            "thanks_text": "Спасибо!",
        },
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with crm.a:
        form = RequestForm.objects.get(name="Замер")
        assert form.fields[2] == {"key": "windows", "label": "Сколько окон", "required": False}
        assert form.assignee_id == crm.manager.user_id
    page = owner.get(f"/automation/forms/{form.pk}/", HTTP_HOST=crm.a.host)
    assert b"embed-snippet" in page.content
    no_phone = owner.post(
        "/automation/forms/new/",
        {"name": "x", "target": "lead", "assign": "fixed", "field_lines": "name *"},
        HTTP_HOST=crm.a.host,
    )
    assert no_phone.status_code == 200
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/automation/", HTTP_HOST=crm.a.host).status_code == 404
    assert manager.get(f"/automation/forms/{form.pk}/", HTTP_HOST=crm.a.host).status_code == 404


def test_office_only_company_still_takes_requests_from_customers(crm: Any) -> None:
    from tenants.models import Company

    form = _form(crm.a)
    Company.objects.filter(pk=crm.a.company.pk).update(ip_allowlist="192.0.2.0/24")
    visitor = HttpClient()
    page = visitor.get(
        f"/public/forms/{form.public_id}/", HTTP_HOST=crm.a.host, REMOTE_ADDR="203.0.113.7"
    )
    assert page.status_code == 200
    crm_page = visitor.get("/deals/", HTTP_HOST=crm.a.host, REMOTE_ADDR="203.0.113.7")
    assert crm_page.status_code == 403


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://Okna.example/", "https://okna.example"),
        ("http://okna.example:8080", "http://okna.example:8080"),
        ("https://*.okna.example", "https://*.okna.example"),
        ("https://окна.рф", "https://xn--80atjc.xn--p1ai"),
    ],
)
def test_embed_sites_are_stored_as_origins(typed: str, stored: str) -> None:
    from crm_core.automation.origins import parse_origin

    assert parse_origin(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "https://okna.example; script-src *",
        "'unsafe-inline'",
        "*",
        "javascript:alert(1)",
        "https://okna.example/path",
        "https://okna.example?x=1",
        "https://user:pw@okna.example",
        "https://okna.example:99999",
        "ftp://okna.example",
        "okna.example",
        "https://ok'na.example",
    ],
)
def test_embed_sites_that_are_not_origins_are_refused_on_save(crm: Any, typed: str) -> None:
    from django.core.exceptions import ValidationError

    from crm_core.automation.services.setup import save_form

    with crm.a:
        form = RequestForm(name="Site form", allowed_sites=f"https://good.example\n{typed}")
        with pytest.raises(ValidationError) as refused:
            save_form(membership=crm.owner, form=form)
        assert "allowed_sites" in refused.value.message_dict
        assert not RequestForm.objects.filter(name="Site form").exists()


def test_a_bad_site_saved_before_the_check_never_reaches_the_header(crm: Any) -> None:
    form = _form(crm.a, target=RequestForm.Target.DEAL, allowed_sites="https://okna.example")
    with crm.a:
        # As a row saved before validation existed (update skips the model's validators).
        RequestForm.objects.filter(pk=form.pk).update(
            allowed_sites="https://okna.example\nhttps://x.example; script-src 'unsafe-inline'"
        )
    page = HttpClient().get(f"/public/forms/{form.public_id}/", HTTP_HOST=crm.a.host)
    policy = page["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://okna.example" in policy
    assert "unsafe-inline" not in policy
    assert "x.example" not in policy
    with crm.a:
        RequestForm.objects.filter(pk=form.pk).update(allowed_sites="'unsafe-inline'")
    page = HttpClient().get(f"/public/forms/{form.public_id}/", HTTP_HOST=crm.a.host)
    # Every entry bad: only our own pages may frame it (not "any site").
    assert page["Content-Security-Policy"].endswith("frame-ancestors 'self'")
