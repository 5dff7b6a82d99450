from django.db import migrations

# Trigram indexes for the search box, created only where pg_trgm is installed (managed
# PostgreSQL; not the embedded development server). Plain SQL, so the release migration can
# replay it in every company schema. "Any 4+ consecutive digits of a phone" is a substring
# search: the trigram index on E.164 numbers serves it.
INDEXES = [
    ("client_name_trgm", "crm_core_client", "name"),
    ("contact_last_name_trgm", "crm_core_contact", "last_name"),
    ("contact_first_name_trgm", "crm_core_contact", "first_name"),
    ("deal_title_trgm", "crm_core_deal", "title"),
    ("phone_e164_trgm", "crm_core_phone", "e164"),
]

CREATE = (
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    + " ".join(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops);" for name, table, column in INDEXES)
    + " END IF; END $$;"
)
DROP = [f"DROP INDEX IF EXISTS {name}" for name, _table, _column in INDEXES]


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_pg_trgm"),
        ("crm_core", "0003_attachments_notifications"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
