import crm_core.migrations
from django.db import migrations

from tests.fake_migrations import latest_real


def capitalise(apps, schema_editor):
    Client = apps.get_model("crm_core", "Client")
    for client in Client.objects.all():
        client.name = client.name.upper()
        client.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [("crm_core", latest_real(crm_core.migrations))]

    operations = [migrations.RunPython(capitalise, migrations.RunPython.noop)]
