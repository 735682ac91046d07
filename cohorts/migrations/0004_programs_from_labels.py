"""Today's cohorts move into Program rows, without losing anything.

- Each distinct free-text `program` label becomes a Program (blank labels share one,
  "Unnamed program"); each cohort points at its label's program.
- A cohort's managers and instructors become managers and instructors of its program.
- A candidate's one accommodation (exams.CandidateProfile) becomes an accommodation in
  every program they are a member of; one of a person in no cohort goes to a program of
  its own ("Accommodations without a program"), which no staff reads, so it still applies
  to their practice and forms open to everyone.
- Exam attempts record the program whose assignment they were sat under: the program of
  a cohort the candidate had joined when they started, which assigns the form (lowest
  cohort id when several do); none otherwise.

Backwards: labels come back from the programs' names, and each person's one profile
from their largest accommodation.
"""

from django.db import migrations
from django.db.models import Max
from django.utils.text import slugify

UNNAMED = "Unnamed program"
WITHOUT_PROGRAM = "Accommodations without a program"


def _program_maker(Program):
    taken = set(Program.objects.values_list("slug", flat=True))
    made = {}

    def program(name: str):
        if name not in made:
            base = slugify(name)[:44] or "program"
            slug, n = base, 1
            while slug in taken:
                n += 1
                slug = f"{base}-{n}"
            taken.add(slug)
            made[name] = Program.objects.create(slug=slug, name=name[:120])
        return made[name]

    return program


def forward(apps, schema_editor):
    Cohort = apps.get_model("cohorts", "Cohort")
    Membership = apps.get_model("cohorts", "Membership")
    Assignment = apps.get_model("cohorts", "Assignment")
    Accommodation = apps.get_model("cohorts", "Accommodation")
    Program = apps.get_model("tenancy", "Program")
    ProgramStaff = apps.get_model("tenancy", "ProgramStaff")
    CandidateProfile = apps.get_model("exams", "CandidateProfile")
    Attempt = apps.get_model("exams", "Attempt")
    program = _program_maker(Program)

    for cohort in Cohort.objects.order_by("pk"):
        cohort.program = program((cohort.program_label or "").strip() or UNNAMED)
        cohort.save(update_fields=["program"])
        for user_id in cohort.managers.values_list("pk", flat=True):
            ProgramStaff.objects.get_or_create(
                program=cohort.program, user_id=user_id, role="manager"
            )
        for user_id in cohort.instructors.values_list("pk", flat=True):
            ProgramStaff.objects.get_or_create(
                program=cohort.program, user_id=user_id, role="instructor"
            )

    for profile in CandidateProfile.objects.order_by("pk"):
        programs = set(
            Membership.objects.filter(user_id=profile.user_id).values_list(
                "cohort__program_id", flat=True
            )
        ) or {program(WITHOUT_PROGRAM).pk}
        for program_id in sorted(programs):
            Accommodation.objects.get_or_create(
                program_id=program_id,
                user_id=profile.user_id,
                defaults={"time_multiplier": profile.time_multiplier, "note": profile.note},
            )

    # Which cohorts assign which forms, and when each member joined: read once.
    assigned: dict[int, set[int]] = {}
    for cohort_id, form_id in Assignment.objects.values_list("cohort_id", "form_id"):
        assigned.setdefault(form_id, set()).add(cohort_id)
    joined: dict[int, list] = {}
    for user_id, cohort_id, at, program_id in Membership.objects.values_list(
        "user_id", "cohort_id", "joined_at", "cohort__program_id"
    ).order_by("cohort_id"):
        joined.setdefault(user_id, []).append((cohort_id, at, program_id))
    for attempt in Attempt.objects.filter(mode="exam", program__isnull=True).only(
        "pk", "candidate_id", "form_id", "started_at"
    ):
        cohorts = assigned.get(attempt.form_id, set())
        for cohort_id, at, program_id in joined.get(attempt.candidate_id, []):
            if cohort_id in cohorts and at <= attempt.started_at:
                Attempt.objects.filter(pk=attempt.pk).update(program_id=program_id)
                break


def backward(apps, schema_editor):
    Cohort = apps.get_model("cohorts", "Cohort")
    Accommodation = apps.get_model("cohorts", "Accommodation")
    CandidateProfile = apps.get_model("exams", "CandidateProfile")
    for cohort in Cohort.objects.select_related("program"):
        name = cohort.program.name if cohort.program_id else ""
        cohort.program_label = "" if name == UNNAMED else name
        cohort.save(update_fields=["program_label"])
    for row in Accommodation.objects.values("user_id").annotate(m=Max("time_multiplier")):
        note = (
            Accommodation.objects.filter(user_id=row["user_id"], time_multiplier=row["m"])
            .values_list("note", flat=True)
            .first()
        )
        CandidateProfile.objects.update_or_create(
            user_id=row["user_id"], defaults={"time_multiplier": row["m"], "note": note or ""}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0003_accommodations_and_audit"),
        ("exams", "0003_accommodations_and_audit"),
        ("tenancy", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
