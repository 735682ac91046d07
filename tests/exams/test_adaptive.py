"""Adaptive practice through the practice flow: selection by information among calibrated
operational items only, the stop at SE 0.30 or the chosen length, and its pages."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from exams import adaptive, services
from exams.models import FormItem, Response
from questionbank.models import ItemStatus, Option
from tests.factories import bank_items, calibrate

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    """60 calibrated operational items near 0, 10 calibrated pretest items right at 0 (the
    most informative of all, were they allowed), 10 uncalibrated operational items."""
    rng = np.random.default_rng(30)
    operational = bank_items(1, 60)
    calibrate(operational, rng.normal(0, 0.6, 60))
    pretest = bank_items(1, 10, status=ItemStatus.PRETEST)
    calibrate(pretest, [0.0] * 10)
    uncalibrated = bank_items(1, 10)
    return operational, pretest, uncalibrated


def answer(attempt, position, right: bool):
    attempt.refresh_from_db()
    form_item = FormItem.objects.get(pk=attempt.layout[position - 1][0])
    options = Option.objects.filter(version_id=form_item.item_version_id)
    chosen = options.filter(is_key=right).values_list("pk", flat=True)[:1]
    Response.objects.update_or_create(
        attempt=attempt,
        form_item=form_item,
        defaults={"selection": list(chosen), "saved_at": timezone.now()},
    )


def run_session(attempt, rng, theta=0.0):
    """Answer as a candidate of ability theta until the session stops."""
    from scoring.models import ItemCalibration

    position = 1
    while position is not None:
        attempt.refresh_from_db()
        version = FormItem.objects.get(pk=attempt.layout[position - 1][0]).item_version_id
        b = ItemCalibration.objects.get(item_version_id=version).difficulty
        answer(attempt, position, bool(rng.random() < 1 / (1 + np.exp(-(theta - b)))))
        position = adaptive.practice_next(attempt=attempt)
    attempt.refresh_from_db()
    return attempt


def test_the_first_item_is_the_most_informative_band_and_never_pretest(candidate, bank):
    operational, pretest, uncalibrated = bank
    attempt = services.practice_start(
        candidate=candidate, domains=[1], count=20, timed=False, adaptive_mode=True, seed=4
    )
    (first,) = FormItem.objects.filter(form=attempt.form).values_list("item_version_id", flat=True)
    from scoring.models import ItemCalibration

    b = dict(ItemCalibration.objects.values_list("item_version_id", "difficulty"))
    start = attempt.practice_settings["theta_start"]
    distances = sorted(abs(b[v.pk] - start) for v in operational)
    assert first in {v.pk for v in operational}
    assert abs(b[first] - start) <= distances[4]  # among the top k = 5
    assert attempt.practice_settings["adaptive"] and attempt.item_count == 1


def test_a_session_stops_at_standard_error_030_without_pretest_or_uncalibrated_items(
    candidate, bank
):
    operational, pretest, uncalibrated = bank
    attempt = services.practice_start(
        candidate=candidate, domains=[1], count=107, timed=False, adaptive_mode=True, seed=5
    )
    attempt = run_session(attempt, np.random.default_rng(8))
    state = attempt.practice_settings
    assert state["stopped"] and state["stop_reason"] == "precision"
    last = state["estimates"][-1]
    assert last["se"] <= 0.30 and last["n"] == attempt.item_count
    assert all(e["se"] > 0.30 for e in state["estimates"][:-1])
    given = set(
        FormItem.objects.filter(form=attempt.form).values_list("item_version_id", flat=True)
    )
    assert given <= {v.pk for v in operational}
    assert not given & {v.pk for v in pretest + uncalibrated}
    assert adaptive.practice_next(attempt=attempt) is None  # stays stopped


def test_a_session_stops_at_the_chosen_length(candidate, bank):
    attempt = services.practice_start(
        candidate=candidate, domains=[1], count=5, timed=False, adaptive_mode=True, seed=6
    )
    attempt = run_session(attempt, np.random.default_rng(9))
    assert attempt.item_count == 5
    assert attempt.practice_settings["stop_reason"] == "length"


def test_asking_for_the_next_item_twice_before_answering_adds_nothing(candidate, bank):
    attempt = services.practice_start(
        candidate=candidate, domains=[1], count=10, timed=False, adaptive_mode=True, seed=7
    )
    assert adaptive.practice_next(attempt=attempt) == 1  # item 1 is not answered yet
    answer(attempt, 1, True)
    assert adaptive.practice_next(attempt=attempt) == 2
    assert adaptive.practice_next(attempt=attempt) == 2
    attempt.refresh_from_db()
    assert attempt.item_count == 2 and len(attempt.practice_settings["estimates"]) == 1


def test_practice_page_offers_adaptive_and_the_flow_runs(client, candidate, other_candidate, bank):
    client.force_login(candidate)
    page = client.get(reverse("exams:practice"))
    assert "Adaptive" in page.content.decode()
    response = client.post(
        reverse("exams:practice"), {"domains": ["1"], "count": "10", "adaptive": "on"}
    )
    attempt = candidate.attempts.get()
    assert response.status_code == 302 and response.url == reverse(
        "exams:item", args=[attempt.pk, 1]
    )
    item = client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    assert reverse("exams:adaptive_next", args=[attempt.pk]) in item
    answer(attempt, 1, True)
    step = client.get(reverse("exams:adaptive_next", args=[attempt.pk]))
    assert step.status_code == 302 and step.url == reverse("exams:item", args=[attempt.pk, 2])
    html = client.get(reverse("exams:item", args=[attempt.pk, 2])).content.decode()
    assert 'id="adaptive-estimate"' in html and "standard error" in html
    client.force_login(other_candidate)
    assert client.get(reverse("exams:adaptive_next", args=[attempt.pk])).status_code == 404


def test_a_fixed_practice_set_has_no_adaptive_step(client, candidate, bank):
    attempt = services.practice_start(candidate=candidate, domains=[1], count=3, timed=False)
    client.force_login(candidate)
    assert client.get(reverse("exams:adaptive_next", args=[attempt.pk])).status_code == 404


def test_the_report_of_an_adaptive_session_predicts_a_scaled_score(client, candidate, bank):
    from scoring import services as scoring_services
    from tests.factories import blueprint_with, form_of

    operational, *_ = bank
    blueprint = blueprint_with({1: 20})
    base = form_of(operational[:20], name="Base", blueprint=blueprint)
    scoring_services.base_form_set(blueprint=blueprint, form=base)
    attempt = services.practice_start(
        candidate=candidate, domains=[1], count=6, timed=False, adaptive_mode=True, seed=3
    )
    attempt = run_session(attempt, np.random.default_rng(2))
    assert attempt.practice_settings["estimates"][-1]["scaled"] is not None
    services.attempt_submit(attempt=attempt)
    scoring_services.attempt_score(attempt_id=attempt.pk)
    client.force_login(candidate)
    html = client.get(reverse("scoring:report", args=[attempt.pk])).content.decode()
    assert 'id="predicted-score"' in html
