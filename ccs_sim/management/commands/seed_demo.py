import logging
import time
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ccs_sim.demo import DEMO_COHORTS, demo_programs, generate_demo
from cohorts.models import Cohort
from common.roles import Role
from exams import services
from exams.models import AttemptMode, Blueprint, ExamForm
from itemanalysis import review, splits
from itemanalysis.models import DifRun
from itemanalysis.services import analysis_nightly
from questionbank.models import ItemVersion
from scoring.models import AttemptResult
from scoring.services import attempts_score_pending, base_form_set
from tenancy.models import ProgramStaff, StaffRole

DEMO_PASSWORD = "ccs-demo-2026"
DEMO_ACCOUNTS = [
    # username, full name, role, staff (admin access), program (slug) of a staff role
    ("demo-candidate", "Dana Candidate", Role.CANDIDATE, False, None),
    ("demo-candidate2", "Casey Candidate", Role.CANDIDATE, False, None),
    ("demo-instructor", "Ivy Instructor", Role.INSTRUCTOR, True, "demo"),
    ("demo-reviewer", "Rafael Reviewer", Role.INSTRUCTOR, True, "demo"),
    ("demo-manager", "Morgan Manager", Role.MANAGER, False, "demo"),
    # Another program's staff: each side sees only its own program.
    ("demo-other-instructor", "Otto Other", Role.INSTRUCTOR, True, "riverside"),
    ("demo-other-manager", "Olive Other", Role.MANAGER, False, "riverside"),
]
STAFF_ROLE = {Role.INSTRUCTOR: StaffRole.INSTRUCTOR, Role.MANAGER: StaffRole.MANAGER}


# Three full forms of the default blueprint sharing an anchor block of operational items
# spread by domain (so that each links to the others) and otherwise as different as the
# bank allows.
DEMO_FORMS = ["CCS mock exam A", "CCS mock exam B", "CCS mock exam C"]
DEMO_SEED = 1
ANCHOR_ITEMS = 24


# Loggers that speak per attempt or per task, and the level they keep while seeding.
QUIET = {
    "ccs.lifecycle": logging.WARNING,
    "celery.app.trace": logging.WARNING,
    "kombu": logging.ERROR,
}


@contextmanager
def _quiet():
    logs = {name: logging.getLogger(name) for name in QUIET}
    levels = {name: log.level for name, log in logs.items()}
    for name, log in logs.items():
        log.setLevel(QUIET[name])
    try:
        yield
    finally:
        for name, log in logs.items():
            log.setLevel(levels[name])


class Command(BaseCommand):
    help = "Create demo accounts for each role and load the sample bank. Development only."

    def add_arguments(self, parser):
        parser.add_argument("--no-bank", action="store_true", help="skip loading the sample bank")

    def handle(self, *args, no_bank=False, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Refusing to create demo accounts with DEBUG off: they have a published password."
            )
        user_model = get_user_model()
        with transaction.atomic():
            programs = {p.slug: p for p in demo_programs()}
            for username, full_name, role, staff, program in DEMO_ACCOUNTS:
                first, last = full_name.split(" ", 1)
                user, _ = user_model.objects.get_or_create(username=username)
                user.first_name, user.last_name = first, last
                user.email = f"{username}@example.org"
                user.is_staff = staff
                user.is_active = True
                user.set_password(DEMO_PASSWORD)
                user.save()
                user.groups.add(Group.objects.get(name=role.value))
                if program:
                    ProgramStaff.objects.get_or_create(
                        program=programs[program], user=user, role=STAFF_ROLE[role]
                    )
        if not no_bank:
            started = time.perf_counter()
            # Lifecycle events (one per attempt scored, per run) belong in a server's log;
            # here each stage says what it did in one line.
            with _quiet():
                call_command("load_sample_bank", stdout=self.stdout)
                self._demo_forms()
                try:
                    generate_demo(stdout=self.stdout, score=False)
                except LookupError as exc:
                    raise CommandError(str(exc)) from exc
                self._calibrate()
                self._score()
                self._dif()
            self.stdout.write(f"demo data ready in {time.perf_counter() - started:.0f}s")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for username, full_name, role, _, program in DEMO_ACCOUNTS:
            where = f" ({programs[program].name})" if program else ""
            self.stdout.write(f"  {username:<22} {role.value:<16} {full_name}{where}")

    def _calibrate(self) -> None:
        """Form A is the base form; the item analysis then calibrates the demo attempts,
        links B and C to A's scale through their common items and equates their tables, so
        the score reports show a standard-error band and the form reports their curves."""
        first = ExamForm.objects.filter(name=DEMO_FORMS[0]).first()
        if first is None or first.blueprint is None:
            return
        base_form_set(blueprint=first.blueprint, form=first)
        for run in analysis_nightly():
            self.stdout.write(f"item analysis ({run.kind}): {run.status}: {run.message}")

    def _score(self) -> None:
        """Score the generated attempts now that their items are calibrated, as the
        scoring sweep would: each result carries its ability estimate, band and
        probability of passing."""
        scored = 0
        while done := attempts_score_pending(limit=1000):
            scored += done
        results = AttemptResult.objects.filter(attempt__mode=AttemptMode.EXAM)
        passed = results.filter(passed=True).count()
        total = results.count()
        self.stdout.write(
            f"scored {scored} demo attempts; {passed} of {total} exam results pass"
            + (f" ({100 * passed / total:.0f}%)" if total else "")
        )

    def _dif(self) -> None:
        """demo-instructor records a DIF run comparing the two demo cohorts on form A, as
        an instructor would from the DIF page: its C items (the planted one among them)
        are flagged for review in the bank."""
        instructor = get_user_model().objects.filter(username="demo-instructor").first()
        form = ExamForm.objects.filter(name=DEMO_FORMS[0]).first()
        cohorts = list(Cohort.objects.filter(name__in=DEMO_COHORTS))
        if instructor is None or form is None or len(cohorts) != 2:
            return
        if DifRun.objects.filter(form=form).exists():
            return  # a database seeded before keeps its runs and reviews
        by_name = {c.name: c for c in cohorts}
        reference, focal = (str(by_name[name].pk) for name in DEMO_COHORTS)
        split = splits.provider("cohorts").split(user=instructor, reference=reference, focal=focal)
        try:
            run = review.dif_run_record(
                form=form,
                split_key="cohorts",
                split=split,
                reference_key=reference,
                focal_key=focal,
                by=instructor,
            )
        except ValidationError as exc:
            self.stdout.write(f"DIF run not recorded: {' '.join(exc.messages)}")
            return
        keys = list(
            ItemVersion.objects.filter(pk__in=run.summary["flagged"])
            .order_by("item__key")
            .values_list("item__key", flat=True)
        )
        self.stdout.write(
            f"DIF run #{run.pk} on {form.name} ({run.reference} vs {run.focal}): "
            f"{run.summary['C']} item(s) in category C flagged for review"
            + (f" ({', '.join(keys)})" if keys else "")
        )

    def _demo_forms(self) -> None:
        existing = set(ExamForm.objects.filter(name__in=DEMO_FORMS).values_list("name", flat=True))
        if existing:
            # Forms are never rebuilt under a candidate's feet: a database that has them keeps
            # them (an older demo database may hold two unlinked forms: reset it to get three).
            for name in DEMO_FORMS:
                self.stdout.write(f"{name}: {'already there' if name in existing else 'missing'}")
            return
        try:
            with transaction.atomic():
                forms = services.forms_assemble_linked(
                    blueprint=Blueprint.objects.get(name="CCS"),
                    names=DEMO_FORMS,
                    seed=DEMO_SEED,
                    anchor_count=ANCHOR_ITEMS,
                )
                for form in forms:
                    form = services.form_publish(form=form, by=None)
                    services.form_set_availability(form=form, available_to_all=True)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for form in forms:
            pretest = form.items.filter(is_pretest=True).count()
            self.stdout.write(
                self.style.SUCCESS(
                    f"{form.name}: {form.items.count()} items ({pretest} pretest), published, "
                    f"available to all candidates; {form.assembly_report}"
                )
            )
