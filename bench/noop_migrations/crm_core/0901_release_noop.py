import crm_core.migrations
from django.db import migrations

from tests.fake_migrations import latest_real


class Migration(migrations.Migration):
    """Changes only Django's model state (no SQL), like a verbose_name or ordering change."""

    dependencies = [("crm_core", latest_real(crm_core.migrations))]

    operations = [
        migrations.AlterModelOptions(
            name="client",
            options={"ordering": ["-created_at", "-id"], "verbose_name": "client (release)"},
        )
    ]
