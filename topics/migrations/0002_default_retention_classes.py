from django.db import migrations

DAY_MS = 86_400_000
DEFAULTS = [
    ("short", "One day: noisy, low-value logs.", DAY_MS),
    ("standard", "One week: the default for new namespaces.", 7 * DAY_MS),
    ("long", "Thirty days: audit-relevant workloads.", 30 * DAY_MS),
]


def create(apps, schema_editor):
    RetentionClass = apps.get_model("topics", "RetentionClass")
    for name, description, retention_ms in DEFAULTS:
        RetentionClass.objects.get_or_create(name=name, defaults={"description": description,
                                                                  "retention_ms": retention_ms})


class Migration(migrations.Migration):
    dependencies = [("topics", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
