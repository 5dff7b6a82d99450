"""The default connection, typed as django-tenants' wrapper (schema_name, set_tenant, …).

``django.db.connection`` is a proxy to the current thread's connection; this is the same proxy
with the type checkers told what it really is.
"""

from typing import cast

from django.db import connection as _connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

connection = cast(DatabaseWrapper, _connection)
