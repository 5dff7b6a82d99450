"""The guided start: progress kept per company, steps skipped and done later, sample data that
goes without touching real data, the INN lookup, and isolation between companies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from crm_core.automation.models import StageRule
from crm_core.documents.models import Requisites
from crm_core.models import Client, Contact, Deal, Phone, Pipeline, Task
from onboarding.models import CompanyDetails, SetupProgress
from onboarding.services import setup, templates
from tenants.models import Invitation, Membership, User
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


def _owner(company: Any) -> Membership:
    return Membership.objects.get(company=company.company, user=company.owner)


def test_progress_is_kept_so_the_owner_comes_back_to_the_same_step(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    home = browser.get("/", HTTP_HOST=a.host).content.decode()
    assert 'id="setup-entry"' in home
    assert browser.get("/setup/", HTTP_HOST=a.host)["Location"] == "/setup/details/"
    saved = browser.post(
        "/setup/details/",
        {"inn": "7707083893", "legal_name": "ООО Окна Кирилла", "kpp": "773601001"},
        HTTP_HOST=a.host,
    )
    assert saved["Location"] == "/setup/bank/"
    # Gone and back (a new browser, the next day): the setup continues where it stopped.
    again = login_on_host(a.owner, a.company, a.host)
    assert again.get("/setup/", HTTP_HOST=a.host)["Location"] == "/setup/bank/"
    with a:
        assert SetupProgress.objects.get().steps == {"details": "done"}
        details = CompanyDetails.objects.get()
        assert (details.legal_name, details.inn, details.source) == (
            "ООО Окна Кирилла",
            "7707083893",
            "",
        )
        # The same details are what documents print.
        printed = Requisites.objects.get()
        assert (printed.name, printed.full_name, printed.inn, printed.kpp) == (
            "ООО Окна Кирилла",
            "ООО Окна Кирилла",
            "7707083893",
            "773601001",
        )


def test_a_bad_inn_is_refused_and_nothing_is_saved(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    page = browser.post(
        "/setup/details/", {"inn": "7707083890", "legal_name": "ООО Ромашка"}, HTTP_HOST=a.host
    )
    assert page.status_code == 200
    assert "7707083890" in page.content.decode()
    with a:
        assert not CompanyDetails.objects.exclude(inn="").exists()
        assert setup.progress().steps == {}


def test_every_step_can_be_skipped_and_done_later(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    for step, following in [
        ("details", "/setup/bank/"),
        ("bank", "/setup/template/"),
        ("template", "/setup/import/"),
        ("import", "/setup/team/"),
        ("team", "/setup/pipeline/"),
    ]:
        skipped = browser.post(f"/setup/{step}/skip/", HTTP_HOST=a.host)
        assert skipped["Location"] == following
    assert 'id="setup-entry"' in browser.get("/", HTTP_HOST=a.host).content.decode()
    # Done later: the template skipped before is applied from its page.
    browser.post("/setup/template/", {"action": "windows"}, HTTP_HOST=a.host)
    done = browser.post("/setup/pipeline/", HTTP_HOST=a.host)
    assert done["Location"] == "/setup/finished/"
    with a:
        row = setup.progress()
        assert row.steps == {
            "details": "skipped",
            "bank": "skipped",
            "template": "done",
            "import": "skipped",
            "team": "skipped",
            "pipeline": "done",
        }
        assert row.finished_at is not None
        assert StageRule.objects.count() == 5
    assert 'id="setup-entry"' not in browser.get("/", HTTP_HOST=a.host).content.decode()
    # From settings the steps can be gone through again.
    settings_page = browser.get("/settings/", HTTP_HOST=a.host).content.decode()
    assert 'id="setup-from-settings"' in settings_page


def test_dismissed_setup_is_no_longer_offered_and_managers_never_see_it(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    manager = User.objects.create_user(email="m@example.com", password="Member-Pass-991")
    Membership.objects.create(user=manager, company=a.company, role="manager")
    as_manager = login_on_host(manager, a.company, a.host)
    assert 'id="setup-entry"' not in as_manager.get("/", HTTP_HOST=a.host).content.decode()
    assert as_manager.get("/setup/details/", HTTP_HOST=a.host).status_code == 404
    assert as_manager.post("/setup/dismiss/", HTTP_HOST=a.host).status_code == 404
    browser = login_on_host(a.owner, a.company, a.host)
    browser.post("/setup/dismiss/", HTTP_HOST=a.host)
    assert 'id="setup-entry"' not in browser.get("/", HTTP_HOST=a.host).content.decode()


def test_sample_data_is_removed_with_one_click_and_real_data_is_untouched(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        owner = _owner(a)
        pipeline = Pipeline.objects.get(is_default=True)
        real = Client.objects.create(name="Настоящий клиент", tags=["sample"])
        Contact.objects.create(client=real, last_name="Настоящий")
        real_deal = Deal.objects.create(
            title="Настоящая сделка",
            client=real,
            pipeline=pipeline,
            stage=pipeline.stages.order_by("position")[0],
            amount=Decimal(10),
        )
        Task.objects.create(title="Настоящая задача", deal=real_deal, deadline=timezone.now())
        before = {
            "clients": set(Client.objects.values_list("pk", flat=True)),
            "deals": set(Deal.objects.values_list("pk", flat=True)),
            "tasks": set(Task.objects.values_list("pk", flat=True)),
            "contacts": set(Contact.objects.values_list("pk", flat=True)),
        }
        templates.apply_industry_template(owner, a.company, "windows", with_sample=True)
        assert Client.objects.count() == 4
        assert Deal.objects.count() == 4
        assert Task.objects.count() == 4
        # Someone starts working on one sample deal: it is no longer only a sample.
        worked = Deal.objects.get(title="Балкон под ключ")
        Task.objects.create(title="Реальный звонок", deal=worked, deadline=timezone.now())
    browser = login_on_host(a.owner, a.company, a.host)
    with a:
        sample_batch = setup.progress().sample_batch
        assert sample_batch is not None
    # The sample is listed with the imports, and its page opens like any batch's.
    listing = browser.get("/import/", HTTP_HOST=a.host).content.decode()
    assert f'href="/import/{sample_batch.pk}/"' in listing
    assert browser.get(f"/import/{sample_batch.pk}/", HTTP_HOST=a.host).status_code == 200
    browser.post("/setup/template/", {"action": "remove_sample"}, HTTP_HOST=a.host)
    with a:
        assert set(Client.objects.values_list("name", flat=True)) == {
            "Настоящий клиент",
            "ИП Пример Сидоров",
        }
        assert set(Deal.objects.values_list("title", flat=True)) == {
            "Настоящая сделка",
            "Балкон под ключ",
        }
        assert before["clients"] <= set(Client.objects.values_list("pk", flat=True))
        assert before["deals"] <= set(Deal.objects.values_list("pk", flat=True))
        assert before["tasks"] <= set(Task.objects.values_list("pk", flat=True))
        assert before["contacts"] <= set(Contact.objects.values_list("pk", flat=True))
        assert not Phone.objects.exclude(contact__client__name="ИП Пример Сидоров").exists()
        assert not setup.has_sample_data()
        # The rules of the template stay: only the sample data went.
        assert StageRule.objects.count() == 5


def test_inn_lookup_fills_the_details_when_a_source_is_configured(
    make_company: Any, settings: Any
) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    page = browser.get("/setup/details/", HTTP_HOST=a.host).content.decode()
    assert 'id="no-lookup"' in page
    settings.ONBOARDING_COMPANY_LOOKUP = "onboarding.tests.lookups.RegistryOfTwo"
    found = browser.post(
        "/setup/details/", {"inn": "7707083893", "lookup": "1"}, HTTP_HOST=a.host
    ).content.decode()
    assert "Греф Герман Оскарович" in found
    assert "Москва, ул. Вавилова, 19" in found
    failed = browser.post(
        "/setup/details/", {"inn": "7736207543", "lookup": "1"}, HTTP_HOST=a.host
    ).content.decode()
    assert '<li class="warning">' in failed  # "the lookup did not answer: type them"
    assert 'value="7736207543"' in failed
    browser.post(
        "/setup/details/",
        {"inn": "7707083893", "legal_name": 'ПАО "Сбербанк"', "found": "1"},
        HTTP_HOST=a.host,
    )
    with a:
        assert CompanyDetails.objects.get().source == "test registry"


def test_colleagues_are_invited_through_the_team_service(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    browser.post("/setup/team/", {"email": "anna@example.com", "role": "head"}, HTTP_HOST=a.host)
    invitation = Invitation.objects.get(company=a.company)
    assert (invitation.email, invitation.role) == ("anna@example.com", "head")
    page = browser.get("/setup/team/", HTTP_HOST=a.host).content.decode()
    assert "anna@example.com" in page


def test_one_companys_setup_never_affects_another(make_company: Any) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    with b:
        Client.objects.create(name="Client of B")
    browser_a = login_on_host(a.owner, a.company, a.host)
    browser_a.post("/setup/details/skip/", HTTP_HOST=a.host)
    browser_a.post("/setup/template/", {"action": "windows", "sample": "1"}, HTTP_HOST=a.host)
    browser_a.post("/setup/template/", {"action": "remove_sample"}, HTTP_HOST=a.host)
    browser_a.post("/setup/dismiss/", HTTP_HOST=a.host)
    with b:
        assert SetupProgress.objects.first() is None
        assert list(Client.objects.values_list("name", flat=True)) == ["Client of B"]
        assert not StageRule.objects.exists()
    browser_b = login_on_host(b.owner, b.company, b.host)
    assert 'id="setup-entry"' in browser_b.get("/", HTTP_HOST=b.host).content.decode()
    assert browser_b.get("/setup/", HTTP_HOST=b.host)["Location"] == "/setup/details/"
    # A's owner on B's host is not B's member: no setup pages at all.
    assert browser_a.get("/setup/details/", HTTP_HOST=b.host).status_code in (302, 404)
    assert browser_a.post("/setup/dismiss/", HTTP_HOST=b.host).status_code in (302, 404)
    with b:
        row = SetupProgress.objects.get()  # made by B's own visit above, untouched by A
        assert (row.steps, row.dismissed_at, row.sample_batch) == ({}, None, None)


def test_the_bank_step_checks_bik_and_accounts_and_can_be_skipped(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    page = browser.get("/setup/bank/", HTTP_HOST=a.host).content.decode()
    assert 'id="bank-skip-note"' in page
    good = {
        "bank_name": "ПАО Сбербанк",
        "bik": "044525225",
        "correspondent_account": "30101810400000000225",
        "bank_account": "40702810200000000001",
    }
    # One wrong digit in the account: refused with the reason, nothing saved, step not done.
    refused = browser.post(
        "/setup/bank/", {**good, "bank_account": "40702810300000000001"}, HTTP_HOST=a.host
    )
    assert refused.status_code == 200
    assert "40702810300000000001" in refused.content.decode()
    assert 'class="errorlist' in refused.content.decode()
    with a:
        assert not Requisites.objects.exclude(bik="").exists()
        assert "bank" not in setup.progress().steps
    saved = browser.post("/setup/bank/", good, HTTP_HOST=a.host)
    assert saved.status_code == 302
    with a:
        printed = Requisites.objects.get()
        assert (printed.bik, printed.bank_account) == ("044525225", "40702810200000000001")
        assert setup.progress().steps["bank"] == "done"
    # Another company's wizard knows nothing of it.
    b = make_company("Beta")
    with b:
        assert not Requisites.objects.exclude(bik="").exists()
        assert "bank" not in setup.progress().steps
