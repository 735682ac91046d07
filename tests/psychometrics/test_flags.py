"""The flag rules an instructor reads: each fires exactly at its documented threshold."""

from psychometrics import flags as f


def codes(**values):
    values.setdefault("n_responses", 500)
    return [flag.code for flag in f.item_flags(**values)]


def test_a_well_behaved_item_has_no_flags():
    assert codes(p=0.6, item_rest=0.35, infit=1.0, outfit=1.05) == []


def test_too_easy_above_95_percent_and_too_hard_below_25():
    assert codes(p=0.96) == [f.TOO_EASY]
    assert codes(p=0.95) == []
    assert codes(p=0.24) == [f.TOO_HARD]
    assert codes(p=0.25) == []


def test_weak_and_negative_discrimination_are_told_apart():
    assert codes(item_rest=0.09) == [f.WEAK_DISCRIMINATION]
    assert codes(item_rest=0.10) == []
    assert codes(item_rest=-0.05) == [f.NEGATIVE_DISCRIMINATION]


def test_a_distractor_chosen_more_by_the_upper_group_is_flagged_the_key_never():
    flags = f.item_flags(
        n_responses=500,
        key="B",
        option_rates_upper={"A": 0.10, "B": 0.85, "C": 0.05},
        option_rates_lower={"A": 0.05, "B": 0.40, "C": 0.30},
    )
    assert [x.code for x in flags] == [f.DISTRACTOR]
    assert "Distractor A" in flags[0].message and "10%" in flags[0].message


def test_poor_fit_outside_0_7_to_1_3_names_the_statistic():
    assert codes(infit=1.0, outfit=1.3) == []
    (flag,) = f.item_flags(n_responses=500, infit=0.65, outfit=1.0)
    assert flag.code == f.POOR_FIT and "infit 0.65" in flag.message
    assert codes(infit=1.0, outfit=1.45) == [f.POOR_FIT]


def test_fewer_responses_than_needed():
    assert codes(n_responses=99) == [f.TOO_FEW_RESPONSES]
    assert codes(n_responses=100) == []


def test_missing_statistics_break_no_rule():
    assert codes(p=None, item_rest=float("nan"), infit=None, outfit=None) == []


def test_thresholds_come_from_settings_overrides():
    assert codes(p=0.9, rules={"too_easy_p": 0.85}) == [f.TOO_EASY]
    assert codes(n_responses=150, rules={"min_responses": 200}) == [f.TOO_FEW_RESPONSES]


def test_weak_discrimination_does_not_block_promotion_but_negative_does():
    weak = f.item_flags(n_responses=500, item_rest=0.05)
    negative = f.item_flags(n_responses=500, item_rest=-0.2)
    assert f.blocking(weak) == []
    assert [x.code for x in f.blocking(negative)] == [f.NEGATIVE_DISCRIMINATION]
    assert f.blocking([x.as_dict() for x in negative]) == [x.as_dict() for x in negative]


def test_multiple_response_distractors_are_judged_option_by_option():
    from itemanalysis.services import statistic_flags

    row = {
        "n_responses": 500,
        "p": 0.5,
        "item_rest": 0.3,
        "infit": None,
        "outfit": None,
        "key": "A+C",
        # The combination B+C is chosen more by the upper group, but option B overall is not.
        "option_rates_upper": {"A+C": 0.7, "B+C": 0.2, "A+B": 0.0, "C+D": 0.1},
        "option_rates_lower": {"A+C": 0.3, "B+C": 0.1, "A+B": 0.3, "C+D": 0.3},
    }
    assert [f.code for f in statistic_flags(row)] == []
    row["option_rates_upper"] = {"A+C": 0.5, "A+D": 0.5}
    row["option_rates_lower"] = {"A+C": 0.8, "A+D": 0.2}
    (flag,) = statistic_flags(row)
    assert flag.code == f.DISTRACTOR and "Distractor D" in flag.message
