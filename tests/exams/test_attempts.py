"""Attempts and responses: the delivery rules, as services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from cohorts.models import Accommodation
from exams import services
from exams.models import (
    Attempt,
    AttemptMode,
    AttemptState,
    Response,
)
from questionbank.models import ItemStatus, Option
from tests.conftest import program
from tests.factories import bank_case, bank_items, published_form

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(seconds=5)


@pytest.fixture
def form():
    return published_form({1: 2, 2: 1}, pretest=1, minutes=60)


@pytest.fixture
def attempt(form, candidate):
    return services.attempt_start(form=form, candidate=candidate, now=T0)


def save(attempt, position=1, choices=("1",), flagged=False, now=None):
    return services.response_save(
        attempt=attempt, position=position, choices=list(choices), flagged=flagged, now=now
    )


def key_index(attempt, position):
    _, _, option_ids = attempt.layout[position - 1]
    keys = set(Option.objects.filter(pk__in=option_ids, is_key=True).values_list("pk", flat=True))
    return [str(i) for i, pk in enumerate(option_ids) if pk in keys]


# --- starting ------------------------------------------------------------------------------
def test_start_sets_the_deadline_from_the_time_limit(attempt):
    assert attempt.state == AttemptState.IN_PROGRESS
    assert attempt.deadline == T0 + dt.timedelta(minutes=60)
    assert attempt.item_count == 4


def test_deadline_includes_the_candidates_time_multiplier(form, candidate):
    # A form open to everyone, sat outside any assignment: the most generous extra time
    # any of the candidate's programs grants them.
    Accommodation.objects.create(
        program=program("a"), user=candidate, time_multiplier=Decimal("1.50")
    )
    attempt = services.attempt_start(form=form, candidate=candidate, now=T0)
    assert attempt.deadline == T0 + dt.timedelta(minutes=90)
    assert attempt.time_multiplier == Decimal("1.50")


def test_starting_again_resumes_the_attempt_in_progress(form, attempt, candidate):
    services.attempt_set_position(attempt=attempt, position=3)
    again = services.attempt_start(form=form, candidate=candidate, now=T0 + GRACE)
    assert again.pk == attempt.pk and again.current_position == 3
    assert Attempt.objects.count() == 1


def test_after_submitting_a_new_start_is_a_new_attempt(form, attempt, candidate):
    services.attempt_submit(attempt=attempt, now=T0 + GRACE)
    again = services.attempt_start(form=form, candidate=candidate, now=T0 + 2 * GRACE)
    assert again.pk != attempt.pk


def test_form_not_available_cannot_be_started(candidate):
    form = published_form({1: 1}, available_to_all=False)
    with pytest.raises(PermissionDenied):
        services.attempt_start(form=form, candidate=candidate)


def test_shuffling_is_reproducible_per_attempt(candidate):
    for number in (1, 2):
        bank_items(number, 8)
    form = published_form(
        {1: 8, 2: 8}, stock=False, shuffle_items=True, shuffle_options=True, name="Shuffled"
    )
    attempt = services.attempt_start(form=form, candidate=candidate)
    rows = services.form_delivery_rows(form=form)
    from exams.assembly import attempt_layout

    assert attempt.layout == attempt_layout(
        rows=rows, seed=attempt.seed, shuffle_items=True, shuffle_options=True
    )
    assert [r[0] for r in attempt.layout] != [r[0] for r in rows]
    assert sorted(r[0] for r in attempt.layout) == sorted(r[0] for r in rows)


def test_shuffled_items_keep_case_items_together(candidate):
    bank_items(1, 6)
    _, case_versions = bank_case([1, 1, 1])
    form = published_form({1: 9}, stock=False, shuffle_items=True, name="Cases")
    ids = {fi.pk for fi in form.items.all() if fi.item_version_id in {v.pk for v in case_versions}}
    for _ in range(5):
        attempt = services.attempt_start(form=form, candidate=candidate)
        order = [row[0] for row in attempt.layout]
        positions = sorted(order.index(i) for i in ids)
        assert positions == list(range(positions[0], positions[0] + 3))
        services.attempt_submit(attempt=attempt)


# --- saving ------------------------------------------------------------------------------
def test_save_is_idempotent_and_the_last_write_wins(attempt):
    save(attempt, 1, ["0"], now=T0)
    save(attempt, 1, ["0"], now=T0)
    save(attempt, 1, ["2"], flagged=True, now=T0 + GRACE)
    response = Response.objects.get()
    option_ids = attempt.layout[0][2]
    assert response.selection == [option_ids[2]] and response.flagged
    assert response.saved_at == T0 + GRACE


def test_clearing_an_answer_keeps_the_row(attempt):
    save(attempt, 2, ["1"], now=T0)
    result = save(attempt, 2, [], flagged=True, now=T0)
    assert not result.answered and result.flagged
    assert Response.objects.get().selection == []


def test_option_not_on_the_item_is_refused(attempt):
    for bad in (["9"], ["-1"], ["x"]):
        with pytest.raises(services.SaveRefused, match="not one of this item's options"):
            save(attempt, 1, bad, now=T0)
    with pytest.raises(services.SaveRefused, match="no item 5"):
        save(attempt, 5, ["0"], now=T0)
    assert not Response.objects.exists()


def test_choose_n_is_enforced(candidate):
    bank_items(1, 1, kind="multiple", choose=2, options=[
        ("A", True), ("B", True), ("C", False), ("D", False), ("E", False)
    ])  # fmt: skip
    form = published_form({1: 1}, stock=False, name="MR")
    attempt = services.attempt_start(form=form, candidate=candidate)
    save(attempt, 1, ["0", "1"])
    with pytest.raises(services.SaveRefused, match="Choose 2: you picked 3"):
        save(attempt, 1, ["0", "1", "2"])
    with pytest.raises(services.SaveRefused, match="Choose one answer only"):
        save(published_single_attempt(candidate), 1, ["0", "1"])


def published_single_attempt(candidate):
    form = published_form({2: 1}, name="Single")
    return services.attempt_start(form=form, candidate=candidate)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (dt.timedelta(seconds=-1), True),  # one second before the deadline
        (dt.timedelta(0), True),  # at the deadline
        (dt.timedelta(seconds=1), True),  # after it, inside the grace for requests in flight
        (GRACE, True),  # the last moment of the grace
        (GRACE + dt.timedelta(seconds=1), False),  # one second after deadline + grace
    ],
)
def test_save_around_the_deadline(attempt, offset, accepted):
    with time_machine.travel(attempt.deadline + offset, tick=False):
        if accepted:
            save(attempt, 1, ["0"])
            assert Response.objects.count() == 1
            attempt.refresh_from_db()
            assert attempt.state == AttemptState.IN_PROGRESS
        else:
            with pytest.raises(services.AttemptClosed, match="Time is up"):
                save(attempt, 1, ["0"])
            assert not Response.objects.exists()


def test_save_after_deadline_is_refused_and_attempt_finalised(attempt, run_on_commit):
    save(attempt, 1, key_index(attempt, 1), now=T0)
    late = attempt.deadline + GRACE + dt.timedelta(seconds=1)
    with (
        run_on_commit(execute=True),
        time_machine.travel(late, tick=False),
        pytest.raises(services.AttemptClosed),
    ):
        save(attempt, 2, ["0"])
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED
    assert attempt.submitted_at == late
    # Scoring ran (eagerly here) on what was saved in time.
    assert attempt.scored_at is not None and attempt.raw_score in (Decimal(0), Decimal(1))


def test_save_to_a_submitted_attempt_is_refused(attempt):
    services.attempt_submit(attempt=attempt, now=T0)
    attempt.refresh_from_db()
    with pytest.raises(services.AttemptClosed, match="already been submitted"):
        save(attempt, 1, ["0"], now=T0)


def test_the_upsert_rechecks_the_state_even_with_a_stale_attempt(attempt):
    stale = Attempt.objects.get(pk=attempt.pk)
    services.attempt_submit(attempt=attempt, now=T0)
    with pytest.raises(services.AttemptClosed):
        save(stale, 1, ["0"], now=T0)
    assert not Response.objects.exists()


# --- finishing and scoring ----------------------------------------------------------------
def test_submit_before_deadline_is_submitted_and_scored_on_operational_items_only(
    attempt, run_on_commit
):
    for position in range(1, 5):
        save(attempt, position, key_index(attempt, position), now=T0)
    with run_on_commit(execute=True):
        attempt = services.attempt_submit(attempt=attempt, now=T0 + GRACE)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED
    assert attempt.raw_score == Decimal(3)  # four right answers, one of them pretest
    assert attempt.result["raw_score"] == 3.0 and attempt.result["max_raw"] == 3
    assert attempt.score.scaled_score == 400 and attempt.score.passed


def test_finalise_is_idempotent_and_queues_scoring_once(attempt, run_on_commit):
    with run_on_commit() as callbacks, transaction.atomic():
        assert services.attempt_finalise(attempt_id=attempt.pk, state=AttemptState.SUBMITTED)
        assert not services.attempt_finalise(attempt_id=attempt.pk, state=AttemptState.EXPIRED)
    assert len(callbacks) == 1
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED


def test_scoring_is_written_once(attempt, run_on_commit):
    with run_on_commit(execute=True):
        services.attempt_submit(attempt=attempt, now=T0)
    first = Attempt.objects.get(pk=attempt.pk)
    from scoring.services import attempt_score

    assert attempt_score(attempt_id=attempt.pk).raw_score == first.raw_score
    assert Attempt.objects.get(pk=attempt.pk).scored_at == first.scored_at


def test_sweep_expires_only_attempts_past_deadline_and_grace(
    form, candidate, other_candidate, run_on_commit
):
    mine = services.attempt_start(form=form, candidate=candidate, now=T0)
    theirs = services.attempt_start(
        form=form, candidate=other_candidate, now=T0 + dt.timedelta(minutes=30)
    )
    just_after = mine.deadline + GRACE + dt.timedelta(seconds=1)
    with run_on_commit(execute=True):
        assert services.attempts_expire_overdue(now=mine.deadline + GRACE) == 0
        assert services.attempts_expire_overdue(now=just_after) == 1
        assert services.attempts_expire_overdue(now=mine.deadline + dt.timedelta(minutes=1)) == 0
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.state == AttemptState.EXPIRED and mine.scored_at is not None
    assert theirs.state == AttemptState.IN_PROGRESS


def test_beat_task_runs_the_sweep(attempt):
    from exams.tasks import expire_overdue_attempts

    with time_machine.travel(attempt.deadline + dt.timedelta(minutes=2), tick=False):
        assert expire_overdue_attempts.delay().get() == 1


def test_time_up_waits_for_the_servers_deadline(attempt):
    assert not services.attempt_time_up(attempt=attempt, now=attempt.deadline - GRACE)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.IN_PROGRESS
    assert services.attempt_time_up(attempt=attempt, now=attempt.deadline)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED


# --- practice ------------------------------------------------------------------------------
def test_practice_uses_operational_items_of_the_chosen_domains_and_is_kept_apart(candidate):
    bank_items(1, 5)
    bank_items(2, 5)
    bank_items(2, 3, status=ItemStatus.PRETEST)
    attempt = services.practice_start(candidate=candidate, domains=[2], count=4, timed=False)
    assert attempt.mode == AttemptMode.PRACTICE and attempt.deadline is None
    versions = [fi.item_version for fi in attempt.form.items.select_related("item_version")]
    assert len(versions) == 4
    assert {v.domain.number for v in versions} == {2}
    assert {v.status for v in versions} == {"operational"}
    services.attempt_submit(attempt=attempt)
    assert not Attempt.objects.exams().exists()
    assert Attempt.objects.practice().count() == 1
    timed = services.practice_start(candidate=candidate, domains=[1], count=3, timed=True, now=T0)
    assert timed.deadline == T0 + dt.timedelta(minutes=round(3 * 135 / 60))


def test_practice_check_reveals_only_in_practice_and_freezes_the_answer(candidate, attempt):
    bank_items(1, 3)
    practice = services.practice_start(candidate=candidate, domains=[1], count=2, timed=False)
    save(practice, 1, ["1"])
    services.response_check(attempt=practice, position=1)
    with pytest.raises(services.SaveRefused, match="already checked"):
        save(practice, 1, ["0"])
    with pytest.raises(PermissionDenied):
        services.response_check(attempt=attempt, position=1)


def test_attempt_seconds_left(attempt):
    assert attempt.seconds_left(T0) == 3600
    assert attempt.seconds_left(attempt.deadline + GRACE) == 0
    assert timezone.is_aware(attempt.deadline)


@pytest.mark.django_db
def test_the_expiry_sweep_closes_every_overdue_attempt_in_batches(django_user_model):
    from tests.conftest import make_user
    from tests.factories import published_form

    form = published_form({1: 2}, minutes=60)
    started = timezone.now() - dt.timedelta(hours=2)
    people = [make_user(django_user_model, f"gone{i}", "Candidate") for i in range(7)]
    for person in people:
        services.attempt_start(form=form, candidate=person, now=started)
    on_time = services.attempt_start(
        form=form, candidate=make_user(django_user_model, "here", "Candidate")
    )
    # Batches of three: the sweep goes on until nothing overdue is left.
    assert services.attempts_expire_overdue(batch=3) == 7
    assert Attempt.objects.filter(state=AttemptState.EXPIRED).count() == 7
    on_time.refresh_from_db()
    assert on_time.state == AttemptState.IN_PROGRESS
    assert services.attempts_expire_overdue(batch=3) == 0
