"""Static lists filled from the lists' bulk action, as a person ticks rows on the clients or
contact persons list: through the page, in the background, only what the member may change."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.models import BulkJob, Client, Contact
from crm_core.services.bulk import run_bulk_job
from marketing.models import Segment, SegmentMember
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def test_the_contact_list_bulk_action_makes_a_new_mailing_list(crm: Any) -> None:
    with crm.a:
        client = Client.objects.create(name="ООО Ромашка", responsible=crm.manager.user)
        mine = [
            Contact.objects.create(
                client=client,
                first_name=f"Анна{i}",
                emails=[f"a{i}@r.test"],
                responsible=crm.manager.user,
            )
            for i in range(3)
        ]
        theirs = Contact.objects.create(
            first_name="Чужой", emails=["x@r.test"], responsible=crm.colleague.user
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/contacts/", HTTP_HOST=crm.a.host).content.decode()
    assert 'value="segment_add"' in page
    response = browser.post(
        "/lists/contacts/bulk/",
        {
            "bulk-action": "segment_add",
            "bulk-all_matching": "on",
            "bulk-query": "",
            "bulk-confirm": "on",
            "ids": [str(c.pk) for c in mine],
        },
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code in {200, 302}, response.content.decode()[:500]
    with crm.a:
        job = BulkJob.objects.get()
        assert job.action == "segment_add"
        run_bulk_job(job.pk, company=crm.a.company)
        segment = Segment.objects.get()
        assert segment.kind == "static"
        assert f"(#{job.pk})" in segment.name
        members = set(SegmentMember.objects.values_list("contact_id", flat=True))
        assert members == {c.pk for c in mine}
        assert theirs.pk not in members  # a colleague's contact person is not the manager's


def test_the_client_list_bulk_action_lists_the_clients_contact_persons(crm: Any) -> None:
    from crm_core.services.bulk import start_bulk_job

    with crm.a:
        client = Client.objects.create(name="ООО Ромашка", responsible=crm.owner.user)
        people = [
            Contact.objects.create(client=client, first_name=n, emails=[f"{i}@r.test"])
            for i, n in enumerate(["Анна", "Иван"])
        ]
        job = start_bulk_job(
            membership=crm.owner,
            entity="clients",
            action="segment_add",
            query="",
            ids=[client.pk],
            all_matching=False,
        )
        run_bulk_job(job.pk, company=crm.a.company)
        assert set(SegmentMember.objects.values_list("contact_id", flat=True)) == {
            p.pk for p in people
        }


def test_scheduling_refuses_the_past_and_a_cancelled_campaign_sends_nothing(crm: Any) -> None:
    from marketing import credentials
    from marketing.models import Campaign, SendingSettings

    with crm.a:
        SendingSettings.objects.create(
            channel="provider",
            provider="postmark",
            provider_key=credentials.seal("t"),
            from_email="news@okna.test",
        )
        segment = Segment.objects.create(name="S", kind="static")
        campaign = Campaign.objects.create(
            name="C", subject="S", blocks=[{"kind": "text", "text": "x"}], segment=segment
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    url = f"/marketing/{campaign.pk}/schedule/"
    for bad in ("2001-01-01T10:00", "завтра", "", "2030-13-45T99:99"):
        page = browser.post(url, {"when": bad}, HTTP_HOST=crm.a.host, follow=True)
        assert page.status_code == 200
        assert 'class="error' in page.content.decode() or "messages" in page.content.decode()
        with crm.a:
            assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    browser.post(url, {"when": "2099-01-01T10:00"}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"
    browser.post(f"/marketing/{campaign.pk}/cancel/", HTTP_HOST=crm.a.host)
    with crm.a:
        assert Campaign.objects.get(pk=campaign.pk).status == "cancelled"
    # A cancelled campaign is not sent, whatever is posted.
    browser.post(f"/marketing/{campaign.pk}/send/", {"confirm": "on"}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert Campaign.objects.get(pk=campaign.pk).status == "cancelled"


def test_merging_two_people_on_one_list_keeps_one_place_and_both_consents(crm: Any) -> None:
    from crm_core.services.merge import merge_contacts
    from marketing.models import Consent

    with crm.a:
        keep = Contact.objects.create(first_name="Анна", emails=["a@r.test"])
        other = Contact.objects.create(first_name="Анна", emails=["anna@r.test"])
        segment = Segment.objects.create(name="S", kind="static")
        SegmentMember.objects.create(segment=segment, contact=keep)
        SegmentMember.objects.create(segment=segment, contact=other)
        Consent.objects.create(contact=other, email="anna@r.test", source="manual", text="Да")
        merge_contacts(membership=crm.owner, keep=keep, other=other)
        assert list(SegmentMember.objects.values_list("contact_id", flat=True)) == [keep.pk]
        assert Consent.objects.get().contact_id == keep.pk
