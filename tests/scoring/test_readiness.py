"""Readiness: each candidate's probability of passing a new form, from their latest
ability estimate and its standard error, on the history page and the cohort page."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.urls import reverse

from cohorts.models import Cohort, Membership
from psychometrics.precision import probability_of_passing
from psychometrics.rasch import theta_for_expected_score
from scoring import selectors, services
from tests.conftest import program
from tests.factories import bank_items, blueprint_with, calibrate, finished_attempt, form_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def calibrated_base():
    versions = [v.pk for v in bank_items(1, 10)]
    b = np.linspace(-1, 1, 10)
    calibrate(versions, b)
    blueprint = blueprint_with({1: 10})
    form = form_of(versions, name="Base", blueprint=blueprint)
    services.base_form_set(blueprint=blueprint, form=form)
    return form, b


def scored(form, who, correct, days_ago):
    attempt = finished_attempt(
        form,
        who,
        correct=correct,
        started_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago),
    )
    return services.attempt_score(attempt_id=attempt.pk)


def test_the_chance_comes_from_the_latest_ability_against_the_standard(candidate, calibrated_base):
    form, b = calibrated_base
    scored(form, candidate, True, days_ago=10)  # an old perfect score
    latest = scored(form, candidate, lambda fi: fi.position <= 6, days_ago=1)
    chance = selectors.pass_chances(candidate_ids=[candidate.pk])[candidate.pk]
    standard = theta_for_expected_score(form.conversion.cut, b)
    assert chance.theta == latest.theta and chance.theta_standard == pytest.approx(standard)
    assert chance.probability == pytest.approx(
        probability_of_passing(latest.theta, latest.theta_se, standard)
    )
    assert 0 < chance.probability < 1


def test_no_chance_without_a_calibrated_result(candidate):
    form = form_of(bank_items(1, 4), name="Angoff only")
    scored(form, candidate, True, days_ago=1)
    assert selectors.pass_chances(candidate_ids=[candidate.pk]) == {}


def test_history_page_shows_the_chance(client, candidate, calibrated_base):
    form, _ = calibrated_base
    scored(form, candidate, lambda fi: fi.position <= 7, days_ago=1)
    client.force_login(candidate)
    html = client.get(reverse("scoring:history")).content.decode()
    assert 'id="pass-chance"' in html and "Probability of passing a new form" in html


def test_cohort_readiness_list_shows_each_members_chance(
    client, manager, manager_b, candidate, other_candidate, calibrated_base
):
    form, _ = calibrated_base
    cohort = Cohort.objects.create(name="Readiness", program=program("a"))
    cohort.managers.add(manager)
    for who in (candidate, other_candidate):
        Membership.objects.create(
            cohort=cohort, user=who, joined_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
    result = scored(form, candidate, lambda fi: fi.position <= 7, days_ago=1)
    chance = selectors.pass_chances(candidate_ids=[candidate.pk])[candidate.pk]
    client.force_login(manager)
    page = client.get(reverse("cohorts:detail", args=[cohort.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Chance on a new form" in html
    row = next(r for r in page.context["page"].readiness if r.user_id == candidate.pk)
    assert row.new_form_probability == pytest.approx(chance.probability)
    assert f"{chance.probability * 100:.0f}%" in html
    assert result.theta is not None
    other = next(r for r in page.context["page"].readiness if r.user_id == other_candidate.pk)
    assert other.new_form_probability is None
    client.force_login(manager_b)
    assert client.get(reverse("cohorts:detail", args=[cohort.pk])).status_code == 404
