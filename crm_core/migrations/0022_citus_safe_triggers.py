from django.db import migrations

# The board's column heads (DealTotal, 0010) and the contact name vocabulary (ContactName, 0012)
# stay kept by statement-level triggers with transition tables: one grouped upsert per
# statement, however many rows it touched. What changes is the shape of their functions, so
# they also run on a Citus worker (docs/decisions.md, "Trigger-kept tables on Citus"): a Citus
# worker cannot plan one statement that reads a transition table and a distributed table
# together ("could not find named tuplestore"). So each function first folds its transition
# tables into arrays (a statement naming no table), then upserts the arrays (a statement naming
# only the kept table). Rows are still upserted in key order, so concurrent moves cannot
# deadlock; the schema still comes from TG_TABLE_SCHEMA (a spare schema is renamed).
DEAL_CHANGES = {
    "INSERT": "SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, "
    "1 AS n, amount FROM new_rows",
    "DELETE": "SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, "
    "-1 AS n, -amount AS amount FROM old_rows",
}
DEAL_CHANGES["UPDATE"] = DEAL_CHANGES["INSERT"] + " UNION ALL " + DEAL_CHANGES["DELETE"]

DEAL_TOTALS = f"""
CREATE OR REPLACE FUNCTION crm_core_deal_totals() RETURNS trigger AS $fn$
DECLARE
    pipelines bigint[];
    stages bigint[];
    responsibles bigint[];
    counts bigint[];
    amounts numeric[];
BEGIN
    EXECUTE format($q$
        SELECT array_agg(pipeline_id ORDER BY pipeline_id, stage_id, responsible_key),
               array_agg(stage_id ORDER BY pipeline_id, stage_id, responsible_key),
               array_agg(responsible_key ORDER BY pipeline_id, stage_id, responsible_key),
               array_agg(n ORDER BY pipeline_id, stage_id, responsible_key),
               array_agg(amount ORDER BY pipeline_id, stage_id, responsible_key)
        FROM (
            SELECT pipeline_id, stage_id, responsible_key, sum(n) AS n, sum(amount) AS amount
            FROM (%s) AS change GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(amount) <> 0
        ) AS grouped
    $q$, CASE TG_OP
        WHEN 'INSERT' THEN $c${DEAL_CHANGES["INSERT"]}$c$
        WHEN 'DELETE' THEN $c${DEAL_CHANGES["DELETE"]}$c$
        ELSE $c${DEAL_CHANGES["UPDATE"]}$c$
    END) INTO pipelines, stages, responsibles, counts, amounts;
    IF pipelines IS NOT NULL THEN
        EXECUTE format($q$
            INSERT INTO %I.crm_core_dealtotal AS t
                (pipeline_id, stage_id, responsible_key, deals, amount)
            SELECT pipeline_id, stage_id, responsible_key, deals, amount
            FROM unnest($1, $2, $3, $4, $5) WITH ORDINALITY AS change
                (pipeline_id, stage_id, responsible_key, deals, amount, position)
            ORDER BY position
            ON CONFLICT (pipeline_id, stage_id, responsible_key)
            DO UPDATE SET deals = t.deals + excluded.deals, amount = t.amount + excluded.amount
        $q$, TG_TABLE_SCHEMA) USING pipelines, stages, responsibles, counts, amounts;
    END IF;
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""

NAME_CHANGES = {
    "INSERT": "SELECT 'l' AS kind, last_name AS name, 1 AS n FROM new_rows "
    "UNION ALL SELECT 'f', first_name, 1 FROM new_rows",
    "DELETE": "SELECT 'l' AS kind, last_name AS name, -1 AS n FROM old_rows "
    "UNION ALL SELECT 'f', first_name, -1 FROM old_rows",
}
NAME_CHANGES["UPDATE"] = NAME_CHANGES["INSERT"] + " UNION ALL " + NAME_CHANGES["DELETE"]

CONTACT_NAMES = f"""
CREATE OR REPLACE FUNCTION crm_core_contact_names() RETURNS trigger AS $fn$
DECLARE
    kinds text[];
    names text[];
    counts bigint[];
BEGIN
    EXECUTE format($q$
        SELECT array_agg(kind ORDER BY kind, name), array_agg(name ORDER BY kind, name),
               array_agg(n ORDER BY kind, name)
        FROM (
            SELECT kind, name, sum(n) AS n FROM (%s) AS change
            WHERE name <> '' GROUP BY 1, 2 HAVING sum(n) <> 0
        ) AS grouped
    $q$, CASE TG_OP
        WHEN 'INSERT' THEN $c${NAME_CHANGES["INSERT"]}$c$
        WHEN 'DELETE' THEN $c${NAME_CHANGES["DELETE"]}$c$
        ELSE $c${NAME_CHANGES["UPDATE"]}$c$
    END) INTO kinds, names, counts;
    IF kinds IS NOT NULL THEN
        EXECUTE format($q$
            INSERT INTO %I.crm_core_contactname AS t (kind, name, contacts)
            SELECT kind, name, contacts FROM unnest($1, $2, $3) WITH ORDINALITY AS change
                (kind, name, contacts, position)
            ORDER BY position
            ON CONFLICT (kind, name) DO UPDATE SET contacts = t.contacts + excluded.contacts
        $q$, TG_TABLE_SCHEMA) USING kinds, names, counts;
    END IF;
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""

# The functions of 0010 and 0012, for going back.
OLD_DEAL_TOTALS = """
CREATE OR REPLACE FUNCTION crm_core_deal_totals() RETURNS trigger AS $fn$
BEGIN
    EXECUTE format($q$
        INSERT INTO %1$I.crm_core_dealtotal AS t
            (pipeline_id, stage_id, responsible_key, deals, amount)
        SELECT pipeline_id, stage_id, responsible_key, sum(n), sum(amount) FROM (%2$s) AS change
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(amount) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (pipeline_id, stage_id, responsible_key)
        DO UPDATE SET deals = t.deals + excluded.deals, amount = t.amount + excluded.amount
    $q$, TG_TABLE_SCHEMA, CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, 1 AS n, amount FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, -1 AS n, -amount AS amount FROM old_rows'
        ELSE 'SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, 1 AS n, amount FROM new_rows UNION ALL SELECT pipeline_id, stage_id, coalesce(responsible_id, 0), -1, -amount FROM old_rows'
    END);
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""
OLD_CONTACT_NAMES = f"""
CREATE OR REPLACE FUNCTION crm_core_contact_names() RETURNS trigger AS $fn$
BEGIN
    EXECUTE format($q$
        INSERT INTO %1$I.crm_core_contactname AS t (kind, name, contacts)
        SELECT kind, name, sum(n) FROM (%2$s) AS change
        WHERE name <> '' GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
        ON CONFLICT (kind, name) DO UPDATE SET contacts = t.contacts + excluded.contacts
    $q$, TG_TABLE_SCHEMA, CASE TG_OP
        WHEN 'INSERT' THEN $c${NAME_CHANGES["INSERT"]}$c$
        WHEN 'DELETE' THEN $c${NAME_CHANGES["DELETE"]}$c$
        ELSE $c${NAME_CHANGES["UPDATE"]}$c$
    END);
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""


class Migration(migrations.Migration):
    dependencies = [("crm_core", "0021_lists")]

    operations = [
        migrations.RunSQL([DEAL_TOTALS, CONTACT_NAMES], [OLD_DEAL_TOTALS, OLD_CONTACT_NAMES])
    ]
