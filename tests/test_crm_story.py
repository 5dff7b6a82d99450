"""Kirill's steps 2–4 and 6 by hand: files on a deal, the calculation, tasks for colleagues,
reminders and overdue notices."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.utils import timezone

from crm_core.models import Attachment, Deal, Notification, Task
from crm_core.services.deals import create_deal
from crm_core.services.items import add_item
from crm_core.services.reminders import send_due
from crm_core.services.tasks import create_task
from tests.test_isolation import login_on_host


def test_measurer_attaches_sizes_and_only_those_who_see_the_deal_can_download(
    crm: Any, media_root: Path
) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    upload = SimpleUploadedFile("../../etc/замеры.txt", "окно 1200×1400".encode(), "text/plain")
    response = browser.post(f"/deals/{deal.pk}/card/file/", {"file": upload}, HTTP_HOST=crm.a.host)
    assert response.status_code == 302
    with crm.a:
        attachment = Attachment.objects.get()
        assert attachment.name == "замеры.txt"  # no path from the browser reaches the storage
        assert str(attachment.file.name).startswith("attachments/")
    stored = list((media_root / crm.a.company.schema_name / "attachments").rglob("*.txt"))
    assert len(stored) == 1

    download = browser.get(f"/files/{attachment.pk}/", HTTP_HOST=crm.a.host)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == "окно 1200×1400".encode()  # type: ignore[attr-defined]
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert colleague.get(f"/files/{attachment.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    outsider = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert outsider.get(f"/files/{attachment.pk}/", HTTP_HOST=crm.b.host).status_code == 404
    # Nor is the media folder reachable by URL on any host.
    assert HttpClient().get(
        f"/media/{crm.a.company.schema_name}/{attachment.file.name}", HTTP_HOST=crm.a.host
    ).status_code in (302, 404)


def test_empty_and_oversized_files_are_refused(crm: Any, media_root: Path, settings: Any) -> None:
    settings.MAX_ATTACHMENT_MB = 1
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    big = SimpleUploadedFile("big.pdf", b"x" * (1024 * 1024 + 1))
    page = browser.post(
        f"/deals/{deal.pk}/card/file/",
        {"file": big},
        HTTP_HOST=crm.a.host,
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "larger than 1 MB" in page.content.decode()
    empty = SimpleUploadedFile("empty.pdf", b"")
    browser.post(f"/deals/{deal.pk}/card/file/", {"file": empty}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert not Attachment.objects.exists()


def test_the_calculation_sets_the_deal_amount(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
        add_item(
            membership=crm.manager,
            deal=deal,
            name="Окно ПВХ 1200×1400",
            quantity=Decimal(3),
            price=Decimal("15500.50"),
        )
        add_item(
            membership=crm.manager,
            deal=deal,
            name="Монтаж",
            quantity=Decimal(1),
            price=Decimal(9000),
        )
        assert Deal.objects.get(pk=deal.pk).amount == Decimal("55501.50")
        with pytest.raises(ValidationError):
            add_item(
                membership=crm.manager,
                deal=deal,
                name="Бесплатно",
                quantity=Decimal(0),
                price=Decimal(1),
            )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "Окно ПВХ 1200×1400" in page
    assert "55" in page


def test_tasks_go_to_colleagues_only_within_the_company(crm: Any) -> None:
    soon = timezone.now() + timedelta(hours=2)
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
        task = create_task(
            membership=crm.manager,
            title="Замер",
            deadline=soon,
            assignee=crm.colleague.user,
            deal=deal,
            kind="measurement",
        )
        assert task.assignee_id == crm.colleague.user_id
        with pytest.raises(ValidationError):
            create_task(membership=crm.manager, title="x", deadline=soon, assignee=crm.b.owner)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    response = browser.post(
        f"/deals/{deal.pk}/tasks/",
        {
            "task-title": "Монтаж",
            "task-kind": "installation",
            "task-deadline": (soon + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
            "task-assignee": crm.b.owner.pk,
        },
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    with crm.a:
        assert not Task.objects.filter(title="Монтаж").exists()  # B's owner is not a choice


def test_reminders_and_overdue_notices_are_sent_once(crm: Any) -> None:
    now = timezone.now()
    with crm.a:
        remind = Task.objects.create(
            title="Перезвонить",
            assignee=crm.manager.user,
            deadline=now + timedelta(minutes=15),
            remind_at=now - timedelta(minutes=1),
        )
        Task.objects.create(
            title="Просрочено", assignee=crm.manager.user, deadline=now - timedelta(minutes=5)
        )
        Task.objects.create(
            title="Done",
            assignee=crm.manager.user,
            deadline=now - timedelta(minutes=5),
            done_at=now,
        )
        assert send_due(crm.a.company, now) == (1, 1)
        assert send_due(crm.a.company, now) == (0, 0)  # never twice
        texts = sorted(
            Notification.objects.filter(user_id=crm.manager.user_id).values_list("text", flat=True)
        )
    assert len(texts) == 2
    assert any("Перезвонить" in t for t in texts)
    assert any("Просрочено" in t for t in texts)
    assert sorted(m.to[0] for m in mail.outbox) == [crm.manager.user.email] * 2
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert "Перезвонить" in browser.get("/notifications/", HTTP_HOST=crm.a.host).content.decode()
    other = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert "Перезвонить" not in other.get("/notifications/", HTTP_HOST=crm.a.host).content.decode()
    with crm.a:
        assert remind.pk


def test_beat_fans_reminders_out_to_every_company_in_its_own_schema(
    committed_companies: Any, run_process: Any, tmp_path: Path
) -> None:
    from conftest import child_env, wait_for
    from crm_core.tasks import send_task_reminders

    a = committed_companies("Reminders A")
    b = committed_companies("Reminders B")
    for made in (a, b):
        with made:
            Task.objects.create(
                title=f"Call of {made.company.name}",
                assignee=made.owner,
                deadline=timezone.now() - timedelta(minutes=1),
            )
    queue = "celery"
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "-Q", queue, "-l", "warning"],
        env=child_env(),
        log=tmp_path / "worker.log",
    )
    assert send_task_reminders.apply().get() >= 2

    def notified(made: Any) -> bool:
        with made:
            return Notification.objects.filter(user_id=made.owner.pk).exists()

    wait_for(
        lambda: notified(a) and notified(b),
        timeout=60,
        what=f"reminders (log {tmp_path / 'worker.log'})",
    )
    with a:
        assert list(Notification.objects.values_list("text", flat=True)) == [
            "Просрочено: Call of Reminders A"
        ]
    with b:
        assert list(Notification.objects.values_list("text", flat=True)) == [
            "Просрочено: Call of Reminders B"
        ]


def test_a_request_becomes_a_client_and_a_deal_in_one_step_or_is_rejected(crm: Any) -> None:
    from crm_core.models import Client, Lead

    with crm.a:
        lead = Lead.objects.create(
            name="Сергей",
            phone="+7 916 555-44-33",
            message="Нужны окна в дом\nперезвоните",
            source="site",
        )
        repeat = Lead.objects.create(name="Сергей снова", phone="8 916 555 44 33", source="site")
        spam = Lead.objects.create(name="Buy crypto", source="site")
        mine = Lead.objects.create(
            name="Чужая заявка", source="site", responsible=crm.colleague.user
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    inbox = browser.get("/leads/", HTTP_HOST=crm.a.host).content.decode()
    assert "Сергей" in inbox
    assert "Чужая заявка" not in inbox  # a colleague's request stays theirs
    converted = browser.post(f"/leads/{lead.pk}/convert/", HTTP_HOST=crm.a.host)
    assert converted.status_code == 302
    with crm.a:
        deal = Deal.objects.get(title="Нужны окна в дом")
        assert deal.client is not None
        assert deal.stage.position == 0
        assert Lead.objects.get(pk=lead.pk).status == "converted"
    # The same caller again: matched to the existing client by phone, no duplicate client.
    browser.post(f"/leads/{repeat.pk}/convert/", HTTP_HOST=crm.a.host)
    with crm.a:
        assert Client.objects.filter(phones__e164="+79165554433").count() == 1
        assert Deal.objects.filter(client=deal.client).count() == 2
    # Handled once only; a rejection needs a reason.
    browser.post(f"/leads/{lead.pk}/convert/", HTTP_HOST=crm.a.host)
    with crm.a:
        assert Deal.objects.filter(client=deal.client).count() == 2
    browser.post(f"/leads/{spam.pk}/reject/", {"reason": ""}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert Lead.objects.get(pk=spam.pk).status == "new"
    browser.post(f"/leads/{spam.pk}/reject/", {"reason": "Спам"}, HTTP_HOST=crm.a.host)
    assert browser.post(f"/leads/{mine.pk}/convert/", HTTP_HOST=crm.a.host).status_code == 404
    with crm.a:
        assert Lead.objects.get(pk=spam.pk).reject_reason == "Спам"
