"""Fixtures of the knowledge base's tests."""

from __future__ import annotations

from typing import Any

import pytest

from communications.tests.conftest import dovecot, mailbox_on, smtp_server
from tests.browser import chromium_page
from tests.conftest import crm

__all__ = ["chromium_page", "crm", "dovecot", "mailbox_on", "smtp_server", "write"]


@pytest.fixture
def write() -> Any:
    """Write and (by default) publish an article as a member, through the services."""
    from knowledge.models import Article
    from knowledge.services import articles

    def make(membership: Any, title: str, body: str = "", **values: Any) -> Article:
        publish = values.pop("publish", True)
        article = articles.save_draft(
            membership,
            Article(),
            title=title,
            body=body,
            category=values.pop("category", None),
            visibility=values.pop("visibility", Article.Visibility.PUBLIC),
            language=values.pop("language", "ru"),
        )
        if publish:
            articles.publish(membership, article)
            article.refresh_from_db()
        return article

    return make
