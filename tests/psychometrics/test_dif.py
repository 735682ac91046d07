"""Mantel-Haenszel DIF, checked against statsmodels' StratifiedTable on the same 2x2xK tables.

The reference tables are built here, item by item and stratum by stratum, with plain masks:
nothing is shared with the vectorised counting under test.
"""

import dataclasses
import math

import numpy as np
import pytest
from scipy.stats import ncx2
from statsmodels.stats.contingency_tables import StratifiedTable

from psychometrics import dif
from psychometrics.dif import dif_mantel_haenszel, ets_category

N_ITEMS = 30
PLANTED = {3: 1.0, 7: -1.0, 12: 0.45}  # logits added to the item's difficulty for the focal group


def simulate(seed, *, n_persons=6000, missing=0.1, impact=-0.5):
    """Rasch responses with planted uniform DIF; ``missing`` of the cells not presented."""
    rng = np.random.default_rng(seed)
    focal = rng.random(n_persons) < 0.4
    theta = rng.normal(0.0, 1.0, n_persons) + impact * focal
    b = rng.normal(0.0, 1.0, N_ITEMS)
    dif_shift = np.zeros(N_ITEMS)
    for item, shift in PLANTED.items():
        dif_shift[item] = shift
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - b - focal[:, None] * dif_shift)))
    x = (rng.random(p.shape) < p).astype(float)
    x[rng.random(p.shape) < missing] = np.nan
    return x, focal


def reference_tables(x, focal, item, matching=None):
    """The item's 2x2 table ([[A, B], [C, D]]) per stratum holding at least two persons."""
    score = np.nansum(x, axis=1) if matching is None else np.asarray(matching)
    seen = ~np.isnan(x[:, item])
    right = x[:, item] == 1
    tables = []
    for value in np.unique(score[seen]):
        here = seen & (score == value)
        table = [
            [np.sum(here & ~focal & right), np.sum(here & ~focal & ~right)],
            [np.sum(here & focal & right), np.sum(here & focal & ~right)],
        ]
        if np.sum(table) >= 2:  # statsmodels' variance divides by T - 1
            tables.append(np.array(table, dtype=float))
    return tables


def observed_minus_expected(tables):
    t = np.array(tables)
    n = t.sum(axis=(1, 2))
    return np.sum(t[:, 0, 0] - t[:, 0].sum(axis=1) * t[:, :, 0].sum(axis=1) / n)


@pytest.mark.parametrize("seed", [11, 12])
def test_statistics_match_statsmodels_on_the_same_stratified_tables(seed):
    x, focal = simulate(seed)
    results = dif_mantel_haenszel(x, focal)
    assert [r.item for r in results] == list(range(N_ITEMS))

    compared_chi2 = 0
    for r in results:
        tables = reference_tables(x, focal, r.item)
        table = StratifiedTable(tables)
        assert r.alpha == pytest.approx(table.oddsratio_pooled, rel=1e-10)
        assert r.delta == pytest.approx(-2.35 * math.log(table.oddsratio_pooled), rel=1e-10)
        assert r.se_delta == pytest.approx(2.35 * table.logodds_pooled_se, rel=1e-10)
        if abs(observed_minus_expected(tables)) >= 0.5:
            test = table.test_null_odds(correction=True)
            assert r.chi2 == pytest.approx(test.statistic, rel=1e-9)
            assert r.p == pytest.approx(test.pvalue, rel=1e-6, abs=1e-12)
            compared_chi2 += 1
        else:  # the correction is limited to the difference itself (module docstring)
            assert r.chi2 == 0.0
            assert r.p == 1.0
        seen = ~np.isnan(x[:, r.item])
        assert r.n_reference == np.sum(seen & ~focal)
        assert r.n_focal == np.sum(seen & focal)
        assert r.n_strata == sum(1 for t in tables if t[0].sum() > 0 and t[1].sum() > 0)
    assert compared_chi2 >= N_ITEMS - 5  # the comparison is not vacuous


@pytest.mark.parametrize("seed", [11, 12])
def test_planted_dif_is_found_with_the_right_sign_and_other_items_are_negligible(seed):
    x, focal = simulate(seed)
    results = dif_mantel_haenszel(x, focal)

    harder_for_focal, easier_for_focal, moderate = results[3], results[7], results[12]
    assert harder_for_focal.category == "C"
    assert harder_for_focal.delta < -1.5
    assert harder_for_focal.alpha > 1
    assert easier_for_focal.category == "C"
    assert easier_for_focal.delta > 1.5
    # 0.45 logits is about -1.06 on the delta scale: flagged, but not a large DIF.
    assert moderate.category in {"A", "B"}
    assert moderate.delta < -0.5
    others = [r for r in results if r.item not in PLANTED]
    assert all(r.category == "A" for r in others)
    assert max(abs(r.delta) for r in others) < 0.8


def test_explicit_matching_gives_the_same_result_as_the_default_total_score():
    x, focal = simulate(5, n_persons=1500)
    assert dif_mantel_haenszel(x, focal) == dif_mantel_haenszel(
        x, focal, matching=np.nansum(x, axis=1)
    )


def test_statistics_match_statsmodels_with_an_outside_matching_criterion():
    x, focal = simulate(6, n_persons=3000, missing=0.0)
    rng = np.random.default_rng(0)
    matching = np.round(rng.normal(size=x.shape[0]), 1)  # e.g. a rounded ability estimate
    results = dif_mantel_haenszel(x, focal, matching=matching)
    for r in results[:10]:
        table = StratifiedTable(reference_tables(x, focal, r.item, matching))
        assert r.alpha == pytest.approx(table.oddsratio_pooled, rel=1e-10)


def test_a_response_not_presented_removes_the_person_from_that_item_only():
    x, focal = simulate(8, n_persons=800, missing=0.0)
    matching = np.nansum(x, axis=1)  # fixed, so only the studied item's tables can change
    before = dif_mantel_haenszel(x, focal, matching=matching)
    person = int(np.flatnonzero(focal)[0])
    x[person, 4] = np.nan

    after = dif_mantel_haenszel(x, focal, matching=matching)

    assert [a for a in after if a.item != 4] == [b for b in before if b.item != 4]
    assert after[4].n_focal == before[4].n_focal - 1
    assert after[4].n_reference == before[4].n_reference
    table = StratifiedTable(reference_tables(x, focal, 4, matching))
    assert after[4].alpha == pytest.approx(table.oddsratio_pooled, rel=1e-10)
    assert after[4].alpha != before[4].alpha


def test_a_stratum_with_one_person_or_one_group_contributes_nothing():
    x, focal = simulate(9, n_persons=800, missing=0.0)
    matching = np.nansum(x, axis=1)
    base = dif_mantel_haenszel(x, focal, matching=matching)

    # One focal person alone at score 1000, and three reference persons alone at 2000.
    extra_x = np.vstack([x, np.ones((1, N_ITEMS)), np.zeros((3, N_ITEMS))])
    extra_focal = np.r_[focal, True, False, False, False]
    extra_matching = np.r_[matching, 1000.0, 2000.0, 2000.0, 2000.0]
    more = dif_mantel_haenszel(extra_x, extra_focal, matching=extra_matching)

    for b, m in zip(base, more, strict=True):
        assert (m.alpha, m.chi2, m.se_delta, m.category, m.n_strata) == (
            b.alpha,
            b.chi2,
            b.se_delta,
            b.category,
            b.n_strata,
        )
        assert (m.n_reference, m.n_focal) == (b.n_reference + 3, b.n_focal + 1)


def test_items_without_information_are_nan_and_negligible():
    x, focal = simulate(10, n_persons=600, missing=0.0)
    x[focal, 0] = np.nan  # item 0 never presented to the focal group
    x[:, 1] = 1.0  # item 1 answered correctly by everybody

    results = dif_mantel_haenszel(x, focal)

    for r in results[:2]:
        assert all(math.isnan(v) for v in (r.alpha, r.delta, r.se_delta, r.chi2, r.p))
        assert r.category == "A"
    assert results[0].n_focal == 0
    assert results[0].n_strata == 0
    assert results[1].n_strata > 0
    assert not math.isnan(results[2].alpha)


def test_a_single_stratum_of_only_single_persons_is_no_information():
    x = np.array([[1.0], [0.0]])
    r = dif_mantel_haenszel(x, [True, False], matching=[0.0, 1.0])[0]
    assert math.isnan(r.alpha) and r.category == "A" and r.n_strata == 0


def test_complete_separation_gives_infinite_delta_but_never_category_c():
    # Every reference member right and every focal member wrong, at the same score.
    x = np.r_[np.ones(20), np.zeros(20)][:, None]
    focal = np.r_[np.zeros(20, bool), np.ones(20, bool)]

    r = dif_mantel_haenszel(x, focal, matching=np.zeros(40))[0]

    assert r.alpha == math.inf
    assert r.delta == -math.inf
    assert not math.isfinite(r.se_delta)
    assert r.p < 1e-6
    assert r.category == "B"


def test_continuity_correction_never_overshoots_the_difference():
    # One stratum, each group one right and one wrong: A equals its expectation exactly.
    x = np.array([[1.0], [0.0], [1.0], [0.0]])
    focal = np.array([False, False, True, True])

    r = dif_mantel_haenszel(x, focal, matching=np.zeros(4))[0]

    assert r.alpha == 1.0
    assert r.chi2 == 0.0
    assert r.p == 1.0
    # statsmodels subtracts the full 1/2 and reports a positive statistic here.
    table = StratifiedTable([np.array([[1.0, 1.0], [1.0, 1.0]])])
    assert table.test_null_odds(correction=True).statistic > 0


def expected_category(delta, se, p):
    """The ETS rule written out, with the interval test as a noncentral chi-square."""
    if not p < 0.05 or abs(delta) < 1.0:
        return "A"
    # Paek & Holland (2015): H0 |true delta| <= 1; (delta / se)^2 is noncentral chi-square
    # with 1 df and noncentrality (1 / se)^2 at the boundary.
    p_interval = ncx2.sf((delta / se) ** 2, 1, (1.0 / se) ** 2)
    if abs(delta) >= 1.5 and p_interval < 0.05:
        return "C"
    return "B"


def test_ets_rule_agrees_with_the_noncentral_chi_square_form_of_the_interval_test():
    rng = np.random.default_rng(4)
    seen = set()
    for _ in range(3000):
        delta = rng.uniform(-3.5, 3.5)
        se = rng.uniform(0.05, 0.8)
        p = rng.choice([0.001, 0.03, 0.049, 0.051, 0.2])
        expected = expected_category(delta, se, p)
        assert ets_category(delta, se, p) == expected, (delta, se, p)
        seen.add(expected)
    assert seen == {"A", "B", "C"}


@pytest.mark.parametrize(
    ("delta", "se", "p", "category"),
    [
        (-0.99, 0.01, 1e-9, "A"),  # significant but below 1
        (-1.0, 0.01, 1e-9, "B"),  # |delta| = 1 is no longer negligible
        (2.5, 0.1, 0.05, "A"),  # p = .05 is not significant at .05
        (2.5, 0.1, 0.0499, "C"),
        (-1.49, 0.01, 1e-9, "B"),  # below 1.5 however precise
        (-1.5, 0.01, 1e-9, "C"),
        (1.6, 0.4, 1e-9, "B"),  # (1.6 - 1) / 0.4 = 1.5 < 1.645: not significantly above 1
        (1.7, 0.4, 1e-9, "C"),  # (1.7 - 1) / 0.4 = 1.75
        # (4.33 - 1) / 2 = 1.665 passes the one-sided z test alone, but with a standard error
        # this large the lower tail adds 0.004 and the exact interval test fails.
        (4.33, 2.0, 1e-9, "B"),
        (math.nan, math.nan, math.nan, "A"),
        (math.inf, math.nan, 1e-9, "B"),
    ],
)
def test_ets_category_boundaries(delta, se, p, category):
    assert ets_category(delta, se, p) == category


def test_counting_in_small_blocks_gives_the_same_result(monkeypatch):
    x, focal = simulate(13, n_persons=700)
    whole = dif_mantel_haenszel(x, focal)
    monkeypatch.setattr(dif, "_BLOCK_CELLS", 1000)  # 1 column and 33 rows per block
    assert dif_mantel_haenszel(x, focal) == whole


def test_integer_boolean_and_single_precision_responses_are_accepted():
    x, focal = simulate(14, n_persons=700, missing=0.0)
    as_float = dif_mantel_haenszel(x, focal)
    assert dif_mantel_haenszel(x.astype(int), focal.astype(int)) == as_float
    assert dif_mantel_haenszel(x.astype(bool), list(focal)) == as_float
    x32 = x.astype(np.float32)
    x32[0, 0] = np.nan
    x64 = x32.astype(float)
    assert dif_mantel_haenszel(x32, focal) == dif_mantel_haenszel(x64, focal)


def test_results_are_immutable():
    x, focal = simulate(15, n_persons=200, missing=0.0)
    r = dif_mantel_haenszel(x, focal)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.category = "C"


@pytest.mark.parametrize(
    ("responses", "focal", "kwargs", "message"),
    [
        ([1.0, 0.0], [True, False], {}, "persons x items array"),
        (np.empty((0, 3)), [], {}, "at least one person and one item"),
        ([[1.0, 2.0], [0.0, 1.0]], [True, False], {}, "person 0, item 1 has 2.0"),
        ([[1.0, 0.0], [-1.0, 1.0]], [True, False], {}, "person 1, item 0 has -1.0"),
        ([[1.0, 0.0], [math.inf, 1.0]], [True, False], {}, "1 \\(correct\\), 0 \\(wrong\\) or NaN"),
        ([["a"], ["b"]], [True, False], {}, "responses must be numbers"),
        ([[1.0], [0.0]], [True], {}, "one value per person \\(2\\)"),
        ([[1.0], [0.0]], [1, 2], {}, "True \\(focal group\\) or False"),
        ([[1.0], [0.0]], ["x", "y"], {}, "True \\(focal group\\) or False"),
        ([[1.0], [0.0]], [True, True], {}, "both groups need members"),
        ([[1.0], [0.0]], [0, 0], {}, "both groups need members"),
        ([[1.0], [0.0]], [True, False], {"matching": [1.0]}, "matching must hold one value"),
        ([[1.0], [0.0]], [True, False], {"matching": [1.0, math.nan]}, "must be finite"),
        ([[1.0], [0.0]], [True, False], {"matching": ["a", "b"]}, "one number per person"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(responses, focal, kwargs, message):
    with pytest.raises(ValueError, match=message):
        dif_mantel_haenszel(responses, focal, **kwargs)
