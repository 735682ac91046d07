import pytest

from psychometrics.items import score_item


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (["B"], 1.0),
        (["A"], 0.0),
        (["B", "B"], 1.0),  # a duplicate counts once
        (["A", "B"], 0.0),  # the key plus a distractor is not "exactly the key"
        ([], 0.0),
        (None, 0.0),
        ("B", 1.0),  # a bare identifier is one option, not a string of characters
    ],
)
def test_single_scores_one_only_for_exactly_the_key(selection, expected):
    assert score_item("single", ["B"], selection) == expected


def test_single_accepts_int_identifiers_and_ignores_partial_flag():
    assert score_item("single", [3], [3], partial=True) == 1.0
    assert score_item("single", [3], [2, 3], partial=True) == 0.0
    assert score_item("single", [3], ["3"]) == 0.0  # identifiers compare by equality


def test_multi_character_string_ids_are_not_split():
    assert score_item("single", "opt-2", ["opt-2"]) == 1.0
    assert score_item("single", ["opt-2"], "opt-2") == 1.0


@pytest.mark.parametrize(
    ("selection", "all_or_nothing", "partial"),
    [
        (["A", "C", "D"], 1.0, 1.0),
        (["D", "C", "A", "A"], 1.0, 1.0),  # order and duplicates do not matter
        (["A", "C"], 0.0, 2 / 3),
        (["A"], 0.0, 1 / 3),
        (["A", "C", "B"], 0.0, 1 / 3),  # two keys, one wrong option
        (["A", "B"], 0.0, 0.0),  # one key, one wrong option
        (["A", "B", "E"], 0.0, 0.0),  # floored at 0, never negative
        (["A", "B", "C", "D", "E"], 0.0, 1 / 3),  # ticking everything is not rewarded
        ([], 0.0, 0.0),
    ],
)
def test_multiple_response_truth_table(selection, all_or_nothing, partial):
    keys = ["A", "C", "D"]
    assert score_item("multiple", keys, selection) == pytest.approx(all_or_nothing)
    assert score_item("multiple", keys, selection, partial=True) == pytest.approx(partial)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown item kind"):
        score_item("essay", ["A"], ["A"])


def test_authoring_errors_in_keys_are_rejected():
    with pytest.raises(ValueError, match="at least one key"):
        score_item("multiple", [], ["A"])
    with pytest.raises(ValueError, match="exactly one key"):
        score_item("single", ["A", "B"], ["A"])
