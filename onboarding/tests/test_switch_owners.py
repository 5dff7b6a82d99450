"""An invited owner receives the records when they join: the owner question of another CRM's
export answered "invite by e-mail" on the preview, the invitation accepted by the new person,
and the deals and tasks are theirs on their board and task list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from crm_core.models import AuditEntry, Contact, Deal, Pipeline, Stage, Task
from onboarding.models import AwaitingOwner, ImportBatch
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import
from onboarding.tests.switch_exports import as_csv, as_xlsx, fixture, rows_of
from onboarding.tests.test_switch_amocrm import add_member
from relata.celery import app
from tenants.models import Membership, User
from tenants.services import team
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")
LINK = re.compile(r"http://[^/\s]+(/invitations/[^/\s]+/)")
IVAN = "ivan@example.com"


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _last_link(to: str) -> str:
    sent = [m for m in mail.outbox if to in m.to]
    assert sent, [m.to for m in mail.outbox]
    match = LINK.search(str(sent[-1].body))
    assert match, sent[-1].body
    return match.group(1)


def _join(path: str, full_name: str) -> User:
    """The invited person opens the link, sets a password and lands in the company."""
    guest = HttpClient()
    assert "register-form" in guest.get(path).content.decode()
    joined = guest.post(
        path, {"full_name": full_name, "password": "Long-Pass-771", "password2": "Long-Pass-771"}
    )
    assert joined.status_code == 302, joined.content.decode()[:2000]
    return User.objects.get(email=IVAN)


def _switch(browser: HttpClient, host: str, data: bytes, name: str, answer: Any) -> int:
    """Upload → mapping → the questions answered by `answer(batch)` → import; the batch id."""
    response = browser.post("/import/", {"file": SimpleUploadedFile(name, data)}, HTTP_HOST=host)
    assert response.status_code == 302
    batch_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    preview = ImportBatch.objects.get(pk=batch_id)
    form = {"sheet": preview.sheet, "header_row": "1", "deals": "yes"}
    form.update({f"col_{i}": preview.mapping.get(h, "") for i, h in enumerate(preview.columns)})
    assert browser.post(f"/import/{batch_id}/preview/", form, HTTP_HOST=host).status_code == 302
    for _round in range(3):  # pipelines and people first; their stages once those are known
        preview.refresh_from_db()
        choices = answer(preview)
        if not choices:
            break
        response = browser.post(f"/import/{batch_id}/choices/", choices, HTTP_HOST=host)
        assert response.status_code == 302
    response = browser.post(f"/import/{batch_id}/start/", HTTP_HOST=host)
    assert response.status_code == 302
    return ImportBatch.objects.filter(dry_run=False).latest("id").pk


def _answers(sales: Pipeline, first: Stage) -> Any:
    """Воронка → the default pipeline, its unknown stages → the first one, «Сервис» made,
    «Иван Петров» invited by e-mail (each question answered once)."""
    asked: set[str] = set()

    def answer(preview: ImportBatch) -> dict[str, str]:
        unmatched = preview.unmatched or {}
        choices: dict[str, str] = {}
        for index, name in enumerate(sorted(unmatched.get("pipelines", {}))):
            if f"p:{name}" not in asked:
                asked.add(f"p:{name}")
                choices[f"pipeline_{index}"] = str(sales.pk) if name == "Воронка" else "create"
        for index, key in enumerate(sorted(unmatched.get("stages", {}))):
            if f"s:{key}" not in asked:
                asked.add(f"s:{key}")
                known = key.startswith("Воронка|")
                choices[f"stage_{index}"] = str(first.pk) if known else "create"
        for index, name in enumerate(sorted(unmatched.get("owners", {}))):
            if f"o:{name}" not in asked:
                asked.add(f"o:{name}")
                choices[f"owner_{index}"] = "me"
                if name == "Иван Петров":
                    choices[f"invite_{index}"] = IVAN
        return choices

    return answer


def _open_tasks_file() -> bytes:
    """amoCRM's task export, with Иван Петров's meeting still to do."""
    rows = rows_of("amocrm_tasks_ru.csv")
    status = rows[0].index("Статус")
    for row in rows[1:]:
        if row[0] == "7002":
            row[status] = "Не выполнена"
    return as_csv(rows)


def test_the_invited_person_receives_deals_and_tasks_when_they_join(
    make_company: Any, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    a = make_company("Alpha")
    with a:
        add_member(a.company, "anna@example.com", "Анна Смирнова")
        sales = Pipeline.objects.get(is_default=True)
        first = Stage.objects.filter(pipeline=sales).order_by("position").first()
        assert first is not None
    browser = login_on_host(a.owner, a.company, a.host)
    answer = _answers(sales, first)
    with a, django_capture_on_commit_callbacks(execute=True):
        deals_id = _switch(
            browser, a.host, as_xlsx(rows_of("amocrm_deals_ru.csv")), "deals.xlsx", answer
        )
        page = browser.get(f"/import/{deals_id}/", HTTP_HOST=a.host).content.decode()
        assert 'id="awaiting-owners"' in page
        assert IVAN in page
        tasks_id = _switch(browser, a.host, _open_tasks_file(), "tasks.csv", _answers(sales, first))
        doors = Deal.objects.get(title="Монтаж дверей")
        meeting = Task.objects.get(title="Встреча в офисе клиента")
        # Until Иван joins, his records are the importer's, each one remembered.
        assert doors.responsible_id == a.owner.pk
        assert meeting.assignee_id == a.owner.pk
        kuznetsov = Contact.objects.get(client__name="ИП Кузнецов")
        awaited = set(AwaitingOwner.objects.values_list("entity", "record_id", "email"))
        assert ("deal", doors.pk, IVAN) in awaited
        assert ("task", meeting.pk, IVAN) in awaited
        assert set(AwaitingOwner.objects.values_list("batch_id", flat=True)) == {
            deals_id,
            tasks_id,
        }
        # Anna's records await nobody.
        assert not AwaitingOwner.objects.filter(
            record_id=Deal.objects.get(title="Поставка окон").pk, entity="deal"
        ).exists()
        assert kuznetsov.pk  # (the deal's contact person, created by the import)

    # Иван opens the link of the (latest) invitation and sets a password.
    ivan = _join(_last_link(IVAN), "Ivan P.")
    assert Membership.objects.get(company=a.company, user=ivan).is_active
    with a:
        doors.refresh_from_db()
        meeting.refresh_from_db()
        assert doors.responsible_id == ivan.pk
        assert meeting.assignee_id == ivan.pk
        assert Deal.objects.get(title="Поставка окон").responsible_id != ivan.pk
        entry = AuditEntry.objects.get(object_type="deal", object_id=doors.pk, action="reassigned")
        assert entry.changes == {"responsible": [a.owner.email, IVAN]}
        assert entry.actor_id == a.owner.pk
        assert not AwaitingOwner.objects.exists()  # forgotten once handed over
    # On his own board and task list.
    his = login_on_host(ivan, a.company, a.host)
    board = his.get(f"/deals/?responsible={ivan.pk}", HTTP_HOST=a.host).content.decode()
    assert "Монтаж дверей" in board
    assert "Поставка окон" not in board
    day = his.get("/tasks/", HTTP_HOST=a.host).content.decode()
    assert "Встреча в офисе клиента" in day
    assert "Перезвонить по замеру" not in day


def _imported_with_invite(made: Any, capture: Any) -> ImportBatch:
    """The deals export imported with «Иван Петров» invited on its preview (as the wizard
    keeps the answer), and the invitation sent."""
    with made:
        add_member(made.company, "anna@example.com", "Анна Смирнова")
        with capture(execute=True):
            team.invite(
                actor=Membership.objects.get(company=made.company, user=made.owner),
                email=IVAN,
                role=Membership.Role.MANAGER,
                link=lambda token: f"http://testserver{team.invitation_link_path(token)}",
            )
        report = run_import(
            made.company,
            made.owner,
            fixture("amocrm_deals_ru.csv"),
            "deals.csv",
            options={
                "pipelines": {"Воронка": "default", "Сервис": "default"},
                "owners": {"Иван Петров": "me"},
                "owner_invites": {"Иван Петров": IVAN},
            },
        )
        assert AwaitingOwner.objects.filter(entity="deal").count() == 1
        return report.batch


def test_a_record_reassigned_meanwhile_is_left_alone(
    make_company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = make_company("Alpha")
    _imported_with_invite(a, django_capture_on_commit_callbacks)
    with a:
        doors = Deal.objects.get(title="Монтаж дверей")
        kuznetsov = Contact.objects.get(client__name="ИП Кузнецов")
        anna = User.objects.get(email="anna@example.com")
        Deal.objects.filter(pk=doors.pk).update(responsible_id=anna.pk)  # a person's choice
        assert AwaitingOwner.objects.filter(entity="contact", record_id=kuznetsov.pk).exists()
    ivan = _join(_last_link(IVAN), "Ivan P.")
    with a:
        doors.refresh_from_db()
        assert doors.responsible_id == anna.pk
        assert not AuditEntry.objects.filter(object_type="deal", action="reassigned").exists()
        kuznetsov.refresh_from_db()
        assert kuznetsov.responsible_id == ivan.pk  # the deal's contact, still the importer's
        assert not AwaitingOwner.objects.exists()


def test_undo_forgets_the_awaited_records(
    make_company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = make_company("Alpha")
    batch = _imported_with_invite(a, django_capture_on_commit_callbacks)
    with a:
        undo_batch(batch)
        assert not AwaitingOwner.objects.exists()
        assert not Deal.objects.exists()
    _join(_last_link(IVAN), "Ivan P.")  # joining finds nothing to take, and fails nothing


def test_another_company_s_join_hands_over_nothing(
    make_company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, b = make_company("Alpha"), make_company("Beta")
    _imported_with_invite(a, django_capture_on_commit_callbacks)
    with b, django_capture_on_commit_callbacks(execute=True):
        team.invite(
            actor=Membership.objects.get(company=b.company, user=b.owner),
            email=IVAN,
            role=Membership.Role.MANAGER,
            link=lambda token: f"http://testserver{team.invitation_link_path(token)}",
        )
    # The latest mail is B's invitation: Иван joins B only.
    ivan = _join(_last_link(IVAN), "Ivan P.")
    assert Membership.objects.filter(user=ivan).values_list("company_id", flat=True).get() == (
        b.company.pk
    )
    with a:
        assert Deal.objects.get(title="Монтаж дверей").responsible_id == a.owner.pk
        assert AwaitingOwner.objects.filter(email=IVAN).count() > 0  # still awaited in A
    with b:
        assert not Deal.objects.exists()
        assert not AwaitingOwner.objects.exists()
