"""Sign-up: a company is ready at once, and bad input never leaves a half-made company."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client as HttpClient

from crm_core.models import Client
from relata.db import connection
from tenants.models import Company, Domain, HandoffToken, Membership, User
from tenants.signals import company_provisioned

GOOD_PASSWORD = "Correct-Horse-42"


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "company_name": "Okna Kirilla",
        "slug": f"okna-{uuid.uuid4().hex[:8]}",
        "email": f"kirill-{uuid.uuid4().hex[:6]}@example.com",
        "password": GOOD_PASSWORD,
        "signup_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def _error_codes(response: Any, field: str) -> set[str]:
    errors = response.context["form"].errors.as_data().get(field, [])
    return {error.code for error in errors}


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_signup_page_renders_in_russian_and_english(client: HttpClient) -> None:
    ru = client.get("/signup/", HTTP_ACCEPT_LANGUAGE="ru")
    en = client.get("/signup/", HTTP_ACCEPT_LANGUAGE="en")
    assert ru.status_code == en.status_code == 200
    assert "Создайте CRM" in ru.content.decode()
    assert "Create your company" in en.content.decode()


@pytest.mark.django_db
def test_signup_creates_a_ready_company_and_lands_the_owner_in_it(client: HttpClient) -> None:
    data = _form()
    response = client.post("/signup/", data)
    assert response.status_code == 302
    host = f"{data['slug']}.localhost"
    assert response["Location"].startswith(f"http://{host}/handoff/")

    company = Company.objects.get(slug=data["slug"])
    owner = User.objects.get(email=data["email"])
    assert Domain.objects.filter(tenant=company, domain=host, is_primary=True).exists()
    assert Membership.objects.get(company=company, user=owner).role == "owner"
    assert _schema_exists(company.schema_name)

    # The handoff link logs the owner in on the company's own host.
    company_browser = HttpClient()
    path = response["Location"].split(host, 1)[1]
    landed = company_browser.get(path, HTTP_HOST=host)
    assert landed.status_code == 302
    # ... and lands on the guided setup, which starts with the company's details.
    assert landed["Location"] == "/setup/"
    setup = company_browser.get("/setup/", HTTP_HOST=host, follow=True)
    assert setup.redirect_chain[-1][0] == "/setup/details/"
    assert setup.status_code == 200
    workspace = company_browser.get("/", HTTP_HOST=host)
    assert workspace.status_code == 200
    assert data["company_name"] in workspace.content.decode()
    # The workspace really is a CRM: adding a client writes to the company's own schema.
    company_browser.post("/", {"name": "First client"}, HTTP_HOST=host)
    with company:
        assert list(Client.objects.values_list("name", flat=True)) == ["First client"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("www", "reserved"),
        ("admin", "reserved"),
        ("api", "reserved"),
        ("static", "reserved"),
        ("ab", "invalid"),
        ("-okna", "invalid"),
        ("okna-", "invalid"),
        ("okna_kirilla", "invalid"),
        ("окна", "invalid"),
        ("1okna", "invalid"),
        ("okna--kirilla", "invalid"),
    ],
)
def test_bad_subdomains_get_a_clear_message(client: HttpClient, slug: str, code: str) -> None:
    before = Company.objects.count()
    response = client.post("/signup/", _form(slug=slug), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert code in _error_codes(response, "slug")
    assert Company.objects.count() == before
    assert not User.objects.filter(email=response.context["form"].data["email"]).exists()


@pytest.mark.django_db
def test_taken_subdomain_and_registered_email_are_refused(
    client: HttpClient, make_company: Any
) -> None:
    existing = make_company("Existing")
    taken = client.post("/signup/", _form(slug=existing.company.slug))
    assert "slug_taken" in _error_codes(taken, "slug")
    reused = client.post("/signup/", _form(email=existing.owner.email.upper()))
    assert "email_taken" in _error_codes(reused, "email")
    assert Company.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["short1", "12345678901", "password123", "okna-kirilla"])
def test_weak_password_is_refused(client: HttpClient, password: str) -> None:
    data = _form(password=password, slug="okna-kirilla", email="okna-kirilla@example.com")
    response = client.post("/signup/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not Company.objects.exists()


@pytest.mark.django_db
def test_double_submitted_signup_makes_one_company_and_still_lands(client: HttpClient) -> None:
    data = _form()
    first = client.post("/signup/", data)
    second = HttpClient().post("/signup/", data)  # the browser's second request
    assert first.status_code == second.status_code == 302
    assert Company.objects.filter(slug=data["slug"]).count() == 1
    assert second["Location"].startswith(f"http://{data['slug']}.localhost/handoff/")
    # Someone else replaying the form key without the password gets no way in.
    intruder = HttpClient().post("/signup/", {**data, "password": "Other-Secret-77"})
    assert intruder.status_code == 200
    assert HandoffToken.objects.count() == 2


@pytest.mark.django_db
def test_failure_midway_leaves_nothing_behind(client: HttpClient) -> None:
    data = _form()

    def explode(**kwargs: Any) -> None:
        raise RuntimeError("seeding failed")

    company_provisioned.connect(explode, dispatch_uid="test-explode")
    try:
        with pytest.raises(RuntimeError):
            client.post("/signup/", data)
    finally:
        company_provisioned.disconnect(dispatch_uid="test-explode")
    connection.set_schema_to_public()
    assert not Company.objects.filter(slug=data["slug"]).exists()
    assert not User.objects.filter(email=data["email"]).exists()
    assert not _schema_exists("c_" + data["slug"].replace("-", "_"))


@pytest.mark.parametrize("slug", ["spare-parts", "okna-kirilla", "abc", "a1-b2-c3"])
def test_ordinary_business_names_are_valid_subdomains(slug: str) -> None:
    from tenants.services.provisioning import validate_slug

    validate_slug(slug)  # raises if refused


def test_four_simultaneous_identical_signups_all_land_in_one_workspace(
    committed_companies: Any,
) -> None:
    """A quadruple click: every request lands in the same company, none sees "address taken"."""
    import threading

    from django.db import connection as thread_connection

    data = _form()
    start = threading.Barrier(4)
    answers: list[tuple[int, str]] = []

    def submit() -> None:
        try:
            start.wait()
            answer = HttpClient().post("/signup/", data)
            answers.append((answer.status_code, answer.get("Location", "")))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    committed_companies.adopt(data["slug"])  # purged after the test
    assert [status for status, _ in answers] == [302] * 4, answers
    assert all(
        where.startswith(f"http://{data['slug']}.localhost/handoff/") for _, where in answers
    )
    assert Company.objects.filter(slug=data["slug"]).count() == 1
