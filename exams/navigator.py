"""The navigator's cells as HTML, built from one URL pattern.

An item page shows a cell per question (107 on a real form). Rendering them through the
template engine with a `{% url %}` each cost about 10 ms per page, most of an item page's
server time; they are plain markup of integers and fixed words, so they are built here
from one reversed URL instead. The save's reply (one cell, swapped out of band) uses the
same function, so the two never drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from exams.selectors import Cell

_MARK = 987654321


def item_url_pattern(attempt_id: int) -> str:
    """The item page's URL with `{}` where the position goes (no reverse() per page)."""
    return _item_pattern().replace("{attempt}", str(attempt_id))


_ATTEMPT_MARK = 876543219


@functools.cache
def _item_pattern() -> str:
    # Reversed once per process: the URL configuration and its prefix do not change.
    return (
        reverse("exams:item", args=[_ATTEMPT_MARK, _MARK])
        .replace(str(_ATTEMPT_MARK), "{attempt}")
        .replace(str(_MARK), "{}")
    )


@functools.cache
def _attempt_patterns() -> dict[str, str]:
    names = ("review", "submit", "time_up", "result", "payload", "state", "adaptive_next")
    patterns = {
        name: reverse(f"exams:{name}", args=[_ATTEMPT_MARK]).replace(str(_ATTEMPT_MARK), "{}")
        for name in names
    }
    for name in ("save", "check"):
        patterns[name] = (
            reverse(f"exams:{name}", args=[_ATTEMPT_MARK, _MARK])
            .replace(str(_ATTEMPT_MARK), "{0}")
            .replace(str(_MARK), "{1}")
        )
    return patterns


def attempt_urls(attempt_id: int) -> dict[str, str]:
    """The attempt's page URLs the exam pages link to, made from patterns reversed once per
    process: an item page used to pay a dozen reverse() calls in its templates."""
    return {
        name: pattern.format(attempt_id)
        for name, pattern in _attempt_patterns().items()
        if name not in ("save", "check")
    }


def item_urls(attempt_id: int, position: int) -> dict[str, str]:
    """The save and check URLs of the item at `position`."""
    patterns = _attempt_patterns()
    return {
        "save": patterns["save"].format(attempt_id, position),
        "check": patterns["check"].format(attempt_id, position),
    }


# The class and the state words of a cell, by (answered, flagged): looked up, not built.
_CSS = {
    (False, False): "cell",
    (True, False): "cell answered",
    (False, True): "cell flagged",
    (True, True): "cell answered flagged",
}
_CURRENT = ' aria-current="step"'
_OOB = ' hx-swap-oob="true"'
_STATE = {
    (False, False): "unanswered",
    (True, False): "answered",
    (False, True): "unanswered, flagged",
    (True, True): "answered, flagged",
}

# Both at once, by (answered, flagged); True and 1 are the same key.
_LOOK = {key: (_CSS[key], _STATE[key]) for key in _CSS}


def cell_html(cell: Cell, *, current: int | None, pattern: str, oob: bool = False) -> str:
    p = cell.position
    css, words = _LOOK[bool(cell.answered), bool(cell.flagged)]
    return (
        f'<button id="nav-{p}" type="submit" form="answer-form" name="go" value="{p}" '
        f'data-nav="{pattern.format(p)}" class="{css}"'
        f"{_CURRENT if p == current else ''}"
        f' aria-label="Question {p}, {words}"'
        f"{_OOB if oob else ''}>{p}</button>"
    )


def cells_html(cells: Iterable[Cell | tuple], *, current: int | None, pattern: str) -> SafeString:
    """The navigator's cells: `cells` holds a Cell or a (position, answered, flagged)
    tuple per position."""
    # Only integers and fixed words go into this markup, so nothing needs escaping. The
    # URL pattern is split once around its `{}`: 107 cells, 107 concatenations.
    head, _, tail = pattern.partition("{}")
    look = _LOOK
    parts = []
    for p, answered, flagged in cells:
        css, words = look[answered, flagged]
        parts.append(
            f'<li><button id="nav-{p}" type="submit" form="answer-form" name="go" value="{p}" '
            f'data-nav="{head}{p}{tail}" class="{css}"'
            f"{_CURRENT if p == current else ''}"
            f' aria-label="Question {p}, {words}">{p}</button></li>'
        )
    return mark_safe("".join(parts))


def one_cell_html(cell: Cell, *, current: int | None, pattern: str) -> SafeString:
    """The out-of-band swap a save replies with."""
    return mark_safe(cell_html(cell, current=current, pattern=pattern, oob=True))
