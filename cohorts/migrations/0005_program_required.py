import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0004_programs_from_labels"),
    ]

    operations = [
        migrations.RemoveField(model_name="cohort", name="program_label"),
        migrations.AlterField(
            model_name="cohort",
            name="program",
            field=models.ForeignKey(
                help_text="The college's course or the hospital's coding department it belongs to.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cohorts",
                to="tenancy.program",
            ),
        ),
    ]
