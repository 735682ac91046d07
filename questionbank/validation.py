"""Content rules for an item version, shared by the services, the admin and the importer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_OPTIONS = 3
MAX_OPTIONS = 6
# How many options a candidate picks: at least one, and never every option.
MIN_CHOOSE = 1
MAX_CHOOSE = MAX_OPTIONS - 1


@dataclass(frozen=True)
class OptionData:
    text: str
    is_key: bool


def keys_of(options: Sequence[OptionData]) -> int:
    return sum(1 for option in options if option.is_key)


def normalised_choose(kind: str, choose: int, options: Sequence[OptionData]) -> int:
    """`choose` as stored: for select all that apply, the number of keys (never shown)."""
    return keys_of(options) if kind == "select_all" else choose


def content_errors(
    *,
    kind: str,
    choose: int,
    options: Sequence[OptionData],
    stem: str,
    rationale: str,
    status: str,
    partial_credit: bool = False,
) -> dict[str, list[str]]:
    """Every problem with an item's content, by field; empty when the content is valid."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not (stem or "").strip():
        add("stem", "The stem is required.")
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        add(
            "options",
            f"An item has {MIN_OPTIONS} to {MAX_OPTIONS} options; this one has {len(options)}.",
        )
    seen: dict[str, int] = {}
    for number, option in enumerate(options, start=1):
        text = " ".join((option.text or "").split()).casefold()
        if not text:
            add("options", f"Option {number} has no text.")
        elif text in seen:
            add(
                "options",
                f"Options {seen[text]} and {number} have the same text; options must be distinct.",
            )
        else:
            seen[text] = number
    keys = sum(1 for option in options if option.is_key)
    if kind == "single":
        if choose != 1:
            add("choose", "A multiple-choice item asks the candidate to choose exactly 1 option.")
        if keys != 1:
            add("options", f"A multiple-choice item has exactly one key; this one has {keys}.")
        if partial_credit:
            add(
                "partial_credit",
                "Partial credit applies to multiple-response and select-all-that-apply items only.",
            )
    elif kind == "multiple":
        if choose < 2:
            add("choose", "A multiple-response item asks for at least 2 options.")
        elif choose >= len(options):
            add("choose", f"Choose {choose} needs more than {choose} options to choose from.")
        if keys != choose:
            add(
                "options",
                f"A multiple-response item that asks for {choose} has exactly {choose} keys; "
                f"this one has {keys}.",
            )
    elif kind == "select_all":
        # The count is not stated, so there is no `choose` to check: at least one key, and
        # at least one option that is not a key (otherwise "select all" is the answer).
        if keys < 1:
            add("options", "A select-all-that-apply item needs at least one key.")
        elif keys >= len(options):
            add(
                "options",
                "A select-all-that-apply item needs at least one option that is not a key.",
            )
    else:
        add(
            "kind",
            f"Unknown item type {kind!r}: use 'single', 'multiple' or 'select_all'.",
        )
    if status != "draft" and not (rationale or "").strip():
        add("rationale", "A rationale is required before an item goes to review.")
    return errors
