from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm_core", "0001_initial")]

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
