"""HubSpot's associations export read on its own: recognised from its headers, it links the
records imported before by their HubSpot ids (a deal's contacts, a deal's or a contact's
company); an unknown id is said in its row; the same file again changes nothing; undo takes
the links back; another company's records are never reached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from crm_core.models import Client, Contact, Deal
from onboarding.models import ImportBatch
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import
from onboarding.tests.switch_exports import as_csv, as_xlsx, fixture
from onboarding.tests.test_switch_amocrm import add_member
from onboarding.tests.test_switch_owners import _switch
from relata.celery import app
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")
_PIPELINE = {"pipelines": {"Sales Pipeline": "default"}}
# Two deals HubSpot's deal export gave without a company or contact (linked only here).
_LONE_DEALS = [
    ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Deal owner"],
    ["9204", "Initech pilot", "Appointment Scheduled", "Sales Pipeline", "500", "Anna Smirnova"],
    ["9205", "Hooli audit", "Appointment Scheduled", "Sales Pipeline", "700", "Anna Smirnova"],
]
DEAL_CONTACT = [
    ["Deal ID", "Contact ID", "Association label"],
    ["9203", "9101", "Decision maker"],  # Acme pilot ↔ John: new
    ["9201", "9101", "Primary"],  # Acme licences ↔ John: the deal export linked them already
    ["9204", "9102", ""],  # Initech pilot ↔ Jane: new (the deal gets no company from it)
    ["9299", "9101", ""],  # no such deal
]
DEAL_COMPANY = [
    ["deal_id", "company_id", "association_label"],
    ["9204", "9002", "Primary"],  # Initech pilot had no company: now Globex
    ["9201", "9002", ""],  # Acme licences is Acme's: left as it is
    ["9205", "9999", ""],  # no such company
]


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _hubspot(made: Any) -> None:
    add_member(made.company, "anna@example.com", "Anna Smirnova")
    run_import(made.company, made.owner, fixture("hubspot_companies.csv"), "c.csv")
    run_import(made.company, made.owner, fixture("hubspot_contacts.csv"), "p.csv")
    run_import(made.company, made.owner, fixture("hubspot_deals.csv"), "d.csv", options=_PIPELINE)
    data = as_csv(_LONE_DEALS, delimiter=",")
    run_import(made.company, made.owner, data, "d2.csv", options=_PIPELINE)


def test_the_associations_export_links_deals_contacts_and_companies(
    make_company: Any, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    made = make_company("Acme reseller")
    with made:
        _hubspot(made)
        john, jane = Contact.objects.get(last_name="Smith"), Contact.objects.get(last_name="Doe")
        pilot, initech = (
            Deal.objects.get(title="Acme pilot"),
            Deal.objects.get(title="Initech pilot"),
        )
        licences = Deal.objects.get(title="Acme licences")
        assert initech.client_id is None
        assert not pilot.contacts.exists()
    # Through the wizard: the upload recognises it, the preview runs, the import links.
    browser = login_on_host(made.owner, made.company, made.host)
    with made, django_capture_on_commit_callbacks(execute=True):
        data = as_xlsx(DEAL_CONTACT, sheet="Associations")
        batch_id = _switch(browser, made.host, data, "deal_contact.xlsx", lambda _b: {})
        batch = ImportBatch.objects.get(pk=batch_id)
        assert batch.options["preset"] == "hubspot_associations"
        page = browser.get(f"/import/{batch_id}/", HTTP_HOST=made.host).content.decode()
        assert "HubSpot: связи" in page  # the label, in the uploader's Russian
        assert list(pilot.contacts.all()) == [john]
        assert list(licences.contacts.all()) == [john]  # not twice
        assert list(initech.contacts.all()) == [jane]
        notes = {n.row: n for n in batch.notes.all()}
        assert notes[5].outcome == "rejected"
        assert "9299" in notes[5].reason
        assert batch.counts["created"] == 2
        assert batch.counts["unchanged"] == 1

    with made, translation.override("en"):
        companies = run_import(
            made.company, made.owner, as_csv(DEAL_COMPANY, delimiter=","), "dc.csv"
        )
        assert companies.batch.options["preset"] == "hubspot_associations"
        globex = Client.objects.get(name="Globex")
        initech.refresh_from_db()
        licences.refresh_from_db()
        assert initech.client_id == globex.pk
        assert licences.client is not None
        assert licences.client.name == "Acme Corp"
        notes = {n.row: n for n in companies.rows}
        assert "another company already" in notes[3].reason
        assert notes[4].outcome == "rejected"
        assert "company 9999" in notes[4].reason

        # The same files again: nothing new.
        again = run_import(made.company, made.owner, as_csv(DEAL_CONTACT, delimiter=","), "x.csv")
        assert again.counts.get("created", 0) == 0
        assert pilot.contacts.count() == 1
        again = run_import(made.company, made.owner, as_csv(DEAL_COMPANY, delimiter=","), "y.csv")
        assert again.counts.get("created", 0) == 0

        # Undo takes the links back, and only them.
        undo_batch(companies.batch)
        initech.refresh_from_db()
        assert initech.client_id is None
        undo_batch(ImportBatch.objects.get(pk=batch_id))
        assert not pilot.contacts.exists()
        assert not initech.contacts.exists()
        assert list(licences.contacts.all()) == [john]  # the deal export's own link stays


def test_another_companys_hubspot_ids_are_never_reached(make_company: Any) -> None:
    a, b = make_company("Alpha"), make_company("Beta")
    with a:
        _hubspot(a)
    with b:
        report = run_import(b.company, b.owner, as_csv(DEAL_CONTACT, delimiter=","), "x.csv")
        assert report.batch.options["preset"] == "hubspot_associations"
        assert report.counts["rejected"] == 4
        assert not Deal.objects.exists()
    with a:
        assert not Deal.objects.get(title="Acme pilot").contacts.exists()
