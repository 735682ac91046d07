"""The one-per-person accommodation is gone: cohorts.0004 copied each into the programs
of its candidate (cohorts.Accommodation, one per program)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0003_accommodations_and_audit"),
        ("cohorts", "0004_programs_from_labels"),
    ]

    operations = [migrations.DeleteModel(name="CandidateProfile")]
