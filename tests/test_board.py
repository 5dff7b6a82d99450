"""The deal board: what a card shows, the column heads' forecast, the stage colours without
inline styles, the cards' quick actions, and a constant number of queries — with isolation."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_core.models import Activity, Deal, Stage, Task
from crm_core.queries.deals import board, board_total, initials
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import create_deal
from crm_core.services.tasks import create_task
from tests.test_isolation import login_on_host


def _card_html(page: str, deal_id: int) -> str:
    match = re.search(rf'<li class="deal-card" id="deal-card-{deal_id}".*?</li>', page, re.S)
    assert match, f"no card for deal {deal_id}"
    return match.group(0)


def test_initials_for_the_avatar() -> None:
    assert initials("Анна Петрова") == "АП"
    assert initials("Иван") == "И"
    assert initials("Пётр Ильич Чайковский") == "ПИ"
    assert initials("anna.petrova@example.com") == "A"


def test_a_card_shows_client_amount_responsible_next_task_and_days_in_stage(crm: Any) -> None:
    zone = ZoneInfo(crm.a.company.time_zone)
    now = timezone.now()
    end_of_today = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time.min, zone)
    crm.manager.user.full_name = "Анна Петрова"
    crm.manager.user.save()
    with crm.a:
        client = create_client(
            membership=crm.manager, company=crm.a.company, data=ClientInput(name="ООО Рассвет")
        )
        late = create_deal(
            membership=crm.manager,
            title="Окна в офис",
            pipeline=crm.pipeline,
            client=client,
            amount=Decimal(120000),
        )
        Deal.objects.filter(pk=late.pk).update(stage_entered_at=now - timedelta(days=3, hours=1))
        today = create_deal(membership=crm.manager, title="Балкон", pipeline=crm.pipeline)
        later = create_deal(membership=crm.manager, title="Дача", pipeline=crm.pipeline)
        bare = create_deal(membership=crm.manager, title="Без задачи", pipeline=crm.pipeline)
        won = create_deal(
            membership=crm.manager,
            title="Уже оплачено",
            pipeline=crm.pipeline,
            stage=crm.pipeline.stages.get(outcome="won"),
        )
        for deal, title, deadline in [
            (late, "Позже", now + timedelta(days=5)),  # not the next one
            (today, "Замер сегодня", now + (end_of_today - now) / 2),
            (later, "Договор", end_of_today + timedelta(days=2, hours=10)),
        ]:
            create_task(membership=crm.manager, title=title, deadline=deadline, deal=deal)
        # A task whose deadline passed yesterday; a done one is not the next task.
        Task.objects.create(title="Перезвонить", deal=late, deadline=now - timedelta(days=1))
        Task.objects.create(title="Сделано", deal=bare, deadline=now, done_at=now)

    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    card = _card_html(page, late.pk)
    assert "ООО Рассвет" in card
    assert "120\xa0000\xa0₽" in card  # the sign stays on the line of its number
    assert 'class="avatar"' in card
    assert ">АП</span>" in card
    assert 'aria-label="Ответственный: Анна Петрова"' in card
    assert 'title="Анна Петрова"' in card
    assert 'data-next-task="overdue"' in card
    assert "Перезвонить" in card
    assert "Просрочено" in card
    assert "Позже" not in card
    assert "3 дн." in card

    card = _card_html(page, today.pk)
    assert 'data-next-task="today"' in card
    assert "Замер сегодня" in card
    assert "Сегодня" in card
    assert "0 дн." in card
    card = _card_html(page, later.pk)
    assert 'data-next-task="later"' in card
    assert "Договор" in card
    card = _card_html(page, bare.pk)
    assert 'data-next-task="none"' in card
    assert "Нет задачи" in card
    assert "Сделано" not in card
    # A won deal expects no next task: no warning.
    card = _card_html(page, won.pk)
    assert "data-next-task" not in card
    assert "Нет задачи" not in card


def _bulk_deals(crm: Any, n: int, start: int) -> None:
    """n deals spread over the open stages, each with a client and an open task."""
    with crm.a:
        stages = list(crm.pipeline.stages.filter(outcome="open").order_by("position"))
        users = [crm.manager.user, crm.colleague.user, crm.owner.user]
        deals = Deal.objects.bulk_create(
            Deal(
                title=f"D{i}",
                pipeline=crm.pipeline,
                stage=stages[i % len(stages)],
                responsible=users[i % len(users)],
                amount=Decimal(1000 + i),
                client=create_client(
                    membership=crm.owner, company=crm.a.company, data=ClientInput(name=f"C{i}")
                ),
            )
            for i in range(start, start + n)
        )
        Task.objects.bulk_create(
            Task(title=f"T{d.pk}", deal=d, deadline=timezone.now() + timedelta(days=d.pk % 3 - 1))
            for d in deals
        )


def test_board_queries_stay_constant_with_10_and_100_deals(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)

    def page_queries() -> tuple[int, int]:
        with crm.a, CaptureQueriesContext(django_connection) as direct:
            columns = board(crm.owner, crm.pipeline)
            cards = [card for column in columns for card in column.deals]
            assert all(card.initials and card.task_title for card in cards)
        with CaptureQueriesContext(django_connection) as page:
            assert browser.get("/deals/", HTTP_HOST=crm.a.host).status_code == 200
        return (
            len([q for q in direct.captured_queries if not q["sql"].startswith("SET ")]),
            len(page.captured_queries),
        )

    _bulk_deals(crm, 10, 0)
    browser.get("/deals/", HTTP_HOST=crm.a.host)  # the first page of a session writes it once
    few = page_queries()
    _bulk_deals(crm, 90, 10)
    many = page_queries()
    assert many == few
    # stages, today's rates, column heads, cards (with names), the cards' next tasks, and the
    # cards' marks (their payment by invoices: one grouped query for all the cards)
    assert few[0] == 6


def test_weighted_forecast_in_the_heads_and_the_board_total(crm: Any) -> None:
    with crm.a:
        stages = {s.name: s for s in crm.pipeline.stages.all()}
        first, measurement = stages["Первый звонок"], stages["Замер"]  # 10 % and 30 %
        won = crm.pipeline.stages.get(outcome=Stage.Outcome.WON)
        lost = crm.pipeline.stages.get(outcome=Stage.Outcome.LOST)
        for title, stage, amount in [
            ("a", first, "1000"),
            ("b", first, "500.50"),
            ("c", measurement, "2000"),
            ("d", won, "7000"),
            ("e", lost, "9000"),
        ]:
            create_deal(
                membership=crm.owner,
                title=title,
                pipeline=crm.pipeline,
                stage=stage,
                amount=Decimal(amount),
            )
        columns = {c.stage.pk: c for c in board(crm.owner, crm.pipeline)}
        total = board_total(list(columns.values()))
    assert columns[first.pk].weighted == Decimal("150.05")  # 1500.50 × 10 %
    assert columns[measurement.pk].weighted == Decimal("600.00")  # 2000 × 30 %
    assert columns[won.pk].weighted == Decimal("7000.00")
    assert columns[lost.pk].weighted == Decimal("0.00")
    # The board's forecast is of the open deals only: the won ones are no longer a forecast.
    assert total == (5, Decimal("19500.50"), Decimal("750.05"))

    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<span data-forecast>150,05</span> ₽" in page
    assert "<span data-forecast>600</span> ₽" in page
    assert f'data-probability="{first.probability}"' in page
    assert "<strong data-total-forecast>750,05</strong>" in page
    assert "<strong data-total-sum>19\xa0500,50</strong>" in page


def test_stage_colours_come_from_a_stylesheet_not_style_attributes(crm: Any) -> None:
    with crm.a:
        stages = list(crm.pipeline.stages.order_by("position"))
        create_deal(membership=crm.owner, title="Цвет", pipeline=crm.pipeline)
        Stage.objects.filter(pk=stages[0].pk).update(color="#abcdef")
        Stage.objects.filter(pk=stages[1].pk).update(color="red;}a")  # not a colour: left out
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/", HTTP_HOST=crm.a.host).content.decode()
    assert "style=" not in page
    assert f'class="column stage-{stages[0].pk}"' in page
    link = re.search(r'href="(/deals/pipeline/\d+/stage-colours\.css\?v=(\w+))"', page)
    assert link, "the board links its colours' stylesheet"
    css = browser.get(link.group(1), HTTP_HOST=crm.a.host)
    assert css.status_code == 200
    assert css["Content-Type"].startswith("text/css")
    assert css["Cache-Control"] == "private, max-age=31536000, immutable"
    text = css.content.decode()
    assert f".stage-{stages[0].pk} {{ --stage: #abcdef; }}" in text
    assert f".stage-{stages[2].pk} {{ --stage: {stages[2].color}; }}" in text
    assert "red" not in text
    # A changed colour changes the stylesheet's address, so no browser keeps the old one.
    with crm.a:
        Stage.objects.filter(pk=stages[0].pk).update(color="#123456")
    again = browser.get("/deals/", HTTP_HOST=crm.a.host).content.decode()
    assert link.group(0) not in again
    stale = browser.get(link.group(1), HTTP_HOST=crm.a.host)
    assert stale["Cache-Control"] == "private, no-cache"

    # Company B's stylesheet (same pipeline id in its own schema) has B's colours, never A's.
    intruder = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    theirs = intruder.get(link.group(1).split("?")[0], HTTP_HOST=crm.b.host)
    assert theirs.status_code in (200, 404)
    assert "#123456" not in theirs.content.decode()
    with crm.b:
        missing = Stage.objects.order_by("-pipeline_id").values_list("pipeline_id", flat=True)[0]
    assert (
        intruder.get(
            f"/deals/pipeline/{missing + 100}/stage-colours.css", HTTP_HOST=crm.b.host
        ).status_code
        == 404
    )


def test_quick_actions_log_a_call_and_add_a_task_from_the_board(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Быстро", pipeline=crm.pipeline)
    url = f"/deals/{deal.pk}/quick/"
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    dialog = browser.get(url, HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Перенести на этап…" in dialog
    assert "data-move-select" in dialog
    assert "Записать звонок" in dialog
    assert "Поставить задачу" in dialog

    logged = browser.post(
        url,
        {"action": "call", "quick-log-kind": "call", "quick-log-result": "Перезвонит в пятницу"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="ru",
    ).content.decode()
    assert "data-board-done" in logged
    assert 'hx-swap-oob="outerHTML"' in logged
    with crm.a:
        assert Activity.objects.filter(deal=deal, kind="call", summary="Перезвонит в пятницу")

    # Tomorrow on the company's clock (the form's time is the company's; at 22:00 UTC Moscow is
    # already on tomorrow, and UTC's tomorrow would be Moscow's "today").
    zone = ZoneInfo(crm.a.company.time_zone)
    deadline = (timezone.localtime(timezone=zone) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    added = browser.post(
        url,
        {
            "action": "task",
            "quick-task-title": "Отправить смету",
            "quick-task-kind": "email",
            "quick-task-deadline": deadline,
        },
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="ru",
    ).content.decode()
    # The redrawn card carries the new next task.
    card = _card_html(added, deal.pk)
    assert "Отправить смету" in card
    assert 'data-next-task="later"' in card
    with crm.a:
        assert Task.objects.get(deal=deal).title == "Отправить смету"

    # Bad input: the dialog comes back with the error, nothing is written.
    empty = browser.post(
        url,
        {"action": "call", "quick-log-kind": "call", "quick-log-result": ""},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="ru",
    ).content.decode()
    assert "data-board-done" not in empty
    assert "errorlist" in empty
    with crm.a:
        assert Activity.objects.filter(deal=deal, kind="call").count() == 1

    # A read-only member is told so; nothing is written.
    viewer = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    refused = viewer.post(
        url,
        {"action": "call", "quick-log-kind": "call", "quick-log-result": "Я только смотрю"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="ru",
    ).content.decode()
    assert "Ваша роль позволяет только просматривать." in refused
    with crm.a:
        assert not Activity.objects.filter(summary="Я только смотрю").exists()

    # Another manager who cannot see the deal, and company B by the same id: 404.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    assert colleague.get(url, HTTP_HOST=crm.a.host).status_code == 404
    intruder = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert intruder.get(url, HTTP_HOST=crm.b.host).status_code == 404
    assert (
        intruder.post(
            url,
            {"action": "call", "quick-log-kind": "call", "quick-log-result": "чужое"},
            HTTP_HOST=crm.b.host,
        ).status_code
        == 404
    )
    with crm.a:
        assert not Activity.objects.filter(summary="чужое").exists()


def test_a_move_to_lost_from_the_board_needs_a_reason(crm: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Потеряем", pipeline=crm.pipeline)
        lost = crm.pipeline.stages.get(outcome=Stage.Outcome.LOST)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="lost-dialog"' in page
    assert 'data-outcome="lost"' in page
    refused = browser.post(
        f"/deals/{deal.pk}/move/",
        {"stage": lost.pk, "version": 1},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code == 400
    moved = browser.post(
        f"/deals/{deal.pk}/move/",
        {"stage": lost.pk, "version": 1, "lost_reason": "Дорого"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert moved.status_code == 200
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).lost_reason == "Дорого"


def test_closing_a_deal_on_the_board_offers_and_closes_its_open_tasks(crm: Any) -> None:
    """Dropped on a won (or lost) stage, a card with open tasks offers "Also close N open
    tasks" (the card carries N and the text); ``close_tasks=1`` closes them through the same
    service as the deal card — a repeating one ends with the deal — and the timers stop."""
    from crm_core.automation.models import Timer

    now = timezone.now()
    with crm.a:
        won = crm.pipeline.stages.get(outcome=Stage.Outcome.WON)
        lost = crm.pipeline.stages.get(outcome=Stage.Outcome.LOST)
        deal = create_deal(membership=crm.manager, title="Закроем", pipeline=crm.pipeline)
        calls = [
            create_task(
                membership=crm.manager, title=t, deadline=now + timedelta(days=d), deal=deal
            )
            for t, d in (("Позвонить", 1), ("Отправить КП", 2))
        ]
        Task.objects.filter(pk=calls[1].pk).update(recurrence="FREQ=WEEKLY;BYDAY=MO")
        Task.objects.create(title="Уже сделано", deal=deal, deadline=now, done_at=now)
        Timer.objects.create(
            kind=Timer.Kind.SLA_OVERDUE, due_at=now + timedelta(hours=2), deal=deal, task=calls[0]
        )
        kept = create_deal(membership=crm.manager, title="Задачи останутся", pipeline=crm.pipeline)
        stays = create_task(
            membership=crm.manager, title="Забрать оплату", deadline=now + timedelta(days=1),
            deal=kept,
        )  # fmt: skip
        Timer.objects.create(
            kind=Timer.Kind.SLA_OVERDUE, due_at=now + timedelta(hours=2), deal=kept, task=stays
        )
        bare = create_deal(membership=crm.manager, title="Без задач", pipeline=crm.pipeline)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get("/deals/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    card = _card_html(page, deal.pk)
    assert 'data-open-tasks="2"' in card
    assert 'data-close-tasks="Закрыть и 2 открытые задачи"' in card
    assert 'data-open-tasks="0"' in _card_html(page, bare.pk)
    assert "data-close-tasks" not in _card_html(page, bare.pk)  # nothing to offer
    assert 'id="won-dialog"' in page
    assert 'id="lost-close-tasks"' in page

    moved = browser.post(
        f"/deals/{deal.pk}/move/",
        {"stage": won.pk, "version": deal.version, "close_tasks": "1"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert moved.status_code == 200
    with crm.a:
        assert not Task.objects.filter(deal=deal, done_at__isnull=True).exists()
        assert Task.objects.filter(deal=deal).count() == 3  # the weekly one made no next one
        assert Activity.objects.filter(deal=deal, kind=Activity.Kind.TASK_DONE).count() == 2
        assert not Timer.objects.filter(deal=deal, fired_at__isnull=True).exists()
        assert Timer.objects.get(task=calls[0]).outcome in {"task done", "deal closed"}
    # Not asked: a lost deal's tasks stay open (its timers stop all the same).
    answer = browser.post(
        f"/deals/{kept.pk}/move/",
        {"stage": lost.pk, "version": kept.version, "lost_reason": "Дорого"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 200
    with crm.a:
        assert Task.objects.get(pk=stays.pk).done_at is None
        assert not Timer.objects.filter(deal=kept, fired_at__isnull=True).exists()
    # Company B cannot close A's deal or its tasks, whatever it posts.
    with crm.a:
        back = crm.pipeline.stages.filter(outcome="open").order_by("position").first()
        Deal.objects.filter(pk=kept.pk).update(stage=back, lost_reason="")
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    refused = other.post(
        f"/deals/{kept.pk}/move/",
        {"stage": won.pk, "close_tasks": "1"},
        HTTP_HOST=crm.b.host,
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code in (400, 404)
    with crm.a:
        assert Task.objects.get(pk=stays.pk).done_at is None
        assert Deal.objects.get(pk=kept.pk).stage_id == back.pk
