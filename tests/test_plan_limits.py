"""The plan's limits (Plan.limits) hold where records are added: pipelines, automation rules,
custom fields, file storage. Over the limit: refused with a message naming the limit and a link
to the billing page. A key that is absent means no limit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.limits import limit_of
from billing.models import Plan, Subscription
from billing.queries import default_plan
from crm_core.automation.models import StageRule
from crm_core.models import Attachment, CustomField, Deal, Pipeline
from crm_core.services.deals import create_deal
from crm_core.services.fields import add_field
from crm_core.services.files import attach_file
from crm_core.services.limits import PlanLimitReachedError, storage_used
from crm_core.services.pipelines import create_pipeline
from tests.test_isolation import login_on_host

STAGES = [("Новая", 10, "#2457d6", "open"), ("Успех", 100, "#2b8a3e", "won")]


def _plan(company: Any, **limits: Any) -> Plan:
    plan = Plan.objects.create(
        code="small", name="Малый", price_per_seat=Decimal(300), limits=limits, is_public=False
    )  # not public: a company without a subscription gets the first public plan
    Subscription.objects.update_or_create(company=company, defaults={"plan": plan})
    return plan


def test_limit_keys_read_as_numbers_and_absent_means_unlimited(crm: Any) -> None:
    plan = _plan(crm.a.company, pipelines=2, storage_mb="512", custom_fields="many")
    assert limit_of(crm.a.company, "pipelines") == 2
    assert limit_of(crm.a.company, "storage_mb") == Decimal(512)
    assert limit_of(crm.a.company, "custom_fields") is None  # unreadable: never locks out
    assert limit_of(crm.a.company, "automation_rules") is None
    plan.limits = {}
    plan.save()
    assert limit_of(crm.a.company, "pipelines") is None
    # B is on the shipped default plan (its trial), never on A's.
    shipped = default_plan()
    assert limit_of(crm.b.company, "pipelines") == (
        Decimal(shipped.limits["pipelines"]) if shipped and "pipelines" in shipped.limits else None
    )


def test_the_second_pipeline_rule_and_field_over_the_limit_are_refused(crm: Any) -> None:
    _plan(crm.a.company, pipelines=1, automation_rules=1, custom_fields=1)
    with crm.a:
        assert Pipeline.objects.count() == 1
        with pytest.raises(PlanLimitReachedError) as refused:
            create_pipeline(crm.a.company, name="Сервис", stages=STAGES)
        assert "Малый" in refused.value.message
        assert refused.value.key == "pipelines"
        add_field(membership=crm.owner, entity="deal", label="Этаж", kind="text", choices=[])
        with pytest.raises(PlanLimitReachedError):
            add_field(membership=crm.owner, entity="deal", label="Адрес", kind="text", choices=[])
        assert CustomField.objects.count() == 1
        stage = crm.pipeline.stages.first()
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    host = {"HTTP_HOST": crm.a.host}
    rule = {"part": "rule", "name": "Позвонить", "stage": stage.pk, "trigger": "enters",
            "stays_minutes": "0", "is_active": "on"}  # fmt: skip
    assert owner.post("/automation/rules/new/", rule, **host).status_code == 302
    answer = owner.post("/automation/rules/new/", {**rule, "name": "Второе"}, follow=True, **host)
    page = answer.content.decode()
    assert 'class="plan-limit-link"' in page
    assert 'href="/settings/billing/"' in page
    assert "Малый" in page
    answer = owner.post(
        "/settings/fields/",
        {"entity": "deal", "label": "Адрес", "kind": "text", "choices": ""},
        follow=True,
        **host,
    )
    assert 'class="plan-limit-link"' in answer.content.decode()
    with crm.a:
        assert StageRule.objects.count() == 1
        assert CustomField.objects.count() == 1
    # Company B, on no such plan, adds as many as it likes.
    with crm.b:
        create_pipeline(crm.b.company, name="Сервис", stages=STAGES)
        create_pipeline(crm.b.company, name="Опт", stages=STAGES)
        assert Pipeline.objects.count() == 3


def test_files_over_the_storage_limit_are_refused(crm: Any, media_root: Any) -> None:
    # 0.001 MB = 1 048 bytes (rounded down): one 600-byte file fits, the second does not.
    _plan(crm.a.company, storage_mb="0.001")
    with crm.a:
        deal = create_deal(membership=crm.manager, title="С файлами", pipeline=crm.pipeline)
        attach_file(
            membership=crm.manager,
            deal=deal,
            upload=SimpleUploadedFile("a.txt", b"x" * 600),
        )
        assert storage_used() == 600
        with pytest.raises(PlanLimitReachedError) as refused:
            attach_file(
                membership=crm.manager,
                deal=deal,
                upload=SimpleUploadedFile("b.txt", b"y" * 600),
            )
        assert refused.value.key == "storage_mb"
        assert Attachment.objects.count() == 1
    # The card's composer is where files are uploaded: the refusal links to the billing page,
    # in place (htmx) and after the redirect of a browser without JavaScript.
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    card = manager.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert f'action="/deals/{deal.pk}/card/file/"' in card
    answer = manager.post(
        f"/deals/{deal.pk}/card/file/",
        {"file": SimpleUploadedFile("c.txt", b"z" * 600)},
        HTTP_HOST=crm.a.host,
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 400
    fragment = answer.content.decode()
    assert 'id="composer-error"' in fragment
    assert "Малый" in fragment
    assert 'class="plan-limit-link"' in fragment
    assert 'href="/settings/billing/"' in fragment
    answer = manager.post(
        f"/deals/{deal.pk}/card/file/",
        {"file": SimpleUploadedFile("d.txt", b"z" * 600)},
        follow=True,
        HTTP_HOST=crm.a.host,
    )
    page = answer.content.decode()
    assert 'class="plan-limit-link"' in page
    assert 'href="/settings/billing/"' in page
    with crm.a:
        assert Attachment.objects.count() == 1
    # The old upload address, which no page links to, is gone.
    gone = manager.post(
        f"/deals/{deal.pk}/files/",
        {"file": SimpleUploadedFile("e.txt", b"z" * 10)},
        HTTP_HOST=crm.a.host,
    )
    assert gone.status_code == 404
    # B's storage is its own: A's files do not count there.
    with crm.b:
        assert storage_used() == 0
        assert not Deal.objects.filter(title="С файлами").exists()


def test_the_pipelines_page_says_the_plan_is_full_and_links_to_a_larger_one(crm: Any) -> None:
    _plan(crm.a.company, pipelines=1)
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    host = {"HTTP_HOST": crm.a.host, "HTTP_ACCEPT_LANGUAGE": "ru"}
    page = owner.get("/settings/pipelines/", **host).content.decode()
    assert 'name="name"' in page
    answer = owner.post("/settings/pipelines/", {"name": "Сервис"}, follow=True, **host)
    assert answer.redirect_chain[-1][0] == "/settings/pipelines/"
    text = answer.content.decode()
    assert "Малый" in text  # names the plan
    assert "Воронки" in text or "воронк" in text  # and what is full
    assert 'class="plan-limit-link"' in text
    assert 'href="/settings/billing/"' in text
    with crm.a:
        assert Pipeline.objects.count() == 1
    # Company B, on its own plan, adds one from the same page.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    other.post("/settings/pipelines/", {"name": "Сервис"}, HTTP_HOST=crm.b.host)
    with crm.b:
        assert Pipeline.objects.filter(name="Сервис").exists()
