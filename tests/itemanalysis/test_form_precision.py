"""The form report's precision: classification accuracy and consistency at 300 from the
attempts' ability estimates, and the information chart with its table."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from itemanalysis import selectors
from itemanalysis.models import AnalysisKind
from psychometrics.precision import classification_indices, precision_curve
from psychometrics.rasch import theta_for_expected_score
from scoring import services as scoring_services
from scoring.models import AttemptResult
from tests.factories import bank_items, calibrate, form_of, rasch_attempts
from tests.itemanalysis.helpers import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def calibrated_form():
    rng = np.random.default_rng(300)
    versions = [v.pk for v in bank_items(1, 30)]
    b = rng.normal(0, 1, 30)
    calibrate(versions, b)
    form = form_of(versions, name="Calibrated")
    attempts = rasch_attempts(
        form,
        difficulties=dict(zip(versions, b, strict=True)),
        abilities=rng.normal(0.3, 1, 120),
        rng=rng,
    )
    for attempt in attempts:
        scoring_services.attempt_score(attempt_id=attempt.pk)
    run(AnalysisKind.CLASSICAL, form=form)
    return form, b


def test_classification_indices_come_from_the_attempts_ability_and_error(calibrated_form):
    form, b = calibrated_form
    precision = selectors.form_precision(form=form)
    theta_cut = theta_for_expected_score(form.conversion.cut, b)
    assert precision.theta_cut == pytest.approx(theta_cut)
    rows = np.array(AttemptResult.objects.values_list("theta", "theta_se"), dtype=float)
    expected = classification_indices(rows[:, 0], rows[:, 1], theta_cut)
    assert precision.n_results == 120
    assert precision.indices.accuracy == pytest.approx(expected.accuracy)
    assert precision.indices.consistency == pytest.approx(expected.consistency)
    assert 0.5 < precision.indices.consistency <= precision.indices.accuracy < 1
    assert [p.scaled for p in precision.curve] == sorted(p.scaled for p in precision.curve)


def test_form_report_shows_classification_and_an_accessible_information_chart(
    client, instructor, calibrated_form
):
    form, _ = calibrated_form
    client.force_login(instructor)
    page = client.get(reverse("admin:itemanalysis_formstatistic_report", args=[form.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="classification"' in html and "Classification accuracy" in html
    accuracy = page.context["report"].precision.indices.accuracy
    assert f"{accuracy:.3f}" in html
    assert 'role="img"' in html and '<title id="information-title">' in html
    assert '<desc id="information-desc">' in html and 'id="information-table"' in html
    assert html.count("<tr><td>") >= 16  # the table beside the chart


def test_an_uncalibrated_form_says_why_there_is_no_precision(client, instructor):
    versions = bank_items(1, 6)
    form = form_of(versions, name="Plain")
    precision = selectors.form_precision(form=form)
    assert precision.indices is None and "no calibrated difficulty" in precision.missing


def test_precision_curve_reads_the_table_at_each_ability():
    b = np.linspace(-2, 2, 20)
    table = list(np.linspace(100, 400, 21).round().astype(int))
    curve = precision_curve(b, table, points=5)
    assert len(curve) == 5
    assert curve[0].expected_raw == pytest.approx(0.5) and curve[-1].expected_raw == pytest.approx(
        19.5
    )
    middle = curve[2]
    assert middle.information == pytest.approx(max(p.information for p in curve))
    assert middle.sem == pytest.approx(1 / np.sqrt(middle.information))
    assert all(p.scaled_sem > 0 for p in curve)
