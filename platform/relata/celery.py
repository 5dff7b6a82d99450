"""The one Celery app shared by all companies.

tenant-schemas-celery stamps every task sent inside a company's context with its schema and
switches the worker's connection to that schema before the task runs (a plain ``Celery()``
app would silently run every task in ``public``).
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relata.settings")

app = CeleryApp("relata")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
