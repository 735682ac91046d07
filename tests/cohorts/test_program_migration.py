"""Today's cohorts move into Program rows without losing anything (cohorts.0004).

The database is taken back to the layout before programs (free-text labels, one
accommodation per person), filled there, and migrated forward again as a deployment does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("cohorts", "0003_accommodations_and_audit"), ("exams", "0003_accommodations_and_audit")]
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_labels_become_programs_staff_become_program_staff_and_profiles_accommodations():
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("auth", "User")
    Cohort = old.get_model("cohorts", "Cohort")
    Membership = old.get_model("cohorts", "Membership")
    Assignment = old.get_model("cohorts", "Assignment")
    Profile = old.get_model("exams", "CandidateProfile")
    ExamForm = old.get_model("exams", "ExamForm")
    Attempt = old.get_model("exams", "Attempt")

    mgr, instr, alice, bob, loner = (
        User.objects.create(username=n) for n in ("mgr", "instr", "alice", "bob", "loner")
    )
    him_1 = Cohort.objects.create(name="Spring", program_label="HIM 210", enrolment_code="AAAA2222")
    him_2 = Cohort.objects.create(name="Fall", program_label="HIM 210", enrolment_code="BBBB3333")
    bare = Cohort.objects.create(name="No label", program_label="", enrolment_code="CCCC4444")
    him_1.managers.add(mgr)
    him_1.instructors.add(instr)
    Membership.objects.create(cohort=him_1, user=alice, joined_at=T0)
    Membership.objects.create(cohort=bare, user=alice, joined_at=T0)
    Membership.objects.create(cohort=him_2, user=bob, joined_at=T0)
    Profile.objects.create(user=alice, time_multiplier=Decimal("1.50"), note="ADA letter")
    Profile.objects.create(user=loner, time_multiplier=Decimal("2.00"), note="")
    form = ExamForm.objects.create(name="Old form", kind="exam", status="published")
    Assignment.objects.create(cohort=him_1, form=form, opens_at=T0)
    sat = Attempt.objects.create(
        candidate=alice, form=form, started_at=T0 + dt.timedelta(days=1), seed=1, layout=[]
    )
    not_assigned = Attempt.objects.create(
        candidate=bob, form=form, started_at=T0 - dt.timedelta(days=1), seed=2, layout=[],
        state="submitted",
    )  # fmt: skip

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    from cohorts.models import Accommodation
    from cohorts.models import Cohort as NewCohort
    from exams.models import Attempt as NewAttempt
    from tenancy.models import Program, ProgramStaff

    programs = {p.name: p for p in Program.objects.all()}
    assert set(programs) == {"HIM 210", "Unnamed program", "Accommodations without a program"}
    assert NewCohort.objects.get(pk=him_1.pk).program == programs["HIM 210"]
    assert NewCohort.objects.get(pk=him_2.pk).program == programs["HIM 210"]
    assert NewCohort.objects.get(pk=bare.pk).program == programs["Unnamed program"]
    assert set(ProgramStaff.objects.values_list("user__username", "role", "program__name")) == {
        ("mgr", "manager", "HIM 210"),
        ("instr", "instructor", "HIM 210"),
    }
    # Alice's one accommodation now holds in both programs she is in; the loner's (in no
    # cohort) is kept in a program of its own, so nothing is lost.
    assert set(
        Accommodation.objects.values_list("user__username", "program__name", "time_multiplier")
    ) == {
        ("alice", "HIM 210", Decimal("1.50")),
        ("alice", "Unnamed program", Decimal("1.50")),
        ("loner", "Accommodations without a program", Decimal("2.00")),
    }
    assert NewAttempt.objects.get(pk=sat.pk).program == programs["HIM 210"]
    assert NewAttempt.objects.get(pk=not_assigned.pk).program is None
