"""Relata's SaaS shell: settings, URLs, middleware, the Celery app and health checks."""

from relata.celery import app as celery_app

__all__ = ["celery_app"]
