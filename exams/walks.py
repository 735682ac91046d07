"""Review walks: from the review screen, step through the flagged or the unanswered items.

A walk's items are fixed when it starts, as on the real exam's "review flagged": unflagging
or answering an item on the way keeps the count ("flagged 3 of 12") and the steps stable.
Pure functions over navigator cells; the views keep the started walk in the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exams.selectors import Cell

WALK_KINDS = ("flagged", "unanswered")


def walk_kind(value: str | None) -> str | None:
    """The walk a query parameter names, or None."""
    return value if value in WALK_KINDS else None


def walk_positions(cells: Iterable[Cell], kind: str) -> list[int]:
    """The positions a walk of `kind` visits, in order."""
    if kind == "flagged":
        return [c.position for c in cells if c.flagged]
    if kind == "unanswered":
        return [c.position for c in cells if not c.answered]
    raise ValueError(f"no such walk: {kind!r}")


@dataclass(frozen=True)
class Walk:
    kind: str
    positions: tuple[int, ...]
    position: int  # the item shown, one of `positions`

    @property
    def index(self) -> int:
        """1-based place of the item shown in the walk."""
        return self.positions.index(self.position) + 1

    @property
    def total(self) -> int:
        return len(self.positions)

    @property
    def previous(self) -> int | None:
        i = self.index - 1
        return self.positions[i - 1] if i > 0 else None

    @property
    def next(self) -> int | None:
        i = self.index - 1
        return self.positions[i + 1] if i + 1 < len(self.positions) else None


def walk_at(*, kind: str, positions: Iterable[int], position: int) -> Walk | None:
    """The walk as seen from `position`; None when that item is not in it (the candidate
    went elsewhere, which is leaving the walk)."""
    positions = tuple(positions)
    if position not in positions:
        return None
    return Walk(kind=kind, positions=positions, position=position)
