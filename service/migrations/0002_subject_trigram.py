from django.db import migrations

# The tickets list's search is ``subject__icontains`` (UPPER(subject) LIKE UPPER('%…%')): a
# trigram index on that expression finds a rare word without reading 200,000 subjects. Only
# where pg_trgm is installed, as crm_core's search indexes (crm_core 0004, 0008).
CREATE = (
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    "CREATE INDEX IF NOT EXISTS ticket_subject_trgm ON service_ticket "
    "USING gin ((UPPER(subject::text)) gin_trgm_ops); END IF; END $$;"
)
REVERSE = "DROP INDEX IF EXISTS ticket_subject_trgm;"


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, REVERSE)]
