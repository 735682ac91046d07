import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from psychometrics.scale import (
    angoff_cut,
    conversion_table,
    raw_passing_score,
    round_half_up,
    scaled_score,
)

nan = float("nan")


# --- Angoff ---------------------------------------------------------------------------


def test_angoff_cut_is_mean_of_judge_sums():
    ratings = [[0.6, 0.7, 0.5], [0.8, 0.5, 0.7]]
    # judge sums 1.8 and 2.0
    assert angoff_cut(ratings) == pytest.approx(1.9)


def test_angoff_cut_fills_missing_ratings_with_item_mean_of_other_judges():
    ratings = [
        [0.6, 0.7, nan, 0.5],
        [0.8, 0.5, 0.4, 0.7],
        [0.7, 0.6, 0.6, nan],
    ]
    # judge 1 misses item 2 -> (0.4 + 0.6) / 2 = 0.5; sum 0.6 + 0.7 + 0.5 + 0.5 = 2.3
    # judge 2 sum 2.4
    # judge 3 misses item 3 -> (0.5 + 0.7) / 2 = 0.6; sum 0.7 + 0.6 + 0.6 + 0.6 = 2.5
    assert angoff_cut(ratings) == pytest.approx(2.4)


def test_angoff_judge_who_rated_nothing_has_no_influence():
    rated = [[0.6, 0.7, 0.5], [0.8, 0.5, 0.7]]
    assert angoff_cut([*rated, [nan, nan, nan]]) == pytest.approx(angoff_cut(rated))


@pytest.mark.parametrize("bad", [1.2, -0.1, math.inf])
def test_angoff_rating_outside_unit_interval_is_rejected(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        angoff_cut([[0.5, bad], [0.5, 0.5]])


def test_angoff_item_nobody_rated_is_rejected_by_index():
    with pytest.raises(ValueError, match="item 1 "):
        angoff_cut([[0.5, nan, 0.5], [0.6, nan, 0.4]])


@pytest.mark.parametrize("empty", [[], [[]], np.empty((3, 0)), np.empty((0, 4))])
def test_angoff_empty_is_rejected(empty):
    with pytest.raises(ValueError, match="no Angoff ratings"):
        angoff_cut(empty)


def test_angoff_one_dimensional_is_rejected():
    with pytest.raises(ValueError, match="2-D"):
        angoff_cut([0.5, 0.6])


# --- raw passing score and rounding -----------------------------------------------------


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (57.0, 57),
        (57.2, 58),
        (57.00000000001, 57),  # summation noise, not a real excess over 57
        (56.99999999999, 57),
        (57.000001, 58),  # a real (if small) excess is honoured
    ],
)
def test_raw_passing_score_tolerates_float_noise(cut, expected):
    assert raw_passing_score(cut) == expected


def test_raw_passing_score_of_summed_ratings_is_not_pushed_up_by_noise():
    cut = angoff_cut([[0.1] * 570])  # 0.1 summed 570 times is not exactly 57.0
    assert cut != 57.0
    assert raw_passing_score(cut) == 57


def test_round_half_up_is_not_bankers_rounding():
    assert [round_half_up(x) for x in (112.5, 162.5, 137.5, 112.49, 0.5)] == [
        113,
        163,
        138,
        112,
        1,
    ]


# --- conversion tables ----------------------------------------------------------------


def test_conversion_table_hand_computed_with_half_up_rounding():
    # Raw passing score 16: below it 200/16 = 12.5 scaled points per raw point, so raw 1
    # is 112.5 -> 113 (banker's rounding would give 112) and raw 5 is 162.5 -> 163 (not
    # 162). Above it 100/4 = 25 points per raw point.
    table = conversion_table(20, 15.2)
    assert table == [
        100, 113, 125, 138, 150, 163, 175, 188, 200, 213, 225, 238, 250, 263, 275, 288,
        300, 325, 350, 375, 400,
    ]  # fmt: skip


def test_conversion_table_never_shows_pass_below_raw_passing_score():
    # Raw passing score 400: raw 399 lies at 100 + 200 * 399 / 400 = 299.5 on the line,
    # which half-up rounding would turn into a pass; it is clamped to 299.
    table = conversion_table(500, 399.5)
    assert table[398] == 299
    assert table[399] == 299
    assert table[400] == 300


def test_conversion_table_custom_scale():
    assert conversion_table(4, 2, low=0, passing=70, high=100) == [0, 35, 70, 85, 100]


def test_cut_within_last_raw_point_keeps_high_at_the_top():
    # ceil(9.5) == 10 == max_raw: 300 at raw 10 would conflict with 400 at raw 10. The
    # top keeps 400 (the one passing score); the lower segment still aims at (10, 300).
    table = conversion_table(10, 9.5)
    assert table == [100, 120, 140, 160, 180, 200, 220, 240, 260, 280, 400]


@pytest.mark.parametrize("cut", [0, -1, 10, 10.5, 1e-12, 10 - 1e-12, math.nan, math.inf])
def test_cut_outside_open_interval_is_rejected(cut):
    with pytest.raises(ValueError):
        conversion_table(10, cut)


@pytest.mark.parametrize("max_raw", [0, -3, 9.5])
def test_bad_max_raw_is_rejected(max_raw):
    with pytest.raises(ValueError):
        conversion_table(max_raw, 0.5)


def test_bad_scale_anchors_are_rejected():
    with pytest.raises(ValueError, match="low < passing < high"):
        conversion_table(10, 5, low=300, passing=300, high=400)


@st.composite
def forms(draw):
    max_raw = draw(st.integers(10, 150))
    cut = draw(
        st.one_of(
            st.floats(0.001, max_raw - 0.001),
            st.integers(1, max_raw - 1).map(float),
        )
    )
    return max_raw, cut


@given(forms())
def test_conversion_table_properties(form):
    max_raw, cut = form
    table = conversion_table(max_raw, cut)
    p = raw_passing_score(cut)
    # the smallest whole score >= cut, save for cuts within the 1e-9 noise tolerance
    assert p == math.ceil(cut) or abs(cut - round(cut)) < 1e-9
    assert len(table) == max_raw + 1
    assert table[0] == 100
    assert table[-1] == 400
    assert all(a <= b for a, b in zip(table, table[1:], strict=False))
    assert all(s < 300 for s in table[:p])
    assert all(s >= 300 for s in table[p:])
    if p < max_raw:
        assert table[p] == 300
    assert all(isinstance(s, int) for s in table)


@given(forms(), st.floats(0, 1))
def test_scaled_score_of_fractional_raw_passes_iff_at_or_above_cut(form, u):
    max_raw, cut = form
    x = u * max_raw
    assume(abs(x - cut) > 1e-8)
    s = scaled_score(x, max_raw=max_raw, cut=cut)
    assert 100 <= s <= 400
    assert (s >= 300) == (x >= cut)
