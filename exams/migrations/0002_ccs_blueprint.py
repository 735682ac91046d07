from django.db import migrations

# The official per-domain split is not published; these editable counts keep domain 1 the
# largest (docs/architecture.md). 97 scored + 10 pretest = 107 items, 4 hours, warnings at 30 and 5.
CCS_DOMAINS = {1: 55, 2: 14, 3: 10, 4: 10, 5: 8}


def create_ccs_blueprint(apps, schema_editor):
    Blueprint = apps.get_model("exams", "Blueprint")
    BlueprintDomain = apps.get_model("exams", "BlueprintDomain")
    Domain = apps.get_model("questionbank", "Domain")
    blueprint, created = Blueprint.objects.get_or_create(
        name="CCS",
        defaults={
            "description": "The default CCS mock exam: 97 scored items and 10 pretest items.",
            "total_items": 107,
            "pretest_count": 10,
            "time_limit_minutes": 240,
            "warning_minutes": [30, 5],
            "shuffle_items": True,
            "shuffle_options": False,
        },
    )
    if not created:
        return
    for number, count in CCS_DOMAINS.items():
        BlueprintDomain.objects.create(
            blueprint=blueprint, domain=Domain.objects.get(number=number), scored_items=count
        )


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0001_initial"),
        ("questionbank", "0002_ccs_domains"),
    ]
    operations = [migrations.RunPython(create_ccs_blueprint, migrations.RunPython.noop)]
