from django.db import migrations

DOMAINS = [
    (1, "Coding Knowledge and Skills",
     "Assigning ICD-10-CM, ICD-10-PCS, CPT and HCPCS codes; sequencing; principal diagnosis "
     "selection; MS-DRG and APC concepts. The largest part of the exam."),
    (2, "Coding Documentation",
     "Reviewing the health record: missing, unclear or conflicting documentation, what "
     "documentation supports which code, and who may document what."),
    (3, "Provider Queries",
     "When a query is needed, how to write a compliant, non-leading query, and how queries "
     "are escalated and retained."),
    (4, "Regulatory Compliance",
     "Official guidelines and code set standards, UHDDS, fraud and abuse, compliance programs "
     "and ethical coding."),
    (5, "Information Technologies",
     "Electronic health records, encoders and computer-assisted coding, data integrity, audit "
     "trails and health data standards."),
]  # fmt: skip


def create_domains(apps, schema_editor):
    Domain = apps.get_model("questionbank", "Domain")
    for number, name, description in DOMAINS:
        Domain.objects.update_or_create(
            number=number, defaults={"name": name, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("questionbank", "0001_initial")]
    operations = [migrations.RunPython(create_domains, migrations.RunPython.noop)]
