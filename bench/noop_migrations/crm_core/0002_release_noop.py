from django.db import migrations


class Migration(migrations.Migration):
    """Changes only Django's model state (no SQL), like a verbose_name or ordering change."""

    dependencies = [("crm_core", "0001_initial")]

    operations = [
        migrations.AlterModelOptions(
            name="client",
            options={"ordering": ["-created_at", "-id"], "verbose_name": "client (release)"},
        )
    ]
