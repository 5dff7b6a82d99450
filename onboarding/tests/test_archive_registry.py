"""The archive forgets nothing: every model with company data is archived or excluded on purpose;
the models added late (employees, webhooks, import templates, the audit log, the catalogue)
make the round trip from company A into company B."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from crm_core.automation.models import WebhookSubscription
from crm_core.models import (
    AuditEntry,
    Deal,
    DealItem,
    Employee,
    Pipeline,
    PriceList,
    PricingSettings,
    Product,
    ProductPrice,
    Team,
)
from onboarding import archive
from onboarding.models import ImportTemplate
from onboarding.services.exports import build_export, request_export
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import

pytestmark = pytest.mark.usefixtures("media_root")

# The apps whose tables live in a company's schema (settings.TENANT_APPS' own code).
COMPANY_APPS = (
    "crm_core",
    "onboarding",
    "telephony",
    "exchange1c",
    "communications",
    "telegram",
    "marketing",
    "knowledge",
    "service",
)


def test_every_model_with_company_data_is_archived_or_excluded_with_a_reason() -> None:
    archived = {model._meta.label for _name, model in archive.ENTITIES}
    names = [name for name, _model in archive.ENTITIES]
    assert len(names) == len(set(names)), "two entities share a name in the archive"
    forgotten = sorted(
        model._meta.label
        for model in apps.get_models()
        if model.__module__.startswith(COMPANY_APPS)
        and model._meta.label not in archived
        and model._meta.label not in archive.EXCLUDED
    )
    assert not forgotten, (
        f"{forgotten}: add each to onboarding/archive.py ENTITIES (restored generically) "
        "or to EXCLUDED with the reason it is left out"
    )
    assert all(reason.strip() for reason in archive.EXCLUDED.values())
    # Nothing is both archived and excluded, and an exclusion names a real model.
    labels = {model._meta.label for model in apps.get_models()}
    assert not archived & set(archive.EXCLUDED)
    assert set(archive.EXCLUDED) <= labels


def test_the_registry_is_in_dependency_order() -> None:
    seen: set[Any] = set()
    for _name, model in archive.ENTITIES:
        for field in model._meta.concrete_fields:
            related = field.related_model if field.is_relation else None
            if related is None or related is model or related._meta.app_label in ("tenants",):
                continue
            if related._meta.label == "tenants.User" or related.__name__ == "User":
                continue
            assert related in seen, f"{model.__name__}.{field.name} points at a later model"
        seen.add(model)


def test_late_models_round_trip_and_history_stays_history(make_company: Any) -> None:
    from tenants.models import Membership, User

    a = make_company("Alpha")
    colleague = User.objects.create_user(email="anna@example.com", password="Member-Pass-991")
    Membership.objects.create(user=colleague, company=a.company, role="manager")
    gone = User.objects.create_user(email="gone@example.com", password="Member-Pass-991")
    Membership.objects.create(user=gone, company=a.company, role="manager")
    # The archive keeps milliseconds (DjangoJSONEncoder); a whole second compares exactly.
    long_ago = (timezone.now() - timedelta(days=400)).replace(microsecond=0)
    with a:
        team = Team.objects.create(name="Отдел продаж", head=a.owner)
        Employee.objects.create(user=colleague, team=team)
        Employee.objects.create(user=gone, team=team)
        WebhookSubscription.objects.create(url="https://example.com/hook", events=["deal.created"])
        ImportTemplate.objects.create(name="Наша 1С", mapping={"A": "name"}, date_order="dmy")
        PricingSettings.objects.create(prices_include_vat=False)
        dealer = PriceList.objects.create(name="Дилерский")
        window = Product.objects.create(name="Окно", price=Decimal(100), vat_rate="10", unit="м²")
        ProductPrice.objects.create(price_list=dealer, product=window, price=Decimal(80))
        pipeline = Pipeline.objects.get(is_default=True)
        deal = Deal.objects.create(
            title="Окна",
            pipeline=pipeline,
            stage=pipeline.stages.get(position=0),
            price_list=dealer,
        )
        DealItem.objects.create(
            deal=deal, product=window, name="Окно", quantity=2, price=80, vat_rate="10",
            discount_kind="amount", discount=Decimal(5), unit="м²",
        )  # fmt: skip
        AuditEntry.objects.create(
            object_type="deal", object_id=deal.pk, action="update",
            changes={"title": ["Старое", "Окна"]}, actor=gone, at=long_ago,
        )  # fmt: skip
        AuditEntry.objects.create(
            object_type="product", object_id=window.pk, action="create", actor=a.owner
        )
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    b = make_company("Beta")
    Membership.objects.create(user=colleague, company=b.company, role="manager")
    with b:
        report = run_import(b.company, b.owner, data, "export.zip")
        # The colleague who is a member here keeps her team; someone who is not is left out.
        assert list(Employee.objects.values_list("user_id", "team__name")) == [
            (colleague.pk, "Отдел продаж")
        ]
        hook = WebhookSubscription.objects.get()
        assert (hook.url, hook.events, hook.is_active) == (
            "https://example.com/hook",
            ["deal.created"],
            False,  # a new secret: off until the admin hands it to the receiver
        )
        assert ImportTemplate.objects.get().mapping == {"A": "name"}
        assert PricingSettings.objects.get().prices_include_vat is False
        restored_deal = Deal.objects.get(title="Окна")
        assert restored_deal.price_list is not None
        assert restored_deal.price_list.name == "Дилерский"
        assert next(
            iter(ProductPrice.objects.values_list("price_list__name", "product__name", "price"))
        ) == ("Дилерский", "Окно", Decimal("80.00"))
        line = DealItem.objects.get()
        assert (line.vat_rate, line.discount_kind, line.discount, line.unit) == (
            "10", "amount", Decimal("5.00"), "м²",
        )  # fmt: skip
        assert Product.objects.get().vat_rate == "10"
        # History: original dates and authors, pointing at the restored records.
        old = AuditEntry.objects.get(action="update", object_type="deal")
        assert old.at == long_ago
        assert old.object_id == restored_deal.pk
        assert (old.actor_id, old.restored_actor) == (None, "gone@example.com")
        mine = AuditEntry.objects.get(object_type="product", action="create")
        assert mine.actor_id is None or mine.actor_id == a.owner.pk
        assert mine.object_id == Product.objects.get().pk
        undo_batch(report.batch)
        assert not Deal.objects.filter(title="Окна").exists()
        assert not PriceList.objects.exists()
        assert AuditEntry.objects.filter(restored_actor="gone@example.com").exists()
    with a:  # the source company is untouched
        assert WebhookSubscription.objects.get().is_active is True
        assert AuditEntry.objects.filter(restored_actor="").count() == AuditEntry.objects.count()


def test_restore_into_a_company_with_the_same_price_list_joins_it(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        retail = PriceList.objects.create(name="Розница")
        product = Product.objects.create(name="Дверь", price=Decimal(10))
        ProductPrice.objects.create(price_list=retail, product=product, price=Decimal(12))
        data = build_export(request_export(user_id=a.owner.pk), company=a.company).file.read()
    b = make_company("Beta")
    with b:
        own = PriceList.objects.create(name="Розница")
        run_import(b.company, b.owner, data, "export.zip")
        assert PriceList.objects.get() == own
        assert ProductPrice.objects.get().price_list == own
