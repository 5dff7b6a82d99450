"""The deal card's client (#18: "client … edited in place"): found by name or INN among the
clients the person sees, chosen, created from the typed name, or taken off the deal; a client
the person cannot see is neither offered nor accepted; the contact persons follow the client;
a stale card is refused; another company's clients and deals are out of reach."""

from __future__ import annotations

from typing import Any

from crm_core.models import Client, Contact, Deal
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import create_deal
from tests.test_isolation import login_on_host

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def _client(crm: Any, membership: Any, name: str, **extra: Any) -> Client:
    with crm.a:
        return create_client(
            membership=membership, company=crm.a.company, data=ClientInput(name=name, **extra)
        )


def _deal(crm: Any, client: Client | None = None) -> Deal:
    with crm.a:
        return create_deal(
            membership=crm.manager, title="Окна на дачу", pipeline=crm.pipeline, client=client
        )


def _fresh(crm: Any, deal: Deal) -> Deal:
    with crm.a:
        return Deal.objects.get(pk=deal.pk)


def test_a_deal_without_a_client_gets_one_found_by_name(crm: Any) -> None:
    mine = _client(crm, crm.manager, "ООО «Северное окно»")
    _client(crm, crm.colleague, "ООО «Северный ветер»")  # a colleague's: not visible to her
    deal = _deal(crm)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    card = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="client-change"' in card
    assert "Выбрать клиента" in card  # the Russian UI

    found = browser.get(
        f"/deals/{deal.pk}/card/client/options/", {"q": "северн"}, HTTP_HOST=crm.a.host, **HTMX
    ).content.decode()
    assert "Северное окно" in found
    assert "Северный ветер" not in found  # only the clients she sees are offered

    chosen = browser.post(
        f"/deals/{deal.pk}/card/client/",
        {"client": mine.pk, "version": deal.version},
        HTTP_HOST=crm.a.host,
    )
    assert chosen.status_code == 302
    fresh = _fresh(crm, deal)
    assert fresh.client_id == mine.pk
    assert fresh.version == deal.version + 1
    card = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert f'href="/clients/{mine.pk}/"' in card


def test_an_invisible_client_is_refused_and_the_deal_is_unchanged(crm: Any) -> None:
    theirs = _client(crm, crm.colleague, "ООО «Чужой»")
    deal = _deal(crm)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    answer = browser.post(
        f"/deals/{deal.pk}/card/client/",
        {"client": theirs.pk, "version": deal.version},
        HTTP_HOST=crm.a.host,
    )
    assert answer.status_code == 404
    assert _fresh(crm, deal).client_id is None


def test_a_new_client_from_the_typed_name_and_the_contacts_follow_the_client(crm: Any) -> None:
    first = _client(crm, crm.manager, "ИП Орлов", contact_name="Георгий Орлов")
    deal = _deal(crm, first)
    with crm.a:
        person = Contact.objects.get(client=first)
        deal.contacts.add(person)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    found = browser.get(
        f"/deals/{deal.pk}/card/client/options/", {"q": "Дачный посёлок"}, HTTP_HOST=crm.a.host
    ).content.decode()  # without JavaScript: a page of its own
    assert "<html" in found
    assert "Дачный посёлок" in found
    answer = browser.post(
        f"/deals/{deal.pk}/card/client/",
        {"client_name": "Дачный посёлок «Берёзки»", "version": deal.version},
        HTTP_HOST=crm.a.host,
    )
    assert answer.status_code == 302
    fresh = _fresh(crm, deal)
    with crm.a:
        assert fresh.client is not None
        assert fresh.client.name == "Дачный посёлок «Берёзки»"
        assert fresh.client.responsible_id == crm.manager.user_id
        # Георгий Орлов is the former client's person: he leaves the deal with his client.
        assert not fresh.contacts.exists()


def test_taking_the_client_off_and_a_stale_card_is_refused(crm: Any) -> None:
    client = _client(crm, crm.manager, "ООО «Окна»")
    deal = _deal(crm, client)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    stale = browser.post(
        f"/deals/{deal.pk}/card/client/",
        {"client": "", "version": deal.version - 1},
        HTTP_HOST=crm.a.host,
        follow=True,
    )
    assert "changed by someone else" in stale.content.decode() or "кто-то" in stale.content.decode()
    assert _fresh(crm, deal).client_id == client.pk
    url = f"/deals/{deal.pk}/card/client/"
    browser.post(url, {"client": "", "version": deal.version}, HTTP_HOST=crm.a.host)
    assert _fresh(crm, deal).client_id is None


def test_a_read_only_member_is_not_offered_the_change_and_cannot_post_it(crm: Any) -> None:
    client = _client(crm, crm.manager, "ООО «Окна»")
    deal = _deal(crm)
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    card = viewer.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="client-change"' not in card
    viewer.post(
        f"/deals/{deal.pk}/card/client/",
        {"client": client.pk, "version": deal.version},
        HTTP_HOST=crm.a.host,
    )
    assert _fresh(crm, deal).client_id is None


def test_another_company_can_neither_search_nor_set_the_client(crm: Any) -> None:
    client = _client(crm, crm.manager, "ООО «Окна»")
    deal = _deal(crm)
    b = crm.b
    outsider = login_on_host(b.owner, b.company, b.host)
    assert (
        outsider.get(
            f"/deals/{deal.pk}/card/client/options/", {"q": "Окна"}, HTTP_HOST=b.host
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            f"/deals/{deal.pk}/card/client/",
            {"client": client.pk, "version": deal.version},
            HTTP_HOST=b.host,
        ).status_code
        == 404
    )
    # B's own deal cannot take A's client either: ids are per company, A's is unknown in B.
    with b:
        from crm_core.models import Pipeline

        theirs = create_deal(
            membership=b.owner.memberships.get(company=b.company),
            title="B",
            pipeline=Pipeline.objects.get(is_default=True),
        )
        assert not Client.objects.filter(pk=client.pk, name="ООО «Окна»").exists()
    outsider.post(
        f"/deals/{theirs.pk}/card/client/",
        {"client": client.pk, "version": theirs.version},
        HTTP_HOST=b.host,
    )
    with b:
        assert Deal.objects.get(pk=theirs.pk).client_id is None
    assert _fresh(crm, deal).client_id is None
