"""Lists people shape, in a real browser with a real worker: save a view, tick rows and
reassign them in the background with a progress bar, merge two contact persons. Screenshots at
1366×768 and 390×844 in Russian and English; no CSP violation, no script error, axe clean."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from conftest import child_env
from tenants.services import handoff
from tests.browser import (
    SIZES,
    ConsoleWatch,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)

pytestmark = pytest.mark.browser


def _world(made: Any) -> dict[str, Any]:
    from crm_core.models import Client, Contact, Deal, Phone, Pipeline
    from tenants.models import Membership, User

    manager = User.objects.create_user(
        email="olga@example.com", password="Member-Pass-991", full_name="Ольга Смирнова"
    )
    Membership.objects.create(user=manager, company=made.company, role="manager")
    with made:
        pipeline = Pipeline.objects.get(is_default=True)
        stage = pipeline.stages.order_by("position").first()
        client = Client.objects.create(name="ООО Берег", responsible=made.owner)
        Deal.objects.bulk_create(
            Deal(
                title=f"Окна для объекта {n}",
                client=client,
                pipeline=pipeline,
                stage=stage,
                responsible=made.owner,
                source="Авито" if n % 2 else "Сайт",
                amount=10_000 + n * 1000,
            )
            for n in range(60)
        )
        keep = Contact.objects.create(
            client=client,
            last_name="Орлова",
            first_name="Анна",
            position="Менеджер",
            responsible=made.owner,
        )
        other = Contact.objects.create(
            client=client,
            last_name="Орлова",
            first_name="Анна",
            position="Директор",
            responsible=made.owner,
        )
        Phone.objects.create(contact=other, e164="+79161234567", raw="8 916 123-45-67")
    return {"manager": manager, "keep": keep.pk, "other": other.pk}


def test_save_a_view_bulk_reassign_with_progress_and_merge(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Contact, Deal, SavedView

    made = committed_companies("Окна Кирилла")
    world = _world(made)
    env = child_env(MEDIA_ROOT=str(tmp_path / "media"))
    base = start_web(run_process, env, tmp_path / "web.log")
    run_process(
        [
            "-m",
            "celery",
            "-A",
            "relata",
            "worker",
            "--pool",
            "solo",
            "-Q",
            "celery",
            "-l",
            "warning",
        ],
        env=env,
        log=tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log",
    )
    host = f"http://{made.host}:{base.rsplit(':', 1)[1]}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()
    problems: dict[str, list[str]] = {}

    def check(where: str) -> None:
        page.wait_for_load_state("networkidle")
        save_screenshot(page, f"lists-{where}")
        found = watch.take() + serious_accessibility_problems(page)
        if found:
            problems[where] = found

    # Save a view: the list filtered by source, with the manager column chosen.
    page.goto(f"{host}/deals/list/?source=Авито&sort=amount&col=stage&col=amount&col=responsible")
    page.click("#view-tabs + .view-tools summary")
    page.fill("#view-name", "Авито, крупные")
    page.check("#view-shared")
    page.click("#view-save")
    page.wait_for_selector("#view-tabs .view-tab.current >> text=Авито, крупные")
    with made:
        view = SavedView.objects.get()
        assert parse_qsl(view.query) == [("source", "Авито"), ("sort", "amount")]
        assert view.columns == ["stage", "amount", "responsible"]
        assert view.shared
    check("deals-view-1366x768-ru")

    # Tick two rows, then all matching the filter (30 deals), and give them to Olga.
    page.locator(".bulk-row").nth(0).check()
    page.locator(".bulk-row").nth(1).check()
    assert "2" in page.inner_text("#bulk-selected")
    page.check("#bulk-page")
    page.click("#bulk-all-button")
    page.wait_for_function(
        "() => document.querySelector('#bulk-selected').innerText.includes('30')"
    )
    page.select_option("#id_bulk-action", "reassign")
    page.select_option("#id_bulk-responsible", str(world["manager"].pk))
    check("deals-bulk-1366x768-ru")
    page.click("#bulk-go")
    page.wait_for_selector("#bulk-progress progress")
    page.wait_for_selector("#bulk-done", timeout=60_000)
    check("bulk-done-1366x768-ru")
    with made:
        assert Deal.objects.filter(responsible=world["manager"]).count() == 30
        assert Deal.objects.filter(responsible=made.owner).count() == 30

    # Merge two contact persons from the contact card, taking the other one's position.
    page.goto(f"{host}/contacts/{world['keep']}/card/")
    page.click("#contact-merge")
    page.click(f"#merge-candidates a[href$='/merge/{world['other']}/']")
    page.check("#take-position")
    check("contact-merge-1366x768-ru")
    page.click("#merge-confirm")
    page.wait_for_url(f"**/contacts/{world['keep']}/card/")
    with made:
        kept = Contact.objects.get(pk=world["keep"])
        assert kept.position == "Директор"
        assert kept.phones.count() == 1
        assert not Contact.objects.filter(pk=world["other"]).exists()

    # Every screen at both sizes in both languages.
    from crm_core.models import BulkJob

    with made:
        screens = {
            "deals-view": f"/deals/list/?view={view.pk}&source=Авито&col=stage&col=responsible",
            "clients": "/clients/",
            "contacts": "/contacts/",
            "bulk-job": f"/bulk/{BulkJob.objects.get().pk}/",
        }
        second = Contact.objects.create(
            last_name="Орлова", first_name="Анна", responsible=made.owner
        )
    screens["merge"] = f"/contacts/{world['keep']}/merge/{second.pk}/"
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for name, path in screens.items():
                response = page.goto(f"{host}{path}")
                assert response is not None
                assert response.status == 200, (name, response.status)
                assert page.evaluate(
                    "document.documentElement.scrollWidth <= window.innerWidth + 1"
                ), name
                if name == "deals-view":
                    page.locator(".bulk-row").nth(0).check()
                    page.select_option("#id_bulk-action", "stage")
                check(f"{name}-{size}-{language}")
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
