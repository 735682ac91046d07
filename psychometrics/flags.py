"""The rules that flag an item for review, in words an instructor can read.

Pure Python (no Django import): the thresholds come in as a dict (settings.CCS_ITEM_FLAGS
in the service layer), the statistics as plain numbers, and each rule that fires returns
a ``Flag(code, message)`` whose message says what was found and what the rule is.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass

TOO_EASY = "too_easy"
TOO_HARD = "too_hard"
WEAK_DISCRIMINATION = "weak_discrimination"
NEGATIVE_DISCRIMINATION = "negative_discrimination"
DISTRACTOR = "distractor_upper"
POOR_FIT = "poor_fit"
TOO_FEW_RESPONSES = "too_few_responses"

# Code → short label, for filters and column headings.
LABELS: dict[str, str] = {
    TOO_EASY: "Too easy",
    TOO_HARD: "Too hard",
    WEAK_DISCRIMINATION: "Weak discrimination",
    NEGATIVE_DISCRIMINATION: "Negative discrimination",
    DISTRACTOR: "Distractor favoured by the upper group",
    POOR_FIT: "Poor Rasch fit",
    TOO_FEW_RESPONSES: "Too few responses",
}

DEFAULTS: dict = {
    "too_easy_p": 0.95,  # flag when p is above this
    "too_hard_p": 0.25,  # flag when p is below this
    "min_item_rest": 0.10,  # flag when the item-rest correlation is below this
    "fit_low": 0.7,  # flag when infit or outfit mean square is outside [fit_low, fit_high]
    "fit_high": 1.3,
    "min_responses": 100,  # flag when fewer responses than this
    # Flags that stop a pretest item from being promoted to operational use. Weak (but
    # positive) discrimination is a warning only: short, easy items often sit just under
    # the line and still measure in the right direction.
    "blocking": [
        TOO_EASY,
        TOO_HARD,
        NEGATIVE_DISCRIMINATION,
        DISTRACTOR,
        POOR_FIT,
        TOO_FEW_RESPONSES,
    ],
}


@dataclass(frozen=True)
class Flag:
    code: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def thresholds(overrides: Mapping | None = None) -> dict:
    """The defaults with `overrides` (e.g. settings.CCS_ITEM_FLAGS) applied."""
    merged = dict(DEFAULTS)
    merged.update(overrides or {})
    return merged


def _known(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def per_option(rates: Mapping[str, float]) -> dict[str, float]:
    """Multiple-response rates by selection ("A+C") turned into rates by option: the share
    of candidates whose selection included it."""
    letters = {letter for label in rates for letter in label.split("+")}
    return {
        letter: sum(v for label, v in rates.items() if letter in label.split("+"))
        for letter in sorted(letters)
    }


def item_flags(
    *,
    n_responses: int,
    p: float | None = None,
    item_rest: float | None = None,
    option_rates_upper: Mapping[str, float] | None = None,
    option_rates_lower: Mapping[str, float] | None = None,
    key: str | Collection[str] | None = None,
    infit: float | None = None,
    outfit: float | None = None,
    rules: Mapping | None = None,
) -> list[Flag]:
    """Every rule the statistics break; a statistic that is missing breaks no rule."""
    r = thresholds(rules)
    flags: list[Flag] = []
    if n_responses < r["min_responses"]:
        flags.append(
            Flag(
                TOO_FEW_RESPONSES,
                f"Only {n_responses} responses; statistics need at least {r['min_responses']} "
                "to be trusted.",
            )
        )
    if _known(p) and p > r["too_easy_p"]:
        flags.append(
            Flag(TOO_EASY, f"p = {p:.2f}: more than {r['too_easy_p']:.2f} answer it correctly.")
        )
    if _known(p) and p < r["too_hard_p"]:
        flags.append(
            Flag(TOO_HARD, f"p = {p:.2f}: fewer than {r['too_hard_p']:.2f} answer it correctly.")
        )
    if _known(item_rest) and item_rest < 0:
        flags.append(
            Flag(
                NEGATIVE_DISCRIMINATION,
                f"Item-rest correlation {item_rest:.2f} is negative: stronger candidates do "
                "worse on it than weaker ones (check the key).",
            )
        )
    elif _known(item_rest) and item_rest < r["min_item_rest"]:
        flags.append(
            Flag(
                WEAK_DISCRIMINATION,
                f"Item-rest correlation {item_rest:.2f} is below {r['min_item_rest']:.2f}: "
                "it barely separates stronger from weaker candidates.",
            )
        )
    keys = {key} if isinstance(key, str) else set(key or ())
    if option_rates_upper and option_rates_lower:
        for option in sorted(option_rates_upper):
            if option in keys:
                continue
            upper = option_rates_upper.get(option, 0.0)
            lower = option_rates_lower.get(option, 0.0)
            if upper > lower:
                flags.append(
                    Flag(
                        DISTRACTOR,
                        f"Distractor {option} is chosen by {upper:.0%} of the upper group and "
                        f"{lower:.0%} of the lower group: it attracts the stronger candidates.",
                    )
                )
    bad_fit = [
        f"{name} {value:.2f}"
        for name, value in (("infit", infit), ("outfit", outfit))
        if _known(value) and not r["fit_low"] <= value <= r["fit_high"]
    ]
    if bad_fit:
        flags.append(
            Flag(
                POOR_FIT,
                f"Rasch fit {' and '.join(bad_fit)} outside {r['fit_low']:.1f}–"
                f"{r['fit_high']:.1f} (mean squares; 1 is expected).",
            )
        )
    return flags


def blocking(flags, rules: Mapping | None = None) -> list:
    """The flags (Flag or {code, message}) that stop a promotion."""
    codes = set(thresholds(rules)["blocking"])
    return [f for f in flags if (f.code if isinstance(f, Flag) else f["code"]) in codes]
