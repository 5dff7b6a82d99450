import django.contrib.postgres.fields
from django.db import migrations, models

# A token limited to a list of resources may list "tickets" (customer service's resource).
# Only the choices change: no SQL runs.


class Migration(migrations.Migration):
    dependencies = [("api", "0004_idempotent_request")]

    operations = [
        migrations.AlterField(
            model_name="apitoken",
            name="resources",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("clients", "Clients"),
                        ("contacts", "Contact persons"),
                        ("deals", "Deals"),
                        ("tasks", "Tasks"),
                        ("products", "Products"),
                        ("requests", "Requests"),
                        ("webhooks", "Webhook subscriptions"),
                        ("tickets", "Tickets"),
                    ],
                    max_length=16,
                ),
                blank=True,
                default=list,
                size=None,
                verbose_name="resources",
            ),
        ),
    ]
