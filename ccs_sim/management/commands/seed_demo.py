from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ccs_sim.demo import demo_programs
from common.roles import Role
from exams.models import ExamForm
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


# Two full forms of the default blueprint with no item in common, so a candidate can sit
# two different mock exams out of the box.
DEMO_FORMS = [("CCS mock exam A", 1), ("CCS mock exam B", 2)]


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
            call_command("load_sample_bank", stdout=self.stdout)
            self._demo_forms()
            call_command("generate_demo_data", "--demo", stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for username, full_name, role, _, program in DEMO_ACCOUNTS:
            where = f" ({programs[program].name})" if program else ""
            self.stdout.write(f"  {username:<22} {role.value:<16} {full_name}{where}")

    def _demo_forms(self) -> None:
        done = []
        for name, seed in DEMO_FORMS:
            if ExamForm.objects.filter(name=name).exists():
                self.stdout.write(f"{name}: already there")
            else:
                exclude = [arg for other in done for arg in ("--exclude-form", other)]
                call_command(
                    "assemble_form",
                    "--name", name, "--seed", str(seed), "--publish", "--available-to-all",
                    *exclude,
                    stdout=self.stdout,
                )  # fmt: skip
            done.append(name)
