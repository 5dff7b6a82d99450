"""Forgetting what the request cache keeps (tenants.services.request_cache) when its rows
change: a company, its domain, a user, a membership. Connected in TenantsConfig.ready();
``update()`` on companies and memberships reports here too (tenants.models.ForgetOnUpdate)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save

from tenants.models import Company, Domain, Membership, User
from tenants.services import request_cache


def updated(row: Any) -> None:
    """One row changed (saved, updated or deleted): forget what is kept of it."""
    if isinstance(row, Company):
        hosts = Domain.objects.filter(tenant_id=row.pk).values_list("domain", flat=True)
        request_cache.forget(request_cache.host_key(h) for h in hosts)
    elif isinstance(row, Domain):
        request_cache.forget([request_cache.host_key(row.domain)])
    elif isinstance(row, Membership):
        request_cache.forget([request_cache.member_key(row.company_id, row.user_id)])
    elif isinstance(row, User):
        request_cache.forget([request_cache.user_key(row.pk)])


def _changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    updated(instance)


def _domain_renamed(sender: Any, instance: Domain, **kwargs: Any) -> None:
    # A domain given another name: the old host must stop reaching the company at once.
    if instance.pk is not None:
        old = Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()
        if old and old != instance.domain:
            request_cache.forget([request_cache.host_key(old)])


def connect() -> None:
    for model in (Company, Domain, Membership, User):
        uid = f"request-cache-{model.__name__}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}-delete")
    pre_save.connect(_domain_renamed, sender=Domain, dispatch_uid="request-cache-domain-renamed")
