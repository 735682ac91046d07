"""Cohorts belong to a Program (tenancy) instead of carrying a free-text label: the label
is kept as `program_label` until 0004 has made a Program of each."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="cohort", old_name="program", new_name="program_label"),
        migrations.AddField(
            model_name="cohort",
            name="program",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cohorts",
                to="tenancy.program",
            ),
        ),
    ]
