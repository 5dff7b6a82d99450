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
