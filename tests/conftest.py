"""Fixtures for the cross-app tests (the root conftest.py has the database ones)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import chromium_page

__all__ = ["chromium_page", "crm"]


@pytest.fixture
def crm(two_companies: Any) -> Any:
    """Company A with its owner, two managers, a head of sales with a team, and a read-only."""
    a, b = two_companies

    from crm_core.models import Employee, Pipeline, Team
    from tenants.models import Membership, User

    def member(email: str, role: str) -> Membership:
        user = User.objects.create_user(email=email, password="Member-Pass-991")
        return Membership.objects.create(user=user, company=a.company, role=role)

    class World:
        pass

    world = World()
    world.a, world.b = a, b  # type: ignore[attr-defined]
    world.owner = Membership.objects.get(company=a.company, user=a.owner)  # type: ignore[attr-defined]
    world.manager = member("m1@example.com", "manager")  # type: ignore[attr-defined]
    world.colleague = member("m2@example.com", "manager")  # type: ignore[attr-defined]
    world.head = member("head@example.com", "head")  # type: ignore[attr-defined]
    world.viewer = member("viewer@example.com", "read_only")  # type: ignore[attr-defined]
    with a:
        team = Team.objects.create(name="Sales", head=world.head.user)  # type: ignore[attr-defined]
        Employee.objects.create(user=world.manager.user, team=team)  # type: ignore[attr-defined]
        world.pipeline = Pipeline.objects.get(is_default=True)  # type: ignore[attr-defined]
    return world


@pytest.fixture
def shipped_plans(django_db_blocker: Any) -> None:
    """The plans billing's data migration ships («Старт», «Команда», «Бизнес»). A transactional
    test elsewhere in the run empties every table, data-migration rows included: tests about
    the shipped plans put them back first (the seeding never overwrites what is there)."""
    import importlib

    from django.apps import apps

    seeding = importlib.import_module("billing.migrations.0004_default_plans")
    with django_db_blocker.unblock():
        seeding.create_default_plans(apps, None)
