from django.db import migrations

# The trigram GiST indexes keep a 12-byte signature per entry by default. Names and titles in a
# CRM look alike ("ООО Вектор-Строй 1041", "Заказ 777"), so short signatures collide and the
# nearest-ten walk opens ~1,200 index pages for a deal title at 200,000 deals (57 ms). 128-byte
# signatures tell them apart: ~250 pages, 8 ms, for an index a few times larger. Only where
# pg_trgm is installed (see 0004).
INDEXES = [
    ("client_name_gist", "crm_core_client", "name"),
    ("deal_title_gist", "crm_core_deal", "title"),
    ("contactname_name_gist", "crm_core_contactname", "name"),
]


def _rebuild(opclass: str) -> str:
    return (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
        + " ".join(
            f"DROP INDEX IF EXISTS {name}; "
            f"CREATE INDEX {name} ON {table} USING gist ({column} {opclass});"
            for name, table, column in INDEXES
        )
        + " END IF; END $$;"
    )


class Migration(migrations.Migration):
    dependencies = [("crm_core", "0013_client_list_sorts")]

    operations = [
        migrations.RunSQL(_rebuild("gist_trgm_ops(siglen=128)"), _rebuild("gist_trgm_ops"))
    ]
