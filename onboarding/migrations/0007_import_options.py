from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0006_template_date_order")]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="options",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="ignored_columns",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
