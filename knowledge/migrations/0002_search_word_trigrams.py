from django.db import migrations

# A misspelt search word is matched to the nearest word of the articles by walking a GiST
# trigram index (ORDER BY word <-> typed LIMIT 1). Only where pg_trgm is installed (tenants 0003);
# without it the search still finds word forms, not typos.
CREATE = (
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    "CREATE INDEX IF NOT EXISTS knowledge_word_trgm ON knowledge_searchword "
    "USING gist (word gist_trgm_ops); END IF; END $$;"
)
DROP = "DROP INDEX IF EXISTS knowledge_word_trgm"


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_pg_trgm"),
        ("knowledge", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
