from django.db import migrations

# GiST trigram indexes answer "the 10 names closest to this text" by walking the index
# (ORDER BY name <<-> query LIMIT 10) instead of sorting every match; they replace the GIN
# ones for names and titles. Only where pg_trgm is installed (see 0004).
NAMES = [
    ("client_name_trgm", "client_name_gist", "crm_core_client", "name"),
    ("contact_last_name_trgm", "contact_last_name_gist", "crm_core_contact", "last_name"),
    ("contact_first_name_trgm", "contact_first_name_gist", "crm_core_contact", "first_name"),
    ("deal_title_trgm", "deal_title_gist", "crm_core_deal", "title"),
]

CREATE = (
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    + " ".join(
        f"DROP INDEX IF EXISTS {old}; "
        f"CREATE INDEX IF NOT EXISTS {new} ON {table} USING gist ({column} gist_trgm_ops);"
        for old, new, table, column in NAMES
    )
    + " END IF; END $$;"
)
REVERSE = (
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    + " ".join(
        f"DROP INDEX IF EXISTS {new}; "
        f"CREATE INDEX IF NOT EXISTS {old} ON {table} USING gin ({column} gin_trgm_ops);"
        for old, new, table, column in NAMES
    )
    + " END IF; END $$;"
)


class Migration(migrations.Migration):
    dependencies = [("crm_core", "0007_leads")]

    operations = [migrations.RunSQL(CREATE, REVERSE)]
