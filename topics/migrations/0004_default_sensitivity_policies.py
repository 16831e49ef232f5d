from django.db import migrations

# level: (distinct approvers, longest grant in days, longest credential life in days)
DEFAULTS = {"low": (1, 90, 180), "standard": (1, 30, 90), "high": (2, 14, 30), "restricted": (2, 7, 30)}


def create(apps, schema_editor):
    SensitivityPolicy = apps.get_model("topics", "SensitivityPolicy")
    for level, (approvals, grant_days, credential_days) in DEFAULTS.items():
        SensitivityPolicy.objects.get_or_create(level=level, defaults={
            "approvals_required": approvals, "max_grant_days": grant_days,
            "max_credential_age_days": credential_days})


class Migration(migrations.Migration):
    dependencies = [("topics", "0003_access_and_provisioning")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
