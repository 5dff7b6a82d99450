"""Documents from templates: Russian wording, the sandbox, PDF on the deal, numbering under
concurrency, visibility and isolation between companies, bad input."""

from __future__ import annotations

import io
import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from pypdf import PdfReader

from crm_core.documents.models import Counter, Document, DocumentTemplate, Kind
from crm_core.documents.services import rendering, values
from crm_core.documents.services.defaults import install_default_templates
from crm_core.documents.services.documents import company_today, generate
from crm_core.documents.services.setup import save_requisites, save_template
from crm_core.documents.services.wording import amount_in_words, money, russian_date
from crm_core.models import Activity, Attachment, Client, Deal, DealItem, VatRate
from crm_core.services.deals import create_deal
from crm_core.services.items import add_item
from relata.db import connection
from tests.test_isolation import login_on_host


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _deal(member: Any, pipeline: Any, *, items: bool = True) -> Deal:
    client = Client.objects.create(
        name="ООО «Ромашка»",
        full_name="Общество с ограниченной ответственностью «Ромашка»",
        inn="7707083893",
        kpp="770701001",
        legal_address="г. Москва, ул. Ленина, д. 5",
    )
    deal = create_deal(membership=member, title="Окна в офис", pipeline=pipeline, client=client)
    if items:
        add_item(
            membership=member,
            deal=deal,
            name="Окно ПВХ 1300×1400",
            quantity=Decimal(3),
            price=Decimal("12345.67"),
        )
        add_item(
            membership=member, deal=deal, name="Монтаж", quantity=Decimal(1), price=Decimal(5000)
        )
    return deal


def _invoice() -> DocumentTemplate:
    return DocumentTemplate.objects.get(kind=Kind.INVOICE, name="Счёт на оплату")


# --- Wording ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("42037.01", "Сорок две тысячи тридцать семь рублей 01 копейка"),
        ("21", "Двадцать один рубль 00 копеек"),
        ("2.02", "Два рубля 02 копейки"),
        ("1000000.11", "Один миллион рублей 11 копеек"),
        ("0.5", "Ноль рублей 50 копеек"),
    ],
)
def test_amount_in_words_declines_rubles_and_kopecks(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_money_and_dates_are_written_the_russian_way() -> None:
    assert money(Decimal("1234567.5")) == "1 234 567,50"
    assert russian_date(date(2026, 11, 25)) == "25 ноября 2026 г."
    assert russian_date(date(2026, 3, 1)) == "1 марта 2026 г."


def test_vat_is_the_share_inside_the_price() -> None:
    assert values.vat_of(Decimal(122), VatRate.TWENTY_TWO) == Decimal("22.00")
    assert values.vat_of(Decimal(120), VatRate.TWENTY) == Decimal("20.00")
    assert values.vat_of(Decimal(120), VatRate.NONE) == Decimal(0)


# --- The sandbox --------------------------------------------------------------------------


def test_sandbox_escapes_values_and_refuses_tags_that_reach_outside() -> None:
    html = rendering.render("<p>{{ client.name }}</p>", {"client": {"name": "<script>x</script>"}})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    for body in ('{% include "relata/base.html" %}', "{% load static %}", "{% debug %}"):
        with pytest.raises(ValidationError, match="line 1"):
            rendering.check_template(body, {})
    with pytest.raises(ValidationError, match="underscores"):
        rendering.check_template("{{ client.name.__class__ }}", {"client": {"name": "x"}})
    # Escaping cannot be switched off: names come from the public request form.
    for body in ("{{ client.name|safe }}", "{{ names|safeseq|join:', ' }}"):
        with pytest.raises(ValidationError, match="Invalid filter: 'safe"):
            rendering.check_template(body, {"client": {"name": "x"}, "names": ["x"]})
    upper = rendering.render("{{ client.name|upper }}", {"client": {"name": "a<b"}})
    assert upper == "A&lt;B"


@translation.override("en")
def test_template_check_names_the_unknown_placeholder_and_its_line() -> None:
    sample = values.sample()
    with pytest.raises(ValidationError, match=r"\{\{ client\.inm \}\} on line 3"):
        rendering.check_template("<p>\n</p>\n{{ client.inm }}", sample)
    with pytest.raises(ValidationError, match=r"item\.nmae"):
        rendering.check_template("{% for item in items %}{{ item.nmae }}{% endfor %}", sample)
    with pytest.raises(ValidationError, match="itemz"):
        rendering.check_template("{% for item in itemz %}{{ item.name }}{% endfor %}", sample)
    with pytest.raises(ValidationError, match=r"client\.x"):
        rendering.check_template("{% if client.x %}{% endif %}", sample)
    with pytest.raises(ValidationError, match="Template error on line 2"):
        rendering.check_template("<p>\n{% if %}{% endif %}", sample)
    rendering.check_template("{% for item in items %}{{ item.name|upper }}{% endfor %}", sample)


# --- Templates and requisites -------------------------------------------------------------


def test_a_new_company_gets_russian_templates_once(two_companies: Any) -> None:
    a, _b = two_companies
    with a:
        kinds = sorted(DocumentTemplate.objects.values_list("kind", flat=True))
        assert kinds == sorted([Kind.INVOICE, Kind.QUOTE, Kind.CONTRACT])
        assert "Всего к оплате" in _invoice().body
        assert install_default_templates() == []  # installing again adds nothing
        assert DocumentTemplate.objects.count() == 3
        DocumentTemplate.objects.filter(kind=Kind.CONTRACT).delete()  # an older company's state
    from django.core.management import call_command

    call_command("install_document_templates", stdout=io.StringIO())
    with a:
        assert DocumentTemplate.objects.filter(kind=Kind.CONTRACT).count() == 1
        assert DocumentTemplate.objects.count() == 3


def test_broken_template_is_refused_with_a_clear_error_and_the_old_one_kept(crm: Any) -> None:
    with crm.a:
        template = _invoice()
        before = template.body
        with pytest.raises(ValidationError) as error:
            save_template(
                membership=crm.owner,
                template=template,
                name="Счёт",
                kind=Kind.INVOICE,
                body="{% for item in items %}{{ item.name }}",
                vat_rate=VatRate.TWENTY,
            )
        assert "body" in error.value.message_dict
        template.refresh_from_db()
        assert template.body == before
        with pytest.raises(PermissionDenied):
            save_template(
                membership=crm.manager,
                template=template,
                name="x",
                kind=Kind.INVOICE,
                body="{{ client.name }}",
                vat_rate=VatRate.NONE,
            )
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    response = admin.post(
        f"/settings/documents/{template.pk}/",
        {"name": "Счёт", "kind": "invoice", "vat_rate": "20", "body": "{{ client.bank }}"},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 200
    assert "{{ client.bank }}" in response.content.decode()
    with crm.a:
        assert _invoice().body == before
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/documents/", HTTP_HOST=crm.a.host).status_code == 404


def test_admin_edits_templates_and_requisites_in_settings(crm: Any) -> None:
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    assert "/settings/documents/" in admin.get("/settings/", HTTP_HOST=crm.a.host).content.decode()
    response = admin.post(
        "/settings/documents/requisites/",
        {"name": "ООО «Окна Кирилла»", "inn": "7701000001", "bik": "044525225"},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    response = admin.post(
        "/settings/documents/new/",
        {"name": "Акт", "kind": "quote", "vat_rate": "none", "body": "<p>{{ company.name }}</p>"},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    with crm.a:
        assert values.requisites().inn == "7701000001"
        assert DocumentTemplate.objects.get(name="Акт").vat_rate == VatRate.NONE


# --- Generating ---------------------------------------------------------------------------


def test_invoice_pdf_has_the_amount_words_vat_and_lands_on_the_deal(
    crm: Any, media_root: Any
) -> None:
    with crm.a:
        save_requisites(
            membership=crm.owner,
            name="ООО «Окна Кирилла»",
            inn="7701000001",
            bank_name="АО «Тинькофф Банк»",
            bik="044525974",
            bank_account="40702810610000000001",
            director="Кириллов К. К.",
        )
        deal = _deal(crm.manager, crm.pipeline)
        first = generate(membership=crm.manager, deal=deal, template=_invoice())
        second = generate(membership=crm.manager, deal=deal, template=_invoice())
        assert (first.number, second.number) == (1, 2)
        assert first.total == Decimal("42037.01")
        # VAT per line, rounded to kopecks and summed, as 1C does: 37 037,01 × 22 / 122 =
        # 6 678,81 and 5 000 × 22 / 122 = 901,64 (the total's own VAT would be 7 580,44).
        assert first.vat == Decimal("7580.45")
        attachment = Attachment.objects.get(pk=first.attachment_id)
        today = company_today()
        assert attachment.deal_id == deal.pk
        text = pdf_text(attachment.file.read())
        assert Activity.objects.filter(
            deal=deal, kind=Activity.Kind.DOCUMENT, summary__startswith="Счёт на оплату № 1"
        ).exists()
    assert f"Счёт на оплату № 1 от {russian_date(today)}" in text
    assert "Всего к оплате: 42 037,01" in text
    assert "Сорок две тысячи тридцать семь рублей 01 копейка" in text
    assert "В том числе НДС 22%: 7 580,45" in text
    assert "ООО «Окна Кирилла»" in text
    assert "044525974" in text
    assert "Общество с ограниченной ответственностью «Ромашка»" in text
    assert "7707083893" in text
    assert "Окно ПВХ 1300×1400" in text
    assert "37 037,01" in text  # 3 × 12 345,67

    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/documents/{first.pk}/" in page
    assert "Счёт на оплату № 1" in page  # in the documents panel and the history


def test_without_vat_the_document_says_so(crm: Any, media_root: Any) -> None:
    with crm.a:
        template = _invoice()
        template.vat_rate = VatRate.NONE
        template.save()
        deal = _deal(crm.owner, crm.pipeline)
        # Lines made before rates were kept per line carry none: the template's rate applies.
        DealItem.objects.filter(deal=deal).update(vat_rate="")
        document = generate(membership=crm.owner, deal=deal, template=template)
        text = pdf_text(Attachment.objects.get(pk=document.attachment_id).file.read())
    assert document.vat == 0
    assert "Без налога (НДС)" in text
    assert "В том числе НДС" not in text
    with crm.a:
        # Removing the deal (or its client) takes the document with it; the number stays used.
        Client.objects.filter(deals=document.deal_id).delete()
        Deal.objects.filter(pk=document.deal_id).delete()
        assert not Document.objects.exists()
        assert Counter.objects.get().last_number == 1


def test_bad_input_takes_no_number_and_leaves_nothing(crm: Any, media_root: Any) -> None:
    with crm.a:
        empty = _deal(crm.owner, crm.pipeline, items=False)
        with pytest.raises(ValidationError, match="нет товаров"):
            generate(membership=crm.owner, deal=empty, template=_invoice())
        # A template that got broken behind the check (e.g. edited in the database).
        broken = DocumentTemplate.objects.create(
            name="Сломанный", kind=Kind.INVOICE, body="{{ client.inm }}"
        )
        deal = _deal(crm.owner, crm.pipeline)
        with pytest.raises(ValidationError, match=r"client\.inm"):
            generate(membership=crm.owner, deal=deal, template=broken)
        nested = DocumentTemplate.objects.create(
            name="Вложенный", kind=Kind.INVOICE, body="<table><tr><td>a<br>b</td></tr></table>"
        )
        with pytest.raises(ValidationError, match="PDF"):
            generate(membership=crm.owner, deal=deal, template=nested)
        with pytest.raises(PermissionDenied):
            generate(membership=crm.viewer, deal=deal, template=_invoice())
        assert not Document.objects.exists()
        assert not Counter.objects.exists()
        assert not Attachment.objects.exists()
        assert generate(membership=crm.owner, deal=deal, template=_invoice()).number == 1
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    response = browser.post(
        f"/deals/{empty.pk}/documents/",
        {"template": _template_id(crm.a), "confirm": "1"},
        HTTP_HOST=crm.a.host,
        follow=True,
    )
    assert "В сделке ещё нет товаров" in response.content.decode()


def _template_id(company: Any) -> int:
    with company:
        return _invoice().pk


# --- Visibility and isolation -------------------------------------------------------------


def test_download_only_for_members_who_see_the_deal(crm: Any, media_root: Any) -> None:
    with crm.a:
        deal = _deal(crm.manager, crm.pipeline)
        document = generate(membership=crm.manager, deal=deal, template=_invoice())
    url = f"/documents/{document.pk}/"
    for member, status in [
        (crm.manager, 200),
        (crm.head, 200),  # the manager's team
        (crm.owner, 200),
        (crm.viewer, 200),
        (crm.colleague, 404),  # another manager's deal
    ]:
        browser = login_on_host(member.user, crm.a.company, crm.a.host)
        response = browser.get(url, HTTP_HOST=crm.a.host)
        assert response.status_code == status, member.role
        if status == 200:
            assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
        generate_response = browser.post(
            f"/deals/{deal.pk}/documents/",
            {"template": document.template_id, "confirm": "1"},
            HTTP_HOST=crm.a.host,
        )
        if status == 404:
            assert generate_response.status_code == 404
    with crm.a:
        assert Document.objects.count() == 4  # the first + manager, head, owner; not the viewer


def test_company_b_cannot_see_or_download_a_documents_or_templates(
    crm: Any, media_root: Any
) -> None:
    with crm.a:
        document = generate(
            membership=crm.owner, deal=_deal(crm.owner, crm.pipeline), template=_invoice()
        )
        template = _invoice()
        template.name = "Секретный счёт A"
        template.save()
    b_owner = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert b_owner.get(f"/documents/{document.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    listing = b_owner.get("/settings/documents/", HTTP_HOST=crm.b.host).content.decode()
    assert "Секретный счёт A" not in listing
    page = b_owner.get(f"/settings/documents/{template.pk}/", HTTP_HOST=crm.b.host)
    assert "Секретный счёт A" not in page.content.decode()
    # A's owner, logged in on the public site, reaching B's host directly, gets nothing.
    intruder = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    intruder.force_login(crm.a.owner)
    response = intruder.get(f"/documents/{document.pk}/", HTTP_HOST=crm.b.host)
    assert response.status_code in (302, 404)
    # Numbering is the company's own: B's first invoice is № 1 too.
    with crm.b:
        b_pipeline = crm.b.company  # noqa: F841  (readability: we are in B)
        from crm_core.models import Pipeline
        from tenants.models import Membership

        b_member = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
        b_deal = _deal(b_member, Pipeline.objects.get(is_default=True))
        assert generate(membership=b_member, deal=b_deal, template=_invoice()).number == 1
        assert Document.objects.count() == 1
    with crm.a:
        assert Document.objects.get().number == 1


# --- Numbering under concurrency ----------------------------------------------------------


def test_concurrent_generation_numbers_without_gaps_or_duplicates(
    committed_companies: Any, settings: Any, tmp_path: Any
) -> None:
    from django.core.files.storage import storages

    from crm_core.models import Pipeline
    from tenants.models import Membership

    settings.MEDIA_ROOT = str(tmp_path / "media")
    storages["default"].__dict__.pop("relative_media_root", None)
    company = committed_companies("Numbering")
    member = Membership.objects.get(company=company.company, user=company.owner)
    with company:
        deal = _deal(member, Pipeline.objects.get(is_default=True))
        empty = _deal(member, Pipeline.objects.get(is_default=True), items=False)
        template = _invoice()
    workers, each = 4, 5
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    refused: list[int] = []

    def worker(index: int) -> None:
        try:
            with company:
                barrier.wait()
                for attempt in range(each):
                    # Every other worker also fails once mid-way: its number must not be lost.
                    if index % 2 and attempt == 2:
                        try:
                            generate(membership=member, deal=empty, template=template)
                        except ValidationError:
                            refused.append(index)
                    generate(membership=member, deal=deal, template=template)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    storages["default"].__dict__.pop("relative_media_root", None)
    assert not errors, errors
    assert len(refused) == workers // 2
    with company:
        numbers = sorted(Document.objects.values_list("number", flat=True))
        assert numbers == list(range(1, workers * each + 1))
        assert Counter.objects.get(kind=Kind.INVOICE).last_number == workers * each
        assert Attachment.objects.filter(deal=deal).count() == workers * each


def test_documents_are_dated_in_the_company_time_zone(two_companies: Any) -> None:
    from datetime import UTC, datetime
    from unittest import mock

    a, _b = two_companies
    late_evening_utc = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # 01:30 in Moscow
    with a, mock.patch("django.utils.timezone.now", return_value=late_evening_utc):
        assert a.company.time_zone == "Europe/Moscow"
        assert company_today() == date(2027, 1, 1)
