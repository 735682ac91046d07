"""Choosing and ordering a form's items: pure Python, no database.

The service layer turns the bank into `Unit`s (a standalone item, or all the items of one
scenario case that share a status) and stores what `plan_form` returns. Everything random
comes from one `random.Random(seed)`, and inputs are sorted before they are shuffled, so
the same bank and seed give the same form.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from common.errors import ApplicationError

# Enough for banks of a few hundred cases; beyond it the search reports the shortfall
# rather than hanging the admin.
SEARCH_BUDGET = 50_000


@dataclass(frozen=True)
class Unit:
    """Items that are placed together: one standalone item or one case's items."""

    version_ids: tuple[int, ...]
    domains: tuple[int, ...]  # domain number of each version, same order
    case_id: int | None = None
    fresh: bool = True  # not on the forms the caller asked us to avoid

    @property
    def size(self) -> int:
        return len(self.version_ids)

    @property
    def sort_key(self) -> tuple:
        return (self.case_id or 0, self.version_ids)


@dataclass(frozen=True)
class Shortfall:
    what: str
    needed: int
    available: int

    def __str__(self) -> str:
        return f"{self.what}: needed {self.needed}, available {self.available}"


@dataclass
class AssemblyError(ApplicationError):
    shortfalls: list[Shortfall] = field(default_factory=list)
    detail: str = ""

    def __str__(self) -> str:
        parts = [str(s) for s in self.shortfalls]
        if self.detail:
            parts.append(self.detail)
        return "The bank cannot meet the blueprint. " + "; ".join(parts) + "."


@dataclass(frozen=True)
class PlannedItem:
    version_id: int
    is_pretest: bool


def _preferred_order(units: list[Unit], rng: random.Random) -> list[Unit]:
    """Random order, but items not used on the avoided forms first."""
    ordered = sorted(units, key=lambda u: u.sort_key)
    rng.shuffle(ordered)
    ordered.sort(key=lambda u: not u.fresh)  # stable: keeps the shuffle within each group
    return ordered


def _choose_cases(
    cases: list[Unit], need: dict[int, int], singles_available: Counter
) -> list[Unit] | None:
    """Whole cases whose items fit the counts, leaving a rest the standalone items can fill.

    Depth-first over cases in preferred order: a fresh case is tried in before out, a
    reused one out before in, so the first solution found uses fresh cases greedily and
    reused ones only when the counts need them.
    """
    budget = [SEARCH_BUDGET]
    chosen: list[Unit] = []

    def fits(unit: Unit, rest: dict[int, int]) -> bool:
        counts = Counter(unit.domains)
        return all(rest.get(d, 0) >= n for d, n in counts.items())

    def dfs(i: int, rest: dict[int, int]) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if i == len(cases):
            return all(rest[d] <= singles_available[d] for d in rest)
        unit = cases[i]
        options = [True, False] if unit.fresh else [False, True]
        for include in options:
            if include:
                if not fits(unit, rest):
                    continue
                after = dict(rest)
                for d in unit.domains:
                    after[d] -= 1
                chosen.append(unit)
                if dfs(i + 1, after):
                    return True
                chosen.pop()
            elif dfs(i + 1, rest):
                return True
        return False

    return list(chosen) if dfs(0, dict(need)) else None


def _choose_exact(units: list[Unit], count: int) -> list[Unit] | None:
    """Units (in preferred order) whose sizes add up to exactly `count`."""
    budget = [SEARCH_BUDGET]
    chosen: list[Unit] = []

    def dfs(i: int, left: int) -> bool:
        budget[0] -= 1
        if left == 0:
            return True
        if i == len(units) or budget[0] < 0:
            return False
        unit = units[i]
        if unit.size <= left:
            chosen.append(unit)
            if dfs(i + 1, left - unit.size):
                return True
            chosen.pop()
        return dfs(i + 1, left)

    return list(chosen) if dfs(0, count) else None


def plan_form(
    *,
    counts: dict[int, int],
    pretest_count: int,
    operational: list[Unit],
    pretest: list[Unit],
    seed: int,
) -> list[PlannedItem]:
    """The form's items in delivery order, or AssemblyError naming every shortfall."""
    rng = random.Random(seed)
    need = {d: n for d, n in counts.items() if n > 0}

    shortfalls = []
    in_bank = Counter(d for unit in operational for d in unit.domains)
    for d in sorted(need):
        if in_bank[d] < need[d]:
            shortfalls.append(Shortfall(f"domain {d}", need[d], in_bank[d]))
    pretest_in_bank = sum(u.size for u in pretest)
    if pretest_in_bank < pretest_count:
        shortfalls.append(Shortfall("pretest", pretest_count, pretest_in_bank))
    if shortfalls:
        raise AssemblyError(shortfalls)

    singles_by_domain: dict[int, list[Unit]] = defaultdict(list)
    for unit in _preferred_order([u for u in operational if u.case_id is None], rng):
        singles_by_domain[unit.domains[0]].append(unit)
    singles_available = Counter({d: len(units) for d, units in singles_by_domain.items()})
    cases = _preferred_order(
        [u for u in operational if u.case_id is not None and set(u.domains) <= set(need)], rng
    )
    chosen_cases = _choose_cases(cases, need, singles_available)
    if chosen_cases is None:
        detail = ", ".join(f"domain {d} standalone {singles_available[d]}" for d in sorted(need))
        raise AssemblyError(
            [],
            "there are enough items per domain, but no combination of whole scenario cases "
            f"leaves a rest the standalone items can fill ({detail})",
        )
    rest = dict(need)
    for unit in chosen_cases:
        for d in unit.domains:
            rest[d] -= 1
    case_block = {
        unit.case_id: [PlannedItem(v, False) for v in unit.version_ids] for unit in chosen_cases
    }
    blocks: list[list[PlannedItem]] = list(case_block.values())
    for d in sorted(rest):
        blocks += [[PlannedItem(u.version_ids[0], False)] for u in singles_by_domain[d][: rest[d]]]
    rng.shuffle(blocks)

    chosen_pretest = _choose_exact(_preferred_order(pretest, rng), pretest_count)
    if chosen_pretest is None:
        raise AssemblyError(
            [],
            f"pretest: the pretest scenario sets cannot be combined into exactly "
            f"{pretest_count} items",
        )
    # Pretest positions are drawn after the operational order is fixed, so that where they
    # land does not depend on how many operational items the bank holds. A pretest item of
    # a case already on the form joins that case's block: a case split in two would show
    # which of its items are pretest.
    for unit in chosen_pretest:
        planned = [PlannedItem(v, True) for v in unit.version_ids]
        if unit.case_id is not None and unit.case_id in case_block:
            block = case_block[unit.case_id]
            for item in planned:
                block.insert(rng.randint(0, len(block)), item)
        else:
            blocks.insert(rng.randint(0, len(blocks)), planned)
    return [item for block in blocks for item in block]


def attempt_layout(
    *,
    rows: list[tuple[int, int | None, int, list[int]]],
    seed: int,
    shuffle_items: bool,
    shuffle_options: bool,
) -> list[list]:
    """The order one attempt sees: [[form_item_id, choose, [option ids]], ...].

    `rows` are the form's items in position order as (form_item_id, case_id, choose,
    option ids). Shuffling moves whole case blocks so that a scenario's items stay
    together; each item's options are shuffled by their own generator, so the option order
    of an item does not depend on where it landed.
    """
    blocks: list[list[tuple]] = []
    for row in rows:
        case_id = row[1]
        if case_id is not None and blocks and blocks[-1][0][1] == case_id:
            blocks[-1].append(row)
        else:
            blocks.append([row])
    if shuffle_items:
        random.Random(seed).shuffle(blocks)
    layout = []
    for block in blocks:
        for form_item_id, _case_id, choose, option_ids in block:
            options = list(option_ids)
            if shuffle_options:
                random.Random(f"{seed}:{form_item_id}").shuffle(options)
            layout.append([form_item_id, choose, options])
    return layout
