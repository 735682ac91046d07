"""The pure attempt-scoring function behind scoring.services.attempt_score, and the charts.

No database: properties run over many random forms and answer patterns.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychometrics.charts import DomainBar, TrendPoint, domain_chart, trend_chart
from psychometrics.rasch import estimate_theta, theta_for_expected_score
from psychometrics.results import (
    BAND_MARGIN,
    ItemSpec,
    band,
    interpolate,
    lookup,
    score_attempt,
)
from psychometrics.scale import conversion_table

SVG = "{http://www.w3.org/2000/svg}"


def single(ref, *, key=1, pretest=False, domain=1, angoff=None, difficulty=None):
    return ItemSpec(
        ref=ref,
        kind="single",
        keys=frozenset([key]),
        pretest=pretest,
        domain=domain,
        angoff=angoff,
        difficulty=difficulty,
    )


# --- Strategies -----------------------------------------------------------------------------
@st.composite
def forms(draw):
    """A small form: items of both kinds, some pretest, some calibrated, and its table."""
    n = draw(st.integers(2, 14))
    specs = []
    for ref in range(n):
        kind = draw(st.sampled_from(["single", "multiple"]))
        keys = (
            frozenset([0])
            if kind == "single"
            else frozenset(draw(st.sets(st.integers(0, 4), min_size=1, max_size=3)))
        )
        specs.append(
            ItemSpec(
                ref=ref,
                kind=kind,
                keys=keys,
                partial=kind == "multiple" and draw(st.booleans()),
                pretest=draw(st.booleans()),
                domain=draw(st.integers(1, 3)),
                angoff=draw(st.none() | st.floats(0.2, 0.9)),
                difficulty=draw(st.floats(-2, 2)),
            )
        )
    operational = [s for s in specs if not s.pretest]
    if not operational:
        specs[0] = ItemSpec(**{**specs[0].__dict__, "pretest": False})
        operational = [specs[0]]
    m = len(operational)
    if m > 1:
        cut = draw(st.floats(0.5, m - 0.5))
        table = conversion_table(m, cut)
    else:
        cut, table = None, None
    return specs, table, cut


selections = st.one_of(st.none(), st.sets(st.integers(0, 4), max_size=4).map(sorted))


@st.composite
def form_and_two_answer_sets_differing_only_on_pretest(draw):
    specs, table, cut = draw(forms())
    first = {s.ref: draw(selections) for s in specs}
    second = dict(first)
    for s in specs:
        if s.pretest:
            second[s.ref] = draw(selections)
    return specs, table, cut, first, second


# --- Properties -----------------------------------------------------------------------------
@settings(deadline=None, max_examples=300)
@given(form_and_two_answer_sets_differing_only_on_pretest())
def test_changing_any_pretest_response_never_changes_raw_scaled_or_pass(case):
    specs, table, cut, first, second = case
    a = score_attempt(specs, first, table=table, cut=cut)
    b = score_attempt(specs, second, table=table, cut=cut)
    assert (a.raw, a.scaled, a.passed) == (b.raw, b.scaled, b.passed)
    assert a.domains == b.domains
    assert (a.theta, a.theta_se, a.pass_probability) == (b.theta, b.theta_se, b.pass_probability)
    # ... while the pretest items themselves are scored, for item statistics.
    assert set(a.item_scores) == {s.ref for s in specs}


@settings(deadline=None, max_examples=200)
@given(forms(), st.data())
def test_pass_is_scaled_at_least_300_and_raw_is_the_operational_sum(form, data):
    specs, table, cut = form
    chosen = {s.ref: data.draw(selections) for s in specs}
    score = score_attempt(specs, chosen, table=table, cut=cut)
    operational = [s for s in specs if not s.pretest]
    assert score.raw == pytest.approx(sum(score.item_scores[s.ref] for s in operational))
    assert 0 <= score.raw <= score.max_raw == len(operational)
    if table is None:
        assert score.scaled is None and score.passed is None
    else:
        assert score.passed == (score.scaled >= 300)
        assert score.passed == (math.floor(round(score.raw, 9)) >= math.ceil(round(cut, 9)))
        if score.scaled_low is not None:
            assert score.scaled_low <= score.scaled <= score.scaled_high


@settings(deadline=None, max_examples=200)
@given(st.floats(0, 100), st.floats(0, 100))
def test_bands_follow_the_gap_to_the_standard(percent, expected):
    gap, result = percent - expected, band(percent, expected)
    if gap < -BAND_MARGIN - 1e-6:
        assert result == "below"
    elif gap > BAND_MARGIN + 1e-6:
        assert result == "above"
    elif abs(gap) < BAND_MARGIN - 1e-6:
        assert result == "near"


# --- Examples -------------------------------------------------------------------------------
def test_a_fraction_short_of_the_raw_passing_score_does_not_pass():
    table = conversion_table(4, 3.0)
    assert lookup(table, 2.999) == table[2] < 300
    assert lookup(table, 3.0) == 300
    # Floating-point noise from summing partial credits is not a shortfall.
    assert lookup(table, 0.1 + 0.2 + 2.7) == 300
    specs = [
        ItemSpec(ref=i, kind="multiple", keys=frozenset({1, 2, 3}), partial=True) for i in range(3)
    ] + [single(3)]
    # 1 (all keys) + 2/3 (two of three keys) + 0 (a wrong option only) + 0 = 1.67: row 1.
    score = score_attempt(specs, {0: [1, 2, 3], 1: [1, 2], 2: [9], 3: [0]}, table=table, cut=3.0)
    assert score.raw == pytest.approx(5 / 3)
    assert score.scaled == table[1] and score.passed is False


def test_domains_use_the_mean_angoff_rating_and_the_stated_margin():
    specs = [single(i, domain=1, angoff=0.6) for i in range(5)] + [
        single(10 + i, domain=2, angoff=a) for i, a in enumerate([0.5, 0.7, 0.8, 0.8])
    ]
    answers = {i: [1] for i in range(5)} | {10: [1], 11: [0], 12: [0], 13: [0]}
    score = score_attempt(specs, answers)
    one, two = score.domains
    assert (one.percent, one.expected, one.band) == (100.0, pytest.approx(60.0), "above")
    assert (two.percent, two.expected, two.band) == (25.0, pytest.approx(70.0), "below")
    assert one.expected_from == "angoff"


def test_unrated_domains_of_a_calibrated_form_use_the_expected_score_at_the_cut():
    b = [-1.0, 0.0, 1.0, 0.5]
    specs = [single(i, domain=1 + i // 2, difficulty=d) for i, d in enumerate(b)]
    table = conversion_table(4, 2.0)
    score = score_attempt(specs, {0: [1]}, table=table, cut=2.0)
    theta_cut = theta_for_expected_score(2.0, np.array(b))
    assert score.theta_cut == pytest.approx(theta_cut)
    one = score.domains[0]
    expected = 100 * (1 / (1 + math.exp(-(theta_cut + 1))) + 1 / (1 + math.exp(-theta_cut))) / 2
    assert one.expected_from == "rasch" and one.expected == pytest.approx(expected)


def test_ability_uses_operational_items_only_and_gives_a_probability_of_passing():
    b = np.linspace(-1.5, 1.5, 8)
    specs = [single(i, difficulty=d) for i, d in enumerate(b)] + [single(99, pretest=True)]
    answers = {i: [1] for i in range(6)} | {99: [1]}
    table = conversion_table(8, 4.0)
    score = score_attempt(specs, answers, table=table, cut=4.0)
    theta, se = estimate_theta(np.array([1.0] * 6 + [0.0] * 2), b)
    assert (score.theta, score.theta_se) == (pytest.approx(theta), pytest.approx(se))
    theta_cut = theta_for_expected_score(4.0, b)
    z = (theta - theta_cut) / se
    assert score.pass_probability == pytest.approx(0.5 * math.erfc(-z / math.sqrt(2)))
    assert score.scaled_low <= score.scaled <= score.scaled_high


def test_an_uncalibrated_form_has_no_ability():
    specs = [single(0, difficulty=0.0), single(1)]
    score = score_attempt(specs, {0: [1]}, table=conversion_table(2, 1.0), cut=1.0)
    assert score.theta is None and score.pass_probability is None and score.scaled_low is None


def test_a_table_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="3 rows; 1 operational items need 2"):
        score_attempt([single(0)], {}, table=[100, 300, 400], cut=0.5)


def test_interpolate_reads_between_rows():
    table = [100, 200, 300, 400]
    assert interpolate(table, 1.5) == 250
    assert interpolate(table, -1) == 100 and interpolate(table, 9) == 400


# --- Charts ---------------------------------------------------------------------------------
def test_trend_chart_has_a_text_alternative_and_escapes_text():
    svg = trend_chart(
        [
            TrendPoint("Form <A>", "Mar 2, 2026", 287, False),
            TrendPoint("Form B & C", "Apr 9, 2026", 312, True),
        ]
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "trend-title"
    assert root.get("aria-describedby") == "trend-desc"
    assert root.find(f"{SVG}title").text == "Scaled scores of your 2 exam attempts"
    desc = root.find(f"{SVG}desc").text
    assert "attempt 1 on Mar 2, 2026 (Form <A>): 287, not passed" in desc
    assert "attempt 2 on Apr 9, 2026 (Form B & C): 312, passed" in desc
    assert len(root.findall(f".//{SVG}circle")) == 2


def test_trend_chart_puts_300_on_the_dashed_passing_line():
    root = ET.fromstring(trend_chart([TrendPoint("F", "d", 300, True)]))
    line = next(el for el in root.iter(f"{SVG}line") if "passing-line" in el.get("class"))
    circle = root.find(f".//{SVG}circle")
    assert float(line.get("y1")) == float(circle.get("cy"))


def test_domain_chart_states_percent_standard_and_band():
    svg = domain_chart(
        [
            DomainBar(1, "Coding Knowledge & Skills", 72.5, 60.0, "above"),
            DomainBar(2, "Docs", 40, None, None),
        ],
        margin=10,
    )
    root = ET.fromstring(svg)
    desc = root.find(f"{SVG}desc").text
    assert "Domain 1, Coding Knowledge & Skills: 72.5% correct" in desc
    assert "expected to get 60.0%, so this is above the standard" in desc
    assert "Domain 2, Docs: 40.0% correct." in desc
    assert "within 10 percentage points" in desc
    assert len(root.findall(f".//{SVG}rect[@class='standard-zone']")) == 1
