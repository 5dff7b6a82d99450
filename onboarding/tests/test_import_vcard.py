"""vCard import: several cards per file, vCard 2.1 (quoted-printable windows-1251), 3.0 and
4.0; each card a person, its ORG the client company, a card without ORG a private client."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from crm_core.models import Client, Contact, Phone
from onboarding.importing import vcard
from onboarding.importing.detect import detect
from onboarding.importing.errors import UnreadableFile
from onboarding.models import ImportBatch
from onboarding.tests import vcards
from onboarding.tests.helpers import run_import
from relata.celery import app
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def eager() -> Iterator[None]:
    """The preview runs in the request (the worker path has its own tests)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


ROMASHKA = 'ООО "Ромашка и партнёры по оптовой торговле строительными материалами"'


def _rows(data: bytes, name: str = "contacts.vcf") -> list[Any]:
    found = detect(io.BytesIO(data), size=len(data), limit_mb=10, name=name)
    assert found.format == "vcard"
    return list(vcard.read(io.BytesIO(data), found.encoding))


def test_outlook_2_1_quoted_printable_windows_1251() -> None:
    ivanov, smirnova, kuznetsov = _rows(vcards.outlook_21())
    assert ivanov.client.name == ROMASHKA
    assert ivanov.client.kind == "legal"
    assert ivanov.client.phones == ivanov.client.emails == []  # a person's card: theirs
    (person,) = ivanov.client.persons
    assert (person.last_name, person.first_name, person.middle_name) == (
        "Иванов",
        "Пётр",
        "Сергеевич",
    )
    assert person.position == "Менеджер, Отдел продаж"
    assert person.phones == ["+7 (495) 123-45-67", "8 916 123 45 67"]
    assert person.emails == ["petr.ivanov@romashka.ru"]
    # The fax and the note are named in the row; the photo is left out quietly.
    assert any("+7 (495) 123-45-68" in n for n in ivanov.notes)
    assert any("NOTE: Звонить после обеда" in n for n in ivanov.notes)
    assert not any("PHOTO" in n for n in ivanov.notes)
    assert smirnova.client.name == ROMASHKA
    assert smirnova.client.persons[0].position == "Главный бухгалтер"
    # No ORG: a private person is the client.
    assert kuznetsov.client.kind == "person"
    assert kuznetsov.client.name == "Кузнецов Николай"
    assert kuznetsov.client.postal_address == "101000, Россия, Москва, ул. Ленина, 1"
    assert kuznetsov.client.persons[0].phones == ["+7 903 555-66-77"]


def test_raw_windows_1251_bytes_and_a_sole_trader_org() -> None:
    (orlova,) = _rows(vcards.android_21_raw_8bit())
    assert orlova.client.name == "ИП Орлова А. В."
    assert orlova.client.kind == "sole_trader"
    assert orlova.client.persons[0].last_name == "Орлова"


def test_ios_3_0() -> None:
    (petrov,) = _rows(vcards.ios_30())
    assert petrov.client.name == "Вектор, ООО"
    (person,) = petrov.client.persons
    assert person.position == "Закупщик, Снабжение"
    assert person.emails == ["ilya@vector.ru"]
    assert person.phones == ["+7 (926) 000-11-22", "+7 495 222-33-44 доб. 105"]
    assert person.external_id == "vcard:1B2C3D4E-0000-1111-2222-333344445555"
    (note,) = petrov.notes
    assert "BDAY: 1985-04-12" in note
    assert "X-SKYPE: ilya.petrov" in note
    assert "X-ABLABEL" not in note  # a label of the e-mail, not something typed


def test_vcard_4_0_and_a_company_s_own_card() -> None:
    belova, neva = _rows(vcards.google_40())
    assert belova.client.persons[0].phones == ["+7-812-333-44-55"]
    assert belova.client.persons[0].emails == ["belova@neva.spb.ru"]
    # ORG and no name: the company's own phone, e-mail and site.
    assert neva.client.name == "Нева"
    assert neva.client.persons == []
    assert neva.client.phones == ["+7-812-333-40-00"]
    assert neva.client.emails == ["office@neva.spb.ru"]
    assert neva.client.website == "https://neva.spb.ru"


def test_utf_16_from_windows_contacts() -> None:
    data = codecs.BOM_UTF16_LE + vcards.ios_30().decode().encode("utf-16-le")
    (petrov,) = _rows(data)
    assert petrov.client.persons[0].last_name == "Петров"


def test_a_damaged_card_is_one_rejected_row() -> None:
    data = (
        vcards.ios_30()
        + b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE;CHARSET=X-NONE:=C8=E2\r\n"
        + b"END:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:only a note\r\nEND:VCARD\r\n"
        + vcards.android_21_raw_8bit()
    )
    rows = _rows(data)
    assert len(rows) == 4
    assert rows[0].client.persons[0].last_name == "Петров"
    # An unknown charset: read as windows-1251 (the Russian Outlook's), not refused.
    assert rows[1].client.name == "Ив"
    assert rows[2].rejected
    assert rows[2].client.name == ""
    assert rows[3].client.name == "ИП Орлова А. В."


def test_detected_from_content_and_extension() -> None:
    data = vcards.ios_30()
    for name in ("contacts.vcf", "contacts.txt", "export"):
        assert detect(io.BytesIO(data), size=len(data), limit_mb=1, name=name).format == "vcard"
    sheet = "Название;ИНН\r\nВектор;7707083893\r\n".encode("cp1251")
    with pytest.raises(UnreadableFile) as refused:
        detect(io.BytesIO(sheet), size=len(sheet), limit_mb=1, name="contacts.vcf")
    assert refused.value.code == "not_vcard"
    assert detect(io.BytesIO(sheet), size=len(sheet), limit_mb=1, name="list.csv").format == "csv"


def test_cards_of_one_company_make_one_client_and_re_importing_changes_nothing(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, vcards.outlook_21(), "outlook.vcf")
        assert report.batch.file_format == "vcard"
        assert report.counts.get("rejected", 0) == 0
        romashka = Client.objects.get(name=ROMASHKA)
        assert romashka.kind == Client.Kind.LEGAL_ENTITY
        people = {c.last_name: c for c in Contact.objects.filter(client=romashka)}
        assert set(people) == {"Иванов", "Смирнова"}
        assert people["Иванов"].position == "Менеджер, Отдел продаж"
        assert people["Иванов"].emails == ["petr.ivanov@romashka.ru"]
        assert sorted(people["Иванов"].phones.values_list("e164", flat=True)) == [
            "+74951234567",
            "+79161234567",
        ]
        private = Client.objects.get(name="Кузнецов Николай")
        assert private.kind == Client.Kind.PERSON
        assert Client.objects.count() == 2
        counts = (Client.objects.count(), Contact.objects.count(), Phone.objects.count())
        again = run_import(a.company, a.owner, vcards.outlook_21(), "outlook.vcf")
        assert again.counts.get("created", 0) == 0
        assert (Client.objects.count(), Contact.objects.count(), Phone.objects.count()) == counts


def test_an_org_links_the_existing_client_of_that_name_in_this_company_only(
    make_company: Any,
) -> None:
    a, b = make_company("Alpha"), make_company("Beta")
    with b:
        theirs = Client.objects.create(name="Нева")
    with a:
        ours = Client.objects.create(name="Нева")
        run_import(a.company, a.owner, vcards.google_40(), "google.vcf")
        assert list(Client.objects.values_list("pk", flat=True)) == [ours.pk]
        assert Contact.objects.filter(client=ours, last_name="Белова").exists()
        assert not Contact.objects.exclude(client=ours).exists()
    with b:
        assert list(Client.objects.values_list("pk", flat=True)) == [theirs.pk]
        assert not Contact.objects.exists()
        assert not ImportBatch.objects.exists()


def test_through_the_web_upload(make_company: Any, eager: None) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post(
        "/import/",
        {"file": SimpleUploadedFile("outlook.vcf", vcards.outlook_21())},
        HTTP_HOST=a.host,
    )
    assert response.status_code == 302
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert "vcard" in page
    assert "Иванов Пётр Сергеевич" in page
    wrong = browser.post(
        "/import/",
        {"file": SimpleUploadedFile("contacts.vcf", b"name;phone\r\nA;1\r\n")},
        HTTP_HOST=a.host,
    )
    assert wrong.status_code == 200
    assert "BEGIN:VCARD" in wrong.content.decode()


def test_through_import_data(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    path = tmp_path / "phone.vcf"
    path.write_bytes(vcards.ios_30())
    out = io.StringIO()
    call_command("import_data", a.company.slug, str(path), stdout=out)
    assert "(vcard, utf-8" in out.getvalue()
    assert "X-SKYPE: ilya.petrov" in out.getvalue()
    with a:
        assert Contact.objects.get().last_name == "Петров"


def test_a_large_file_is_inspected_from_its_head_and_read_one_card_at_a_time() -> None:
    import tracemalloc

    from onboarding.importing import bounds
    from onboarding.importing.sources import inspect

    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Петров{0};Илья;;;\r\nFN:Илья Петров{0}\r\n"
        "ORG:Вектор {0}\r\nTEL;TYPE=WORK:+7 495 {0:03d}-{0:04d}\r\nEND:VCARD\r\n"
    )
    data = "".join(card.format(i % 1000) for i in range(9_000)).encode()
    assert len(data) > 1.2 * bounds.MAX_XML_INSPECTED_BYTES
    found = inspect(io.BytesIO(data), size=len(data), limit_mb=512, file_name="big.vcf")
    assert found.format == "vcard"
    assert len(found.preview) == 10
    assert found.total_rows is not None
    assert 7_000 < found.total_rows < 11_000  # scaled from the cards of its head
    assert sum(1 for _ in vcard.read(io.BytesIO(data), "utf-8")) == 9_000

    def peak_cutting(cards: int) -> int:
        """What cutting the file into cards takes (each card is then parsed alone)."""
        stream = io.BytesIO("".join(card.format(i % 1000) for i in range(cards)).encode())
        tracemalloc.start()  # after the file is in memory: what reading it takes
        try:
            assert sum(1 for _ in vcard._cards(stream, "utf-8")) == cards
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # Four times the cards, not four times the memory (a block of the file at a time).
    small, large = peak_cutting(2_000), peak_cutting(8_000)
    assert large < small * 1.2, f"{small // 1024} KB for 2,000 cards, {large // 1024} KB for 8,000"
