"""On a phone the task's "Done" is a finger-sized target (≥ 44 × 44 px), issue #18."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import child_env
from tenants.models import Membership
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser


def test_task_done_button_is_44_px_on_a_phone(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.services.tasks import create_task

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        create_task(membership=owner, title="Позвонить", deadline=timezone.now() + timedelta(1))
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    page.set_viewport_size({"width": 390, "height": 844})
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    page.goto(f"http://{made.host}:{port}/tasks/")
    button = page.locator("ul.tasks button.task-done").first
    box = button.bounding_box()
    assert box is not None
    assert box["width"] >= 44
    assert box["height"] >= 44
    # On a wide screen it stays a plain text link.
    page.set_viewport_size({"width": 1280, "height": 900})
    wide = button.bounding_box()
    assert wide is not None
    assert wide["height"] < 44
