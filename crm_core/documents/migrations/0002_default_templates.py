"""Companies that existed before documents get the same starting templates as new ones."""

from django.db import migrations


def install(apps, schema_editor):
    from crm_core.documents.services.defaults import DEFAULTS

    template_model = apps.get_model("documents", "DocumentTemplate")
    have = set(template_model.objects.values_list("kind", flat=True))
    template_model.objects.bulk_create(
        template_model(name=name, kind=str(kind), body=body, vat_rate="22")
        for name, kind, body in DEFAULTS
        if kind not in have
    )


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
