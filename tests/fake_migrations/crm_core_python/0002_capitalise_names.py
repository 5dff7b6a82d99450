from django.db import migrations


def capitalise(apps, schema_editor):
    Client = apps.get_model("crm_core", "Client")
    for client in Client.objects.all():
        client.name = client.name.upper()
        client.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [("crm_core", "0001_initial")]

    operations = [migrations.RunPython(capitalise, migrations.RunPython.noop)]
