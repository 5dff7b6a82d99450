"""Fixtures for the cross-app tests (the root conftest.py has the database ones)."""

from tests.browser import chromium_page

__all__ = ["chromium_page"]
