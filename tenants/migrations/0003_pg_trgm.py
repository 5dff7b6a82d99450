from django.db import migrations

CREATE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    END IF;
END
$$;
"""


class Migration(migrations.Migration):
    """pg_trgm, once per database in the public schema, where the server has it (managed
    PostgreSQL does; the embedded development server does not, and search then works without
    typo tolerance — see crm_core.queries.search)."""

    dependencies = [("tenants", "0002_company_deletion")]

    operations = [migrations.RunSQL(CREATE, migrations.RunSQL.noop)]
