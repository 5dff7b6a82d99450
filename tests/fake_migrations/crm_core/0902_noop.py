from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm_core", "0901_client_phone")]

    operations = [
        migrations.AlterModelOptions(
            name="client", options={"ordering": ["-created_at", "-id"], "verbose_name": "client (release)"}
        ),
    ]
