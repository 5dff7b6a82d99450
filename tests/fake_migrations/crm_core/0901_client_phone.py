import crm_core.migrations
from django.db import migrations, models

from tests.fake_migrations import latest_real


class Migration(migrations.Migration):
    dependencies = [("crm_core", latest_real(crm_core.migrations))]

    operations = [
        migrations.AddField(
            model_name="client",
            name="phone",
            field=models.CharField(max_length=32, blank=True, default=""),
        ),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(fields=["phone"], name="client_phone_idx"),
        ),
    ]
