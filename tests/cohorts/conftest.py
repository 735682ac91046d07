"""Builders for cohort tests: cohorts, bare published forms, and exam attempts with scores.

Attempts are written directly (not through delivery) so that a test states exactly the
attempts, times and scores its hand-computed figures rest on.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

_seq = itertools.count(1)
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
JOINED = T0 - dt.timedelta(days=30)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cohorts' fixtures create dozens of accounts per test; PBKDF2 would dominate.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_form(name: str | None = None, **fields):
    from exams.models import ExamForm, FormKind, FormStatus

    return ExamForm.objects.create(
        name=name or f"Form {next(_seq)}",
        kind=FormKind.EXAM,
        status=FormStatus.PUBLISHED,
        published_at=timezone.now(),
        **fields,
    )


def make_cohort(
    name="Cohort A", *, managers=(), instructors=(), candidates=(), program=None, **fields
):
    """A cohort of `program` (default: the first manager's program, else program "a")."""
    from cohorts.models import Cohort, Membership
    from tenancy.models import ProgramStaff
    from tests.conftest import program as test_program

    if program is None:
        role = ProgramStaff.objects.filter(user__in=list(managers), role="manager").first()
        program = role.program if role else test_program("a")
    cohort = Cohort.objects.create(name=name, program=program, **fields)
    cohort.managers.add(*managers)
    cohort.instructors.add(*instructors)
    for user in candidates:
        # Joined before T0: `sit` dates attempts from T0, and a cohort counts a member's
        # attempts from the moment they joined.
        Membership.objects.create(cohort=cohort, user=user, joined_at=JOINED)
    return cohort


def make_candidate(django_user_model, username: str, **fields):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        username=username,
        password="pw-for-tests-1",
        first_name=fields.pop("first_name", username.title()),
        email=fields.pop("email", f"{username}@example.org"),
        **fields,
    )
    user.groups.add(Group.objects.get(name="Candidate"))
    return user


def sit(
    candidate,
    form,
    *,
    day: int = 0,
    scaled: int | None = None,
    passed: bool | None = None,
    mode: str = "exam",
    state: str = "submitted",
    probability: float | None = None,
    domains: dict | None = None,
):
    """An attempt started `day` days after T0, scored `scaled` unless None."""
    from exams.models import Attempt
    from scoring.models import AttemptResult, DomainScore

    started = T0 + dt.timedelta(days=day)
    attempt = Attempt.objects.create(
        candidate=candidate,
        form=form,
        mode=mode,
        state=state,
        started_at=started,
        deadline=started + dt.timedelta(hours=4),
        submitted_at=None if state == "in_progress" else started + dt.timedelta(hours=3),
        time_multiplier=Decimal("1.00"),
        seed=next(_seq),
        layout=[],
    )
    if scaled is not None:
        result = AttemptResult.objects.create(
            attempt=attempt,
            raw_score=scaled / 4,
            max_raw=97,
            scaled_score=scaled,
            passed=scaled >= 300 if passed is None else passed,
            pass_probability=probability,
            domain_results={
                str(n): {"score": c, "items": t, "percent": round(100 * c / t, 2)}
                for n, (c, t) in (domains or {}).items()
            },
        )
        DomainScore.objects.bulk_create(
            DomainScore(result=result, domain=n, score=c, items=t)
            for n, (c, t) in (domains or {}).items()
        )
    return attempt


@pytest.fixture
def form():
    return make_form("Form One")


@pytest.fixture
def hand_cohort(django_user_model, manager, manager_b, instructor, form):
    """The hand-computed cohort of test_figures (see the figures there).

    alice: 280 fail then 310 pass (retake; the later one inserted first)
    bob:   320 pass (on a second form)
    carol: a 350 practice (ignored), then 250 fail
    dave:  nothing
    erin:  an exam still in progress
    frank: a submitted exam not yet scored
    In cohort B (manager_b): zed, 390 pass.
    """
    people = {
        n: make_candidate(django_user_model, n)
        for n in ("alice", "bob", "carol", "dave", "erin", "frank", "zed")
    }
    other_form = make_form("Form Two")
    cohort = make_cohort(
        "Cohort A",
        managers=[manager],
        instructors=[instructor],
        candidates=[people[n] for n in ("alice", "bob", "carol", "dave", "erin", "frank")],
        start_date=dt.date(2026, 1, 1),
    )
    cohort_b = make_cohort("Cohort B", managers=[manager_b], candidates=[people["zed"]])
    sit(people["alice"], form, day=40, scaled=310, probability=0.55)
    sit(
        people["alice"], form, day=3, scaled=280, probability=0.3, domains={1: (30, 55), 3: (4, 10)}
    )
    sit(people["bob"], other_form, day=10, scaled=320, domains={1: (50, 55), 3: (9, 10)})
    sit(people["carol"], form, day=1, scaled=350, mode="practice", domains={1: (55, 55)})
    sit(
        people["carol"],
        form,
        day=20,
        scaled=250,
        probability=0.1,
        domains={1: (20, 55), 3: (2, 10)},
    )
    sit(people["erin"], form, day=30, state="in_progress")
    sit(people["frank"], form, day=35)
    sit(people["zed"], form, day=12, scaled=390, domains={1: (55, 55), 3: (10, 10)})
    return {"cohort": cohort, "cohort_b": cohort_b, "other_form": other_form, **people}
