"""Every model obeys the rules that keep Citus schema-based sharding open (docs/scale.md).

A company schema may become a distributed schema on a Citus worker node. Then its tables may
reference only tables of their own schema (or small reference tables), nothing in ``public``
may reference into a company schema, and keys are 64-bit.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models

OUR_APPS = {
    "tenants",
    "billing",
    "crm_core",
    "onboarding",
    "relata",
    "telephony",
    "exchange1c",
    "communications",
    "telegram",
    "marketing",
    "knowledge",
    "service",
}
TENANT_ONLY = {label.rsplit(".", 1)[-1] for label in settings.TENANT_APPS} - {
    label.rsplit(".", 1)[-1] for label in settings.SHARED_APPS
}
SHARED_ONLY = {label.rsplit(".", 1)[-1] for label in settings.SHARED_APPS} - {
    label.rsplit(".", 1)[-1] for label in settings.TENANT_APPS
}


def _relations(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.get_fields(include_hidden=True) if f.is_relation and f.concrete]


def test_our_models_use_64_bit_keys() -> None:
    offenders = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
        and isinstance(model._meta.pk, models.AutoField | models.SmallAutoField)
        and not isinstance(model._meta.pk, models.BigAutoField)
    ]
    assert offenders == []


def test_company_tables_reference_only_their_own_schema() -> None:
    offenders = []
    for model in apps.get_models():
        if model._meta.app_label not in TENANT_ONLY:
            continue
        for field in _relations(model):
            target = field.related_model._meta.app_label  # type: ignore[union-attr]
            if target in TENANT_ONLY:
                continue
            if getattr(field, "db_constraint", True):
                offenders.append(f"{model._meta.label}.{field.name} -> {target}")
            # Deleting a user (public) must not make Django look for this company table from
            # the public schema, where it does not exist (it did: telegram's links, CASCADE).
            if field.remote_field.on_delete is not models.DO_NOTHING:  # type: ignore[union-attr]
                offenders.append(f"{model._meta.label}.{field.name}: on_delete must be DO_NOTHING")
    assert offenders == []


def test_nothing_in_public_references_a_company_schema() -> None:
    offenders = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in SHARED_ONLY
        for field in _relations(model)
        if field.related_model._meta.app_label in TENANT_ONLY  # type: ignore[union-attr]
    ]
    assert offenders == []


def test_the_rules_see_the_apps_they_guard() -> None:
    # If the app lists were misread, the tests above would pass vacuously.
    assert {
        "crm_core",
        "onboarding",
        "telephony",
        "exchange1c",
        "communications",
        "telegram",
        "marketing",
    } <= (TENANT_ONLY)
    assert {"tenants", "billing"} <= SHARED_ONLY
