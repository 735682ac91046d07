"""Mean-mean Rasch linking with drift screening, checked against planted shifts and drifts."""

import dataclasses
import math
import statistics

import numpy as np
import pytest

from psychometrics.linking import link_rasch


def simulated_calibrations(seed, *, n_anchors=30, shift=0.8, noise=0.05, drifts=None):
    """Reference difficulties and a new calibration on a scale moved by -shift.

    ``drifts`` maps anchor index -> logits that anchor's difficulty really moved.
    """
    rng = np.random.default_rng(seed)
    b_ref = rng.normal(0.0, 1.0, n_anchors)
    b_new = b_ref - shift + rng.normal(0.0, noise, n_anchors)
    for index, drift in (drifts or {}).items():
        b_new[index] += drift
    return b_ref, b_new


@pytest.mark.parametrize("seed", range(10))
def test_planted_drifting_anchors_are_dropped_and_the_shift_recovered(seed):
    planted = {3: 0.9, 11: -0.7, 25: 0.6}
    b_ref, b_new = simulated_calibrations(seed, shift=0.8, drifts=planted)

    link = link_rasch(b_ref, b_new)

    assert sorted(link.dropped) == sorted(planted)
    assert link.kept == tuple(i for i in range(30) if i not in planted)
    # 27 anchors with calibration noise 0.05: the shift is within a few hundredths.
    assert link.shift == pytest.approx(0.8, abs=0.04)
    assert abs(link.shift - 0.8) < 4 * link.linking_error
    assert not link.stopped_at_floor


def test_without_noise_or_drift_the_shift_is_exact_and_nothing_is_dropped():
    b_ref = np.array([-1.5, -0.2, 0.0, 0.7, 2.1])
    link = link_rasch(b_ref, b_ref - 1.25)

    assert link.shift == pytest.approx(1.25, abs=1e-12)
    assert link.dropped == ()
    assert link.kept == (0, 1, 2, 3, 4)
    np.testing.assert_allclose(link.displacements, 0.0, atol=1e-12)
    assert link.linking_error == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(link.on_reference_scale(b_ref - 1.25), b_ref, atol=1e-12)


def test_shift_is_the_mean_difference_over_kept_anchors_and_displacements_cover_all_anchors():
    b_ref, b_new = simulated_calibrations(7, n_anchors=12, drifts={5: 1.5})
    link = link_rasch(b_ref, b_new)

    kept = list(link.kept)
    assert link.dropped == (5,)
    assert link.shift == pytest.approx(statistics.fmean(b_ref[kept] - b_new[kept]), abs=1e-12)
    np.testing.assert_allclose(link.displacements, b_new + link.shift - b_ref, atol=1e-12)
    assert link.displacements[5] == pytest.approx(1.5, abs=0.1)
    expected_error = statistics.stdev(link.displacements[kept]) / math.sqrt(len(kept))
    assert link.linking_error == pytest.approx(expected_error, rel=1e-12)


def test_one_large_drift_does_not_take_sound_anchors_with_it():
    # With all five anchors the drift of 3 logits moves the shift by 0.6, so every sound
    # anchor looks displaced by 0.6 (> 0.3); only re-linking after each drop tells them apart.
    b_ref = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    b_new = b_ref.copy()
    b_new[2] += 3.0

    link = link_rasch(b_ref, b_new)

    assert link.dropped == (2,)
    assert link.shift == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(np.delete(link.displacements, 2), 0.0, atol=1e-12)
    assert link.displacements[2] == pytest.approx(3.0)


def test_displacement_equal_to_the_threshold_is_kept():
    # Exactly representable: shift -0.125, displacement of the last anchor exactly 0.5.
    link = link_rasch([0.0] * 5, [0.0, 0.0, 0.0, 0.0, 0.625], drift_threshold=0.5)
    assert link.displacements[4] == 0.5
    assert link.dropped == ()

    link = link_rasch([0.0] * 5, [0.0, 0.0, 0.0, 0.0, 0.625], drift_threshold=0.4999)
    assert link.dropped == (4,)


def test_ties_drop_the_lower_index_first():
    b_ref = np.zeros(6)
    b_new = np.array([0.0, 1.0, 0.0, 0.0, -1.0, 0.0])  # symmetric: the shift stays 0

    link = link_rasch(b_ref, b_new)

    assert link.dropped == (1, 4)
    assert link.shift == 0.0


def test_default_floor_keeps_half_of_the_anchors_and_says_so():
    b_ref = np.zeros(4)
    b_new = np.array([0.0, 2.0, -3.0, 6.0])

    link = link_rasch(b_ref, b_new)

    assert link.min_kept == 2
    assert len(link.kept) == 2
    assert link.dropped == (3, 2)
    assert link.stopped_at_floor
    # What remains still drifts: the caller can see it.
    assert np.abs(link.displacements[list(link.kept)]).max() > link.drift_threshold


def test_default_floor_rounds_half_up_for_odd_anchor_counts():
    b_ref = np.zeros(5)
    b_new = np.array([0.0, 4.0, -3.0, 2.0, 1.0])
    link = link_rasch(b_ref, b_new)
    assert link.min_kept == 3
    assert len(link.kept) == 3
    assert link.stopped_at_floor


def test_explicit_floor_can_be_higher_or_as_low_as_two():
    b_ref, b_new = simulated_calibrations(3, n_anchors=8, drifts={0: 1.0, 1: -1.2, 2: 0.9})

    strict = link_rasch(b_ref, b_new, min_kept=7)
    assert len(strict.dropped) == 1
    assert strict.stopped_at_floor

    loose = link_rasch(b_ref, b_new, min_kept=2)
    assert sorted(loose.dropped) == [0, 1, 2]
    assert not loose.stopped_at_floor


def test_two_anchors_are_never_reduced_to_one():
    link = link_rasch([0.0, 0.0], [0.0, 5.0])
    assert link.kept == (0, 1)
    assert link.dropped == ()
    assert link.stopped_at_floor
    assert link.shift == -2.5


def test_an_infinite_threshold_turns_the_screening_off():
    b_ref, b_new = simulated_calibrations(1, drifts={0: 4.0})
    link = link_rasch(b_ref, b_new, drift_threshold=math.inf)
    assert link.dropped == ()
    assert link.shift == pytest.approx(np.mean(b_ref - b_new), abs=1e-12)


def test_result_is_immutable():
    link = link_rasch([0.0, 1.0, 2.0], [0.1, 1.1, 2.1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        link.shift = 0.0
    with pytest.raises(ValueError):
        link.displacements[0] = 1.0


@pytest.mark.parametrize(
    ("b_ref", "b_new", "kwargs", "message"),
    [
        ([0.0, 1.0, 2.0], [0.0, 1.0], {}, "one value per anchor: got 3 and 2"),
        ([0.0], [0.0], {}, "at least 2 anchors, got 1"),
        ([], [], {}, "at least 2 anchors, got 0"),
        ([0.0, math.nan], [0.0, 1.0], {}, "b_ref must be finite; anchor 1 is nan"),
        ([0.0, 1.0], [math.inf, 1.0], {}, "b_new must be finite; anchor 0 is inf"),
        ([[0.0, 1.0]], [[0.0, 1.0]], {}, "b_ref must be one-dimensional"),
        (["a", "b"], [0.0, 1.0], {}, "b_ref must be a sequence of numbers"),
        ([0.0, 1.0], [0.0, 1.0], {"drift_threshold": 0.0}, "drift_threshold must be positive"),
        ([0.0, 1.0], [0.0, 1.0], {"drift_threshold": -0.3}, "drift_threshold must be positive"),
        ([0.0, 1.0], [0.0, 1.0], {"drift_threshold": math.nan}, "drift_threshold must be positive"),
        (
            [0.0, 1.0, 2.0],
            [0.0, 1.0, 2.0],
            {"min_kept": 1},
            "between 2 and the number of anchors \\(3\\)",
        ),
        ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], {"min_kept": 4}, "between 2 and the number of anchors"),
        ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], {"min_kept": 2.5}, "min_kept must be an integer"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(b_ref, b_new, kwargs, message):
    with pytest.raises(ValueError, match=message):
        link_rasch(b_ref, b_new, **kwargs)


# --- link_forms: chaining separately calibrated forms ------------------------------------
def test_link_forms_without_a_reference_takes_the_first_form_as_the_scale():
    from psychometrics.linking import FormCalibration, link_forms

    a = FormCalibration("A", ["x", "y", "z", "a1"], [0.0, 1.0, -1.0, 0.5])
    # B saw x, y, z shifted by +2 (its own origin) and its own item b1.
    b = FormCalibration("B", ["x", "y", "z", "b1"], [2.0, 3.0, 1.0, 2.7])
    linked = link_forms([a, b])
    assert linked.origin == "A"
    (link,) = linked.links
    assert link.shift == pytest.approx(-2.0) and link.dropped == ()
    assert linked.difficulties["b1"] == pytest.approx(0.7)
    assert linked.placed_by == {"x": "A", "y": "A", "z": "A", "a1": "A", "b1": "B"}


def test_link_forms_chains_through_a_middle_form_and_reports_the_unconnected():
    from psychometrics.linking import FormCalibration, link_forms

    forms = [
        FormCalibration("A", ["p", "q", "r"], [0.0, 1.0, 2.0]),
        FormCalibration("C", ["s", "t", "u"], [0.0, 0.5, 1.0]),  # shares with B only
        FormCalibration("B", ["q", "r", "s", "t"], [0.0, 1.0, 2.0, 2.5]),
        FormCalibration("D", ["v", "w"], [0.0, 1.0]),  # shares nothing
    ]
    linked = link_forms(forms)
    assert [link.key for link in linked.links] == ["B", "C"]
    assert linked.difficulties["s"] == pytest.approx(3.0)
    assert linked.difficulties["u"] == pytest.approx(4.0)
    assert linked.unlinked == [("D", 0)]


def test_link_forms_drops_a_drifting_anchor_and_keeps_its_first_value():
    from psychometrics.linking import FormCalibration, link_forms

    anchors = [f"a{i}" for i in range(6)]
    base = [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]
    moved = [b + 0.4 for b in base]
    moved[2] += 1.0  # drift
    linked = link_forms(
        [
            FormCalibration("A", anchors, base),
            FormCalibration("B", [*anchors, "new"], [*moved, 0.9]),
        ]
    )
    (link,) = linked.links
    assert [item for item, _ in link.dropped] == ["a2"]
    assert link.shift == pytest.approx(-0.4)
    assert linked.difficulties["a2"] == 0.0
    assert linked.difficulties["new"] == pytest.approx(0.5)


def test_link_forms_with_a_reference_puts_fresh_values_on_the_old_scale():
    from psychometrics.linking import FormCalibration, link_forms

    reference = {"x": 1.0, "y": 2.0, "z": 3.0}
    linked = link_forms(
        [FormCalibration("A", ["x", "y", "z", "n"], [-1.1, 0.0, 1.1, 0.5])], reference=reference
    )
    assert linked.origin is None
    assert linked.links[0].shift == pytest.approx(2.0)
    assert linked.difficulties["x"] == pytest.approx(0.9)
    assert linked.difficulties["n"] == pytest.approx(2.5)
