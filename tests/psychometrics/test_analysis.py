"""Classical item analysis: definitions checked against direct computation and LSAT-6.

LSAT-6 (Bock & Lieberman 1970; ltm's ``LSAT``, psych's ``lsat6``; see
data/lsat6_patterns.csv): the item means 0.924, 0.709, 0.553, 0.763, 0.870 are the ones
R prints for psych's lsat6 (summary() output in github.com/psygrammer/dsur,
sp_irt/irt.md). The correlations and KR-20 are checked against their
definitions computed independently here (np.corrcoef, the KR-20 formula on the reduced
matrix); no published table of them for a data set we could ship was found.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from psychometrics.analysis import ItemAnalysis, item_analysis

DATA = Path(__file__).parent / "data"


def lsat() -> np.ndarray:
    lines = (DATA / "lsat6_patterns.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines if line and not line.startswith("#")][1:]
    table = np.array(rows, dtype=int)
    return np.repeat(table[:, :-1], table[:, -1], axis=0).astype(float)


def simulated(n=2000, k=20, seed=1):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    b = np.linspace(-1.5, 1.5, k)
    return (rng.random((n, k)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(float)


def kr20(x: np.ndarray) -> float:
    k = x.shape[1]
    p = x.mean(axis=0)
    return k / (k - 1) * (1 - np.sum(p * (1 - p)) / x.sum(axis=1).var())


def test_lsat_p_values_total_and_reliability():
    x = lsat()
    a = item_analysis(x)
    assert (a.n_persons, a.n_items) == (1000, 5)
    np.testing.assert_allclose(a.p, [0.924, 0.709, 0.553, 0.763, 0.870])
    assert a.mean == pytest.approx(3.819)
    assert a.sd == pytest.approx(x.sum(axis=1).std(ddof=0))
    assert a.kr20 == pytest.approx(kr20(x))
    assert a.sem == pytest.approx(a.sd * np.sqrt(1 - a.kr20))


def test_correlations_follow_their_definitions():
    x = simulated()
    a = item_analysis(x)
    total = x.sum(axis=1)
    for j in range(x.shape[1]):
        assert a.point_biserial[j] == pytest.approx(np.corrcoef(x[:, j], total)[0, 1])
        assert a.item_rest[j] == pytest.approx(np.corrcoef(x[:, j], total - x[:, j])[0, 1])
    assert np.all(a.item_rest < a.point_biserial)


def test_kr20_if_deleted_is_kr20_of_the_remaining_items():
    x = simulated(k=8)
    a = item_analysis(x)
    for j in range(8):
        assert a.kr20_if_deleted[j] == pytest.approx(kr20(np.delete(x, j, axis=1)))


def test_items_hurting_reliability_are_listed_worst_first():
    x = simulated(k=15, seed=2)
    rng = np.random.default_rng(3)
    x[:, 4] = 1 - x[:, 4]  # miskeyed: negatively related to the rest
    x[:, 9] = (rng.random(len(x)) < 0.5).astype(float)  # pure noise
    a = item_analysis(x)
    hurting = a.items_hurting_reliability()
    assert hurting[:2] == [4, 9]
    assert a.item_rest[4] < 0


def test_zero_variance_items_have_nan_correlations_without_warnings():
    x = simulated(k=6)
    x[:, 2] = 1.0
    x[:, 3] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = item_analysis(x)
    assert np.isnan(a.point_biserial[[2, 3]]).all() and np.isnan(a.item_rest[[2, 3]]).all()
    assert np.isfinite(a.point_biserial[[0, 1, 4, 5]]).all()
    # A constant item adds no variance: KR-20 uses k = 6 but the variance sum ignores it.
    assert a.p[2] == 1.0 and a.p[3] == 0.0
    assert np.isfinite(a.kr20)


def test_constant_total_gives_nan_statistics_not_errors():
    x = np.tile([1.0, 0.0, 1.0], (10, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = item_analysis(x)
    assert np.isnan(a.kr20) and np.isnan(a.sem) and a.sd == 0.0
    assert np.isnan(a.point_biserial).all() and np.isnan(a.item_rest).all()


def test_partial_credit_scores_give_coefficient_alpha():
    rng = np.random.default_rng(4)
    x = simulated(k=10)
    x[:, 0] = np.round(rng.random(len(x)) * 2) / 2  # an item scored 0, 0.5 or 1
    a = item_analysis(x)
    k = 10
    alpha = k / (k - 1) * (1 - x.var(axis=0).sum() / x.sum(axis=1).var())
    assert a.kr20 == pytest.approx(alpha)


def test_upper_and_lower_groups_hold_27_percent_with_ties_shared():
    # 100 persons, totals 0..9 ten times each: the top 27 are the 20 with 8-9 plus 7 of
    # the 10 with a total of 7, each of those counted with weight 0.7.
    totals = np.repeat(np.arange(10), 10)
    x = (np.arange(9)[None, :] < totals[:, None]).astype(float)
    a = item_analysis(x)
    # Item 7 is right only for totals 8 and 9 (all of the upper group's full members).
    assert a.p_upper[7] == pytest.approx(20 / 27)
    # Lower group: totals 0 and 1 in full, 2 with weight 0.7; item 0 is right for 1 and 2.
    assert a.p_lower[0] == pytest.approx((10 + 10 * 0.7) / 27)
    assert a.discrimination_index[4] == pytest.approx(a.p_upper[4] - a.p_lower[4])


def test_option_rates_by_group_and_flagged_distractors():
    x = simulated(n=3000, k=5, seed=5)
    rng = np.random.default_rng(6)
    total = x.sum(axis=1)
    choices = np.empty(x.shape, dtype=object)
    for j in range(5):
        wrong = rng.choice(["B", "C", "D"], size=len(x))
        choices[:, j] = np.where(x[:, j] == 1, "A", wrong)
    # On item 0, distractor 'D' attracts strong candidates (a second defensible answer).
    strong_wrong = (x[:, 0] == 0) & (total >= 3)
    choices[strong_wrong, 0] = "D"
    weak_wrong = (x[:, 0] == 0) & ~strong_wrong
    choices[weak_wrong, 0] = rng.choice(["B", "C"], size=int(weak_wrong.sum()))
    choices[:10, 1] = None  # omitted

    a = item_analysis(x, choices=choices, keys=["A"] * 5)
    assert set(a.option_rates[0]) <= {"A", "B", "C", "D"}
    assert a.option_rates[0]["A"] == pytest.approx(x[:, 0].mean())
    assert sum(a.option_rates[1].values()) == pytest.approx(1 - 10 / len(x))
    assert "D" in a.flagged_distractors[0]
    assert a.flagged_distractors[2] == []
    for j in (0, 2, 3, 4):  # (item 1's omissions were taken from right answers too)
        assert a.option_rates_upper[j]["A"] == pytest.approx(a.p_upper[j])
        assert a.option_rates_lower[j]["A"] == pytest.approx(a.p_lower[j])


def test_multiple_response_choices_as_sets_and_integer_choices():
    x = np.array([[1, 1], [0, 1], [1, 0], [0, 0]], dtype=float)
    choices = np.empty((4, 2), dtype=object)
    choices[:, 0] = [frozenset("AC"), frozenset("A"), {"C", "A"}, None]
    choices[:, 1] = [2, 2, 0, 1]
    a = item_analysis(x, choices=choices, keys=[frozenset("AC"), 2])
    assert a.option_rates[0] == {frozenset("AC"): 0.5, frozenset("A"): 0.25}
    assert a.option_rates[1] == {2: 0.5, 0: 0.25, 1: 0.25}
    ints = item_analysis(x, choices=np.array([[0, 2], [1, 2], [0, 0], [3, 1]]))
    assert ints.option_rates[0] == {0: 0.5, 1: 0.25, 3: 0.25}
    assert ints.flagged_distractors is None


def test_a_key_nobody_chose_is_still_listed():
    x = np.zeros((4, 1))
    a = item_analysis(x, choices=np.array([["B"], ["C"], ["B"], ["D"]]), keys=["A"])
    assert a.option_rates[0]["A"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"responses": [[1.0, np.nan]]}, "complete"),
        ({"responses": [1.0, 0.0]}, "matrix"),
        ({"responses": [[1.0, 0.0]], "keys": ["A"]}, "keys"),
        ({"responses": [[1.0, 0.0]], "choices": [["A"]]}, "shape"),
    ],
)
def test_invalid_input_is_refused(kwargs, message):
    responses = kwargs.pop("responses")
    with pytest.raises(ValueError, match=message):
        item_analysis(responses, **kwargs)


def test_result_is_a_frozen_record():
    a = item_analysis(simulated(n=50, k=4))
    assert isinstance(a, ItemAnalysis)
    with pytest.raises(AttributeError):
        a.kr20 = 1.0  # type: ignore[misc]
