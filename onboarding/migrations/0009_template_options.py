from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0008_batch_unmatched"),
    ]

    operations = [
        migrations.AddField(
            model_name="importtemplate",
            name="options",
            field=models.JSONField(blank=True, default=dict, verbose_name="choices"),
        ),
    ]
