"""The first-reply report puts the web-form requests beside the conversations (#20: "shown in
the reports next to the request SLA"): their call-back tasks, how soon they were done and how
many within the SLA's own deadline (a task postponed later does not move it); only what the
person sees; another company's requests never count."""

from __future__ import annotations

from typing import Any

from crm_core.automation.models import RequestForm
from crm_core.automation.services import setup
from crm_core.automation.services.capture import WEB_FORM, Inbound, receive
from crm_core.models import Task
from crm_core.services.tasks import complete_task
from tests.test_automation_timers import _pass_time
from tests.test_isolation import login_on_host


def _requests(crm: Any, phones: list[str]) -> list[Task]:
    """Web-form requests from different people: each makes a deal and its call-back task."""
    setup.install_window_template(membership=crm.owner, company=crm.a.company)
    form = RequestForm.objects.create(name="Site", assignee=crm.manager.user)
    tasks = []
    for phone in phones:
        captured = receive(
            company=crm.a.company,
            form=form,
            channel=WEB_FORM,
            inbound=Inbound(values={"name": "Иван", "phone": phone}),
        )
        tasks.append(Task.objects.get(deal=captured.deal))
    return tasks


def _row(html: str) -> str:
    table = html.index('<table class="report">')
    start = html.rindex("<tr", table, html.index("Заявки: перезвон", table))
    return html[start : html.index("</tr>", start)]


def test_requests_call_backs_sit_beside_the_conversations_with_their_sla(crm: Any) -> None:
    with crm.a:
        on_time, late, _waiting = _requests(crm, ["+79160001122", "+79160003344", "+79160005566"])
        complete_task(membership=crm.manager, task=on_time)
        _pass_time(60)  # the deadlines (and their timers) an hour in the past: done too late
        complete_task(membership=crm.manager, task=late)

    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    html = owner.get("/reports/first_reply/", HTTP_HOST=crm.a.host).content.decode()
    assert "В срок SLA заявок" in html
    row = _row(html)
    cells = [c.split(">")[-1].strip() for c in row.split("</td>")[:-1]]
    assert cells[1:3] == ["3", "2"]  # three requests, two called back
    assert cells[5] == "1"  # one still waiting
    assert cells[6] == "33 %"  # one of three within the SLA

    # A colleague sees none of the manager's requests; company B's owner sees none of A's.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    theirs = colleague.get("/reports/first_reply/", HTTP_HOST=crm.a.host).content.decode()
    assert "Заявки: перезвон" not in theirs
    b = crm.b
    outsider = login_on_host(b.owner, b.company, b.host)
    other = outsider.get("/reports/first_reply/", HTTP_HOST=b.host).content.decode()
    assert "Заявки: перезвон" not in other
