"""Scoring one item response.

Pure Python (no Django): the service layer passes in what the candidate selected and the
item version's keys, and stores the returned score on the response.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

SINGLE = "single"
MULTIPLE = "multiple"
# Select all that apply: like multiple response, but the candidate is not told how many
# options are keys, so any number may be chosen.
SELECT_ALL = "select_all"
KINDS = (SINGLE, MULTIPLE, SELECT_ALL)


def _as_set(value: Iterable[Hashable] | Hashable | None) -> frozenset[Hashable]:
    """Normalise keys or a selection to a set of option identifiers.

    A bare string or int is one identifier, not an iterable of characters: iterating "AB"
    would silently turn one option id into two. ``None`` is an unanswered item. Identifiers
    compare by equality, so "1" and 1 are different options; the caller keeps them
    consistent.
    """
    if value is None:
        return frozenset()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return frozenset([value])
    return frozenset(value)


def score_item(
    kind: str,
    keys: Iterable[Hashable] | Hashable,
    selection: Iterable[Hashable] | Hashable | None,
    *,
    partial: bool = False,
) -> float:
    """Score one response; returns a value in [0, 1].

    ``kind`` is ``"single"`` (multiple choice, exactly one key), ``"multiple"`` (multiple
    response, the stem says how many) or ``"select_all"`` (select all that apply, the count
    not stated). A selection scores 1.0 only when it is exactly the key set; duplicates in
    the selection count once, and an empty selection scores 0.

    ``partial=True`` applies to multiple-response and select-all items: the score is
    ``(keys chosen - wrong options chosen) / number of keys``, floored at 0. Subtracting
    wrong choices is what keeps partial credit honest: without it, ticking every option
    would earn full credit (which matters most for select all that apply, where the page
    lets a candidate tick every option). For a single-key item the formula reduces to 1/0
    anyway, so the flag is ignored there.

    Raises ``ValueError`` for an unknown kind, an empty key set, or a ``"single"`` item
    whose key set is not exactly one option (an authoring error that must not be scored
    silently).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown item kind {kind!r}; expected one of {KINDS}")
    key_set = _as_set(keys)
    chosen = _as_set(selection)
    if not key_set:
        raise ValueError("an item must have at least one key")
    if kind == SINGLE and len(key_set) != 1:
        raise ValueError(f"a 'single' item must have exactly one key, got {len(key_set)}")

    if chosen == key_set:
        return 1.0
    if kind == SINGLE or not partial or not chosen:
        return 0.0
    right = len(chosen & key_set)
    wrong = len(chosen - key_set)
    return max(0.0, (right - wrong) / len(key_set))
