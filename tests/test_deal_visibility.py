"""Whoever sees a deal sees (reads) its client and contact persons; changing them stays with
the client's responsible, their head and the admins (issue #18)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from crm_core.models import Client, Contact
from crm_core.queries.clients import (
    client_for,
    client_list,
    contact_list,
    visible_clients,
    visible_contacts,
)
from crm_core.queries.search import search
from crm_core.services.clients import (
    ClientInput,
    ContactInput,
    create_client,
    save_contact,
    update_client,
)
from crm_core.services.deals import create_deal
from tests.test_isolation import login_on_host


def _world(crm: Any) -> tuple[Client, Contact, Contact]:
    """A client of the colleague's, on a deal of the manager's; its contact person; and a
    person on their own (the colleague's) named on the deal."""
    with crm.a:
        client = create_client(
            membership=crm.colleague,
            company=crm.a.company,
            data=ClientInput(name="ООО Дальний Берег", phones=["+7 916 555-10-20"]),
        )
        person = save_contact(
            membership=crm.colleague,
            company=crm.a.company,
            client=client,
            data=ContactInput(last_name="Звонарёва", first_name="Ольга", phones=["+79165551021"]),
        )
        loner = save_contact(
            membership=crm.colleague,
            company=crm.a.company,
            client=None,
            data=ContactInput(last_name="Одиночкин", first_name="Павел"),
        )
        deal = create_deal(
            membership=crm.manager, title="Окна в офис", pipeline=crm.pipeline, client=client
        )
        deal.contacts.add(loner)
        create_client(
            membership=crm.colleague,
            company=crm.a.company,
            data=ClientInput(name="ООО Чужой Берег"),
        )
    return client, person, loner


def test_who_sees_a_deal_sees_its_client_and_people(crm: Any) -> None:
    client, person, loner = _world(crm)
    stranger = _member(crm, "m3@example.com")
    with crm.a:
        assert client_for(crm.manager, client.pk) == client
        names = {c.name for c in client_list(crm.manager, {})}
        assert names == {"ООО Дальний Берег"}  # not the colleague's other client
        assert set(visible_contacts(crm.manager)) == {person, loner}
        assert {str(c) for c in contact_list(crm.manager)} == {str(person), str(loner)}
        found = search(crm.manager, "Дальний")
        assert [c.name for c in found.clients] == ["ООО Дальний Берег"]
        assert [c.name for c in search(crm.manager, "555-10").clients] == ["ООО Дальний Берег"]
        assert not search(crm.manager, "Чужой").clients
        # A second manager with no deal there still sees nothing of it.
        assert not visible_clients(stranger).exists()
        assert not visible_contacts(stranger).exists()
        # The head sees it through the team member's deal.
        assert visible_clients(crm.head).filter(pk=client.pk).exists()
    insider = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = insider.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert "Звонарёва" in page.content.decode()  # the person to call, on the client's card
    # Read, not change: the card offers no way to edit the client or add people to it.
    assert f"/clients/{client.pk}/edit/" not in page.content.decode()
    assert f"/clients/{client.pk}/contacts/new/" not in page.content.decode()


def test_seeing_through_a_deal_gives_no_right_to_change(crm: Any) -> None:
    client, person, _loner = _world(crm)
    with crm.a:
        with pytest.raises(PermissionDenied):
            update_client(
                membership=crm.manager,
                client=client,
                version=client.version,
                inn="",
                foreign_tax_id=False,
                name="Переименовано",
            )
        with pytest.raises(PermissionDenied):
            save_contact(
                membership=crm.manager,
                company=crm.a.company,
                client=client,
                contact=person,
                data=ContactInput(last_name="Другая"),
            )
        with pytest.raises(PermissionDenied):
            save_contact(
                membership=crm.manager,
                company=crm.a.company,
                client=client,
                data=ContactInput(last_name="Новый"),
            )
        # The client's responsible still can.
        update_client(
            membership=crm.colleague,
            client=client,
            version=client.version,
            inn="",
            foreign_tax_id=False,
            name="ООО Дальний Берег 2",
        )
    insider = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    host = crm.a.host
    assert insider.get(f"/clients/{client.pk}/edit/", HTTP_HOST=host).status_code == 404
    assert insider.get(f"/clients/{client.pk}/contacts/new/", HTTP_HOST=host).status_code == 404
    shown = insider.get(f"/contacts/{person.pk}/", HTTP_HOST=host)
    assert shown.status_code == 200
    assert 'id="contact-read-only"' in shown.content.decode()
    assert 'id="contact-save"' not in shown.content.decode()
    posted = insider.post(f"/contacts/{person.pk}/", {"last_name": "Другая"}, HTTP_HOST=host)
    assert posted.status_code == 403
    with crm.a:
        assert Contact.objects.get(pk=person.pk).last_name == "Звонарёва"
        assert Client.objects.get(pk=client.pk).name == "ООО Дальний Берег 2"


def test_another_company_sees_nothing_through_deals(crm: Any) -> None:
    client, person, _loner = _world(crm)
    outsider = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    # Each company numbers its records on its own: B may have a client with A's client's
    # number, and then it sees its own one. What it never sees is A's.
    for path in (f"/clients/{client.pk}/", f"/contacts/{person.pk}/"):
        answer = outsider.get(path, HTTP_HOST=crm.b.host)
        assert answer.status_code in {200, 404}
        text = answer.content.decode()
        assert "Дальний Берег" not in text
        assert "Звонарёв" not in text
    page = outsider.get("/search/", {"q": "Дальний"}, HTTP_HOST=crm.b.host).content.decode()
    assert "ООО Дальний Берег" not in page


def _member(crm: Any, email: str) -> Any:
    from tenants.models import Membership, User

    user = User.objects.create_user(email=email, password="Member-Pass-991")
    return Membership.objects.create(user=user, company=crm.a.company, role="manager")
