from django.db import migrations

# DealReach's trigger functions (0001) reshaped to run on a Citus worker as well, like crm_core's
# DealTotal and ContactName (crm_core 0017; docs/decisions.md): a worker cannot plan one
# statement that reads a transition table and a distributed table together ("unrecognized RTE
# kind: 7"). Each function first collects the deals a statement touched into an array (a
# statement over the transition tables alone), then refreshes them (a statement over the
# company's tables alone). Still one set-based statement per import, however many deals.
#
# REFRESH recomputes the rows of the deals listed by %2$s (a query returning deal ids from the
# array $1) from their current stage and their whole stage history.
REFRESH = """
INSERT INTO %1$I.reports_dealreach AS t (deal_id, furthest, won, lost)
SELECT r.deal_id,
       max(s.position) FILTER (WHERE s.outcome = 'open'),
       coalesce(bool_or(s.outcome = 'won'), false),
       coalesce(bool_or(s.outcome = 'lost'), false)
FROM (
    SELECT d.id AS deal_id, d.stage_id FROM %1$I.crm_core_deal d WHERE d.id IN (%2$s)
    UNION ALL
    SELECT sc.deal_id, sc.to_stage_id FROM %1$I.crm_core_stagechange sc
    WHERE sc.deal_id IN (%2$s)
) AS r JOIN %1$I.crm_core_stage s ON s.id = r.stage_id
GROUP BY r.deal_id
ORDER BY r.deal_id
ON CONFLICT (deal_id) DO UPDATE
SET furthest = excluded.furthest, won = excluded.won, lost = excluded.lost
"""
THE_ARRAY = "SELECT unnest($1::bigint[])"

# Per function: what the statement touched (over the transition tables; ids into the array),
# and which deals that means (over the company's tables, from the array).
FUNCTIONS = {
    "reports_reach_deal_insert": ("SELECT id FROM new_rows", THE_ARRAY),
    # Only deals whose stage changed (a title edit costs one join of two one-row tables).
    "reports_reach_deal_update": (
        "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE n.stage_id IS DISTINCT FROM o.stage_id",
        THE_ARRAY,
    ),
    "reports_reach_history": ("SELECT deal_id FROM new_rows", THE_ARRAY),
    # A stage moved or re-typed (rare, an admin's change): every deal of its pipeline.
    "reports_reach_stages": (
        "SELECT n.pipeline_id FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE n.position IS DISTINCT FROM o.position OR n.outcome IS DISTINCT FROM o.outcome",
        "SELECT d.id FROM %1$I.crm_core_deal d WHERE d.pipeline_id = ANY($1::bigint[])",
    ),
}


def _function(name: str, touched: str, deals: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $fn$
DECLARE
    touched bigint[];
BEGIN
    SELECT array_agg(DISTINCT id) INTO touched FROM ({touched}) AS change (id);
    IF touched IS NOT NULL THEN
        EXECUTE format($q${REFRESH}$q$, TG_TABLE_SCHEMA,
            format($t${deals}$t$, TG_TABLE_SCHEMA)) USING touched;
    END IF;
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""


DELETE = """
CREATE OR REPLACE FUNCTION reports_reach_deal_delete() RETURNS trigger AS $fn$
DECLARE
    touched bigint[];
BEGIN
    SELECT array_agg(id) INTO touched FROM old_rows;
    IF touched IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.reports_dealreach WHERE deal_id = ANY($1)',
            TG_TABLE_SCHEMA) USING touched;
    END IF;
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""

# The functions of 0001, for going back.
OLD_TOUCHED = {
    "reports_reach_deal_insert": "SELECT id FROM new_rows",
    "reports_reach_deal_update": FUNCTIONS["reports_reach_deal_update"][0],
    "reports_reach_history": "SELECT deal_id FROM new_rows",
    "reports_reach_stages": "SELECT d.id FROM %1$I.crm_core_deal d WHERE d.pipeline_id IN "
    "(SELECT n.pipeline_id FROM new_rows n JOIN old_rows o ON o.id = n.id "
    "WHERE n.position IS DISTINCT FROM o.position OR n.outcome IS DISTINCT FROM o.outcome)",
}


def _old_function(name: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $fn$
BEGIN
    EXECUTE format($q${REFRESH}$q$, TG_TABLE_SCHEMA, format($t${OLD_TOUCHED[name]}$t$,
        TG_TABLE_SCHEMA));
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""


OLD_DELETE = """
CREATE OR REPLACE FUNCTION reports_reach_deal_delete() RETURNS trigger AS $fn$
BEGIN
    EXECUTE format('DELETE FROM %1$I.reports_dealreach WHERE deal_id IN (SELECT id FROM old_rows)',
        TG_TABLE_SCHEMA);
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_deal_reach")]

    operations = [
        migrations.RunSQL(
            [*(_function(name, *parts) for name, parts in FUNCTIONS.items()), DELETE],
            [*(_old_function(name) for name in FUNCTIONS), OLD_DELETE],
        )
    ]
