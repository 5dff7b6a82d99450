from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The board's kept totals (DealTotal, 0010/0022) get the deal's currency in their key, so a
# column of roubles and euros is kept as two sums, never one. The trigger function keeps the
# Citus-safe shape of 0022 (fold the transition tables into arrays, then upsert the arrays),
# with the currency as one more array. The rows are recounted from the deals: before this,
# a euro deal's amount was added to the roubles.
DEAL_CHANGES = {
    "INSERT": "SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, "
    "currency, 1 AS n, amount FROM new_rows",
    "DELETE": "SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, "
    "currency, -1 AS n, -amount AS amount FROM old_rows",
}
DEAL_CHANGES["UPDATE"] = DEAL_CHANGES["INSERT"] + " UNION ALL " + DEAL_CHANGES["DELETE"]
KEY = "pipeline_id, stage_id, responsible_key, currency"

DEAL_TOTALS = f"""
CREATE OR REPLACE FUNCTION crm_core_deal_totals() RETURNS trigger AS $fn$
DECLARE
    pipelines bigint[];
    stages bigint[];
    responsibles bigint[];
    currencies text[];
    counts bigint[];
    amounts numeric[];
BEGIN
    EXECUTE format($q$
        SELECT array_agg(pipeline_id ORDER BY {KEY}),
               array_agg(stage_id ORDER BY {KEY}),
               array_agg(responsible_key ORDER BY {KEY}),
               array_agg(currency ORDER BY {KEY}),
               array_agg(n ORDER BY {KEY}),
               array_agg(amount ORDER BY {KEY})
        FROM (
            SELECT pipeline_id, stage_id, responsible_key, currency, sum(n) AS n,
                   sum(amount) AS amount
            FROM (%s) AS change GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(amount) <> 0
        ) AS grouped
    $q$, CASE TG_OP
        WHEN 'INSERT' THEN $c${DEAL_CHANGES["INSERT"]}$c$
        WHEN 'DELETE' THEN $c${DEAL_CHANGES["DELETE"]}$c$
        ELSE $c${DEAL_CHANGES["UPDATE"]}$c$
    END) INTO pipelines, stages, responsibles, currencies, counts, amounts;
    IF pipelines IS NOT NULL THEN
        EXECUTE format($q$
            INSERT INTO %I.crm_core_dealtotal AS t
                (pipeline_id, stage_id, responsible_key, currency, deals, amount)
            SELECT pipeline_id, stage_id, responsible_key, currency, deals, amount
            FROM unnest($1, $2, $3, $4, $5, $6) WITH ORDINALITY AS change
                (pipeline_id, stage_id, responsible_key, currency, deals, amount, position)
            ORDER BY position
            ON CONFLICT ({KEY})
            DO UPDATE SET deals = t.deals + excluded.deals, amount = t.amount + excluded.amount
        $q$, TG_TABLE_SCHEMA) USING pipelines, stages, responsibles, currencies, counts, amounts;
    END IF;
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql
"""

# One statement per item: a Citus cluster runs each as its own command.
RECOUNT = [
    "DELETE FROM crm_core_dealtotal",
    f"""
INSERT INTO crm_core_dealtotal ({KEY}, deals, amount)
SELECT pipeline_id, stage_id, coalesce(responsible_id, 0), currency, count(*), sum(amount)
FROM crm_core_deal GROUP BY 1, 2, 3, 4
""",
]

# Going back: 0022's function, and the rows summed over currencies again.
OLD_CHANGES = {
    "INSERT": "SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, "
    "1 AS n, amount FROM new_rows",
    "DELETE": "SELECT pipeline_id, stage_id, coalesce(responsible_id, 0) AS responsible_key, "
    "-1 AS n, -amount AS amount FROM old_rows",
}
OLD_CHANGES["UPDATE"] = OLD_CHANGES["INSERT"] + " UNION ALL " + OLD_CHANGES["DELETE"]
OLD_DEAL_TOTALS = f"""
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
        WHEN 'INSERT' THEN $c${OLD_CHANGES["INSERT"]}$c$
        WHEN 'DELETE' THEN $c${OLD_CHANGES["DELETE"]}$c$
        ELSE $c${OLD_CHANGES["UPDATE"]}$c$
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
OLD_RECOUNT = [
    "DELETE FROM crm_core_dealtotal",
    """
INSERT INTO crm_core_dealtotal (pipeline_id, stage_id, responsible_key, currency, deals, amount)
SELECT pipeline_id, stage_id, coalesce(responsible_id, 0), 'RUB', count(*), sum(amount)
FROM crm_core_deal GROUP BY 1, 2, 3
""",
]


class Migration(migrations.Migration):
    dependencies = [
        ("crm_core", "0023_activity_call_details"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExchangeRate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="date")),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                ("base", models.CharField(max_length=3, verbose_name="base currency")),
                (
                    "rate",
                    models.DecimalField(
                        decimal_places=8,
                        max_digits=18,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="rate",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("manual", "Entered by hand"),
                            ("loaded", "Loaded automatically"),
                        ],
                        default="manual",
                        max_length=6,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "exchange rate",
                "verbose_name_plural": "exchange rates",
                "ordering": ["-day", "currency"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("base", "currency", "day"), name="exchange_rate_one_per_day"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("rate__gt", 0)), name="exchange_rate_positive"
                    ),
                ],
            },
        ),
        migrations.RemoveConstraint(model_name="dealtotal", name="deal_total_key"),
        migrations.AddField(
            model_name="dealtotal",
            name="currency",
            field=models.CharField(default="RUB", max_length=3),
        ),
        migrations.AddConstraint(
            model_name="dealtotal",
            constraint=models.UniqueConstraint(
                fields=("pipeline", "stage", "responsible_key", "currency"),
                name="deal_total_key",
            ),
        ),
        migrations.RunSQL([DEAL_TOTALS, *RECOUNT], [OLD_DEAL_TOTALS, *OLD_RECOUNT]),
    ]
