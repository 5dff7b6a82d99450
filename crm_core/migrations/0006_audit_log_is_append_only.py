from django.db import migrations

# The audit log is append-only at the database level: no code path, admin action or stray
# query can rewrite history. Plain SQL so the release migration replays it in every schema.
# One statement per item: a Citus cluster runs each as its own command.
FORBID = [
    """
CREATE OR REPLACE FUNCTION crm_core_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log cannot be changed or deleted';
END
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER crm_core_auditentry_append_only
    BEFORE UPDATE OR DELETE ON crm_core_auditentry
    FOR EACH ROW EXECUTE FUNCTION crm_core_audit_append_only()
""",
]
ALLOW = [
    "DROP TRIGGER IF EXISTS crm_core_auditentry_append_only ON crm_core_auditentry",
    "DROP FUNCTION IF EXISTS crm_core_audit_append_only()",
]


class Migration(migrations.Migration):
    dependencies = [("crm_core", "0005_audit_log")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
