"""Our requisites: the BIK and accounts checked by their control keys, and a warning (with a
way to fill them in) before an invoice goes out without them (issue #18)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from crm_core.documents.models import Document, DocumentTemplate, Kind, Requisites
from crm_core.documents.services import values
from crm_core.documents.services.bank import (
    check_correspondent_account,
    check_requisites,
    check_settlement_account,
    missing_requisites,
)
from crm_core.documents.services.setup import save_requisites
from crm_core.models import Client
from crm_core.services.deals import create_deal
from crm_core.services.items import add_item
from tests.test_isolation import login_on_host

# Real banks' public BIKs and correspondent accounts; the settlement accounts are made up,
# their ninth (key) digit computed by the Bank of Russia's algorithm.
BANKS = [
    ("044525225", "30101810400000000225", "40702810200000000001"),  # Sberbank, Moscow
    ("044525187", "30101810700000000187", "40702810000000000002"),  # VTB
    ("044525974", "30101810145250000974", "40702810610000000001"),  # T-Bank
]
COMPLETE = {
    "name": "ООО «Окна Кирилла»",
    "full_name": "Общество с ограниченной ответственностью «Окна Кирилла»",
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
    "address": "г. Москва, ул. Ленина, д. 1",
    "bank_name": "ПАО Сбербанк",
    "bik": BANKS[0][0],
    "correspondent_account": BANKS[0][1],
    "bank_account": BANKS[0][2],
    "director": "Кириллов К. К.",
}


@pytest.mark.parametrize(("bik", "corr", "account"), BANKS)
def test_real_bik_and_account_pairs_pass(bik: str, corr: str, account: str) -> None:
    assert check_correspondent_account(corr, bik) == corr
    assert check_settlement_account(account, bik) == account
    assert check_settlement_account(account[:5] + " " + account[5:], bik) == account


@pytest.mark.parametrize(("bik", "corr", "account"), BANKS)
def test_one_wrong_digit_or_the_wrong_bank_fails(bik: str, corr: str, account: str) -> None:
    wrong = account[:-1] + str((int(account[-1]) + 1) % 10)
    with pytest.raises(ValidationError):
        check_settlement_account(wrong, bik)
    with pytest.raises(ValidationError):
        check_correspondent_account(corr[:-1] + str((int(corr[-1]) + 1) % 10), bik)
    other = next(b for b in BANKS if b[0] != bik)[0]
    with pytest.raises(ValidationError):
        check_settlement_account(account, other)  # the account belongs to another bank


def test_check_names_every_bad_field_and_keeps_empty_ones() -> None:
    assert check_requisites({"bik": "", "inn": ""}) == {"bik": "", "inn": ""}
    with pytest.raises(ValidationError) as caught:
        check_requisites(
            {"inn": "7707083890", "bik": "04452522", "kpp": "12", "ogrn": "1027700132196"}
        )
    assert set(caught.value.error_dict) == {"inn", "bik", "kpp", "ogrn"}
    with pytest.raises(ValidationError) as caught:
        check_requisites({"bik": BANKS[0][0], "bank_account": "40702810300000000001"})
    assert set(caught.value.error_dict) == {"bank_account"}


def test_settings_refuse_a_wrong_account_and_save_nothing(crm: Any) -> None:
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = admin.post(
        "/settings/documents/requisites/",
        {**COMPLETE, "bank_account": "40702810300000000001"},
        HTTP_HOST=crm.a.host,
    )
    assert page.status_code == 200
    assert "40702810300000000001" in page.content.decode()  # what was typed stays
    with crm.a:
        assert not Requisites.objects.exclude(bik="").exists()
    saved = admin.post("/settings/documents/requisites/", COMPLETE, HTTP_HOST=crm.a.host)
    assert saved.status_code == 302
    with crm.a:
        assert values.requisites().bank_account == BANKS[0][2]


def _deal(crm: Any) -> Any:
    client = Client.objects.create(name="ООО «Ромашка»", inn="7707083893")
    deal = create_deal(
        membership=crm.manager, title="Окна в офис", pipeline=crm.pipeline, client=client
    )
    add_item(
        membership=crm.manager, deal=deal, name="Окно", quantity=Decimal(1), price=Decimal(1000)
    )
    return deal


def test_issuing_an_invoice_without_bank_details_warns_and_asks(crm: Any, media_root: Any) -> None:
    with crm.a:
        deal = _deal(crm)
        invoice = DocumentTemplate.objects.get(kind=Kind.INVOICE, name="Счёт на оплату")
        assert missing_requisites(values.requisites(), Kind.INVOICE)
        assert missing_requisites(values.requisites(), Kind.QUOTE) == []
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    url = f"/deals/{deal.pk}/documents/"
    card = manager.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="deal-requisites-missing"' in card
    asked = manager.post(url, {"template": invoice.pk}, HTTP_HOST=crm.a.host)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert 'id="requisites-missing-list"' in page
    assert 'id="document-issue-anyway"' in page
    assert 'id="requisites-ask-admin"' in page  # a manager cannot fill them; says who can
    with crm.a:
        assert not Document.objects.exists()
    # The owner is offered the form, which comes back to the deal.
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    offered = owner.post(url, {"template": invoice.pk}, HTTP_HOST=crm.a.host).content.decode()
    assert f"/settings/documents/requisites/?next=/deals/{deal.pk}/" in offered
    # Insisting issues it.
    issued = manager.post(url, {"template": invoice.pk, "confirm": "1"}, HTTP_HOST=crm.a.host)
    assert issued.status_code == 302
    with crm.a:
        assert Document.objects.count() == 1
        save_requisites(membership=crm.owner, **COMPLETE)
        assert missing_requisites(values.requisites(), Kind.INVOICE) == []
    # Complete requisites: straight through, no question.
    direct = manager.post(url, {"template": invoice.pk}, HTTP_HOST=crm.a.host)
    assert direct.status_code == 302
    card = manager.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="deal-requisites-missing"' not in card
    with crm.a:
        assert Document.objects.count() == 2


def test_another_companys_requisites_do_not_count(crm: Any) -> None:
    with crm.b:
        from tenants.models import Membership

        save_requisites(
            membership=Membership.objects.get(company=crm.b.company, user=crm.b.owner), **COMPLETE
        )
    with crm.a:
        assert missing_requisites(values.requisites(), Kind.INVOICE)
        assert not Requisites.objects.exclude(bik="").exists()
