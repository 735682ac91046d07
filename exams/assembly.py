"""Choosing and ordering a form's items: pure Python, no database.

The service layer turns the bank into `Unit`s (a standalone item, or all the items of one
scenario case that share a status) and stores what `plan_form` returns. Everything random
comes from one `random.Random(seed)`, and inputs are sorted before they are shuffled, so
the same bank and seed give the same form.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
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
    item_ids: tuple[int, ...] = ()  # the items of the versions, for enemies (same order)

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


@dataclass
class Plan:
    """A form's items in delivery order, and the enemy pairs the plan kept apart: (an item
    on the form, its enemy in the bank that was left off because of it)."""

    items: list[PlannedItem]
    enemies_kept_apart: list[tuple[int, int]] = field(default_factory=list)


class _Enemies:
    """Which items the chosen units rule out. Enemies are symmetric, so a unit fits when
    none of its items is an enemy of an item already chosen."""

    def __init__(self, enemies: Mapping[int, Collection[int]] | None):
        self.of = {item: set(others) for item, others in (enemies or {}).items()}
        self.blocked: set[int] = set()

    def fits(self, unit: Unit) -> bool:
        return not self.blocked.intersection(unit.item_ids) and not self.internal(unit)

    def internal(self, unit: Unit) -> bool:
        """A case whose own items are enemies can never be placed whole."""
        ids = set(unit.item_ids)
        return any(self.of.get(i, set()) & ids for i in ids)

    def add(self, unit: Unit) -> set[int]:
        """Block the unit's enemies; returns what was newly blocked, for undoing."""
        new = set().union(*(self.of.get(i, set()) for i in unit.item_ids)) - self.blocked
        self.blocked |= new
        return new

    def undo(self, new: set[int]) -> None:
        self.blocked -= new


def _preferred_order(units: list[Unit], rng: random.Random) -> list[Unit]:
    """Random order, but items not used on the avoided forms first."""
    ordered = sorted(units, key=lambda u: u.sort_key)
    rng.shuffle(ordered)
    ordered.sort(key=lambda u: not u.fresh)  # stable: keeps the shuffle within each group
    return ordered


def _choose_cases(
    cases: list[Unit],
    need: dict[int, int],
    singles_by_domain: Mapping[int, list[Unit]],
    enemies: _Enemies,
) -> list[Unit] | None:
    """Whole cases whose items fit the counts, leaving a rest the standalone items can fill.

    Depth-first over cases in preferred order: a fresh case is tried in before out, a
    reused one out before in, so the first solution found uses fresh cases greedily and
    reused ones only when the counts need them. A case that is an enemy of one already
    chosen is skipped, and the standalone items counted at the end are those no chosen
    case rules out.
    """
    budget = [SEARCH_BUDGET]
    chosen: list[Unit] = []

    def fits(unit: Unit, rest: dict[int, int]) -> bool:
        counts = Counter(unit.domains)
        return all(rest.get(d, 0) >= n for d, n in counts.items()) and enemies.fits(unit)

    def singles_left(d: int) -> int:
        return sum(1 for u in singles_by_domain.get(d, []) if enemies.fits(u))

    def dfs(i: int, rest: dict[int, int]) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if i == len(cases):
            return all(rest[d] <= singles_left(d) for d in rest)
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
                blocked = enemies.add(unit)
                if dfs(i + 1, after):
                    return True
                enemies.undo(blocked)
                chosen.pop()
            elif dfs(i + 1, rest):
                return True
        return False

    return list(chosen) if dfs(0, dict(need)) else None


def _choose_exact(units: list[Unit], count: int, enemies: _Enemies) -> list[Unit] | None:
    """Units (in preferred order), no two of them enemies, whose sizes add up to exactly
    `count`."""
    budget = [SEARCH_BUDGET]
    chosen: list[Unit] = []

    def dfs(i: int, left: int) -> bool:
        budget[0] -= 1
        if left == 0:
            return True
        if i == len(units) or budget[0] < 0:
            return False
        unit = units[i]
        if unit.size <= left and enemies.fits(unit):
            chosen.append(unit)
            blocked = enemies.add(unit)
            if dfs(i + 1, left - unit.size):
                return True
            enemies.undo(blocked)
            chosen.pop()
        return dfs(i + 1, left)

    return list(chosen) if dfs(0, count) else None


def plan_form(**kwargs) -> list[PlannedItem]:
    """The form's items in delivery order (see `plan_form_report`)."""
    return plan_form_report(**kwargs).items


def plan_form_report(
    *,
    counts: dict[int, int],
    pretest_count: int,
    operational: list[Unit],
    pretest: list[Unit],
    seed: int,
    enemies: Mapping[int, Collection[int]] | None = None,
    required: Sequence[Unit] = (),
) -> Plan:
    """The form's items in delivery order, or AssemblyError naming every shortfall.

    `enemies` maps an item id to the items it must never share the form with (both ways);
    units need `item_ids` for it to apply. `required` units are operational units that
    must be on the form (an anchor block shared with other forms); they count towards the
    domain counts, and the rest of the form is chosen around them and their enemies.
    """
    rng = random.Random(seed)
    need = {d: n for d, n in counts.items() if n > 0}
    rules = _Enemies(enemies)

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

    # The required block first: its items are on the form whatever else is chosen.
    required = sorted(required, key=lambda u: u.sort_key)
    required_versions = {v for unit in required for v in unit.version_ids}
    for unit in required:
        if not rules.fits(unit):
            raise AssemblyError([], f"the required items {list(unit.version_ids)} are enemies")
        rules.add(unit)
        for d in unit.domains:
            need[d] = need.get(d, 0) - 1
    over = [d for d in sorted(need) if need[d] < 0]
    if over:
        raise AssemblyError(
            [], "the required items exceed the blueprint in domain " + ", ".join(map(str, over))
        )
    need = {d: n for d, n in need.items() if n > 0}
    operational = [u for u in operational if not required_versions & set(u.version_ids)]

    singles_by_domain: dict[int, list[Unit]] = defaultdict(list)
    for unit in _preferred_order([u for u in operational if u.case_id is None], rng):
        singles_by_domain[unit.domains[0]].append(unit)
    cases = _preferred_order(
        [u for u in operational if u.case_id is not None and set(u.domains) <= set(need)], rng
    )
    chosen_cases = _choose_cases(cases, need, singles_by_domain, rules)
    if chosen_cases is None:
        detail = ", ".join(
            f"domain {d} standalone {len(singles_by_domain[d])}" for d in sorted(need)
        )
        raise AssemblyError(
            [],
            "there are enough items per domain, but no combination of whole scenario cases "
            f"leaves a rest the standalone items can fill ({detail}), with enemies kept apart",
        )
    rest = dict(need)
    for unit in chosen_cases:
        for d in unit.domains:
            rest[d] -= 1
    case_block = {
        unit.case_id: [PlannedItem(v, False) for v in unit.version_ids] for unit in chosen_cases
    }
    required_singles = []
    for unit in required:
        block = [PlannedItem(v, False) for v in unit.version_ids]
        if unit.case_id is not None:
            case_block[unit.case_id] = block
        else:
            required_singles.append(block)
    blocks: list[list[PlannedItem]] = list(case_block.values()) + required_singles
    chosen_units = list(required) + chosen_cases
    for d in sorted(rest):
        picked = 0
        for unit in singles_by_domain[d]:
            if picked == rest[d]:
                break
            if rules.fits(unit):
                rules.add(unit)
                chosen_units.append(unit)
                blocks.append([PlannedItem(unit.version_ids[0], False)])
                picked += 1
        if picked < rest[d]:
            raise AssemblyError(
                [Shortfall(f"domain {d} once enemies are kept apart", rest[d], picked)]
            )
    rng.shuffle(blocks)

    chosen_pretest = _choose_exact(_preferred_order(pretest, rng), pretest_count, rules)
    if chosen_pretest is None:
        raise AssemblyError(
            [],
            f"pretest: the pretest scenario sets cannot be combined into exactly "
            f"{pretest_count} items with enemies kept apart",
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
    chosen_units += chosen_pretest
    on_form = {i for unit in chosen_units for i in unit.item_ids}
    kept_apart = sorted(
        (item, enemy)
        for item in on_form
        for enemy in rules.of.get(item, ())
        if enemy not in on_form
    )
    return Plan([item for block in blocks for item in block], kept_apart)


def attempt_layout(
    *,
    rows: Sequence[tuple[int, int | None, int, Sequence[int]]],
    seed: int,
    shuffle_items: bool,
    shuffle_options: bool,
) -> list[list]:
    """The order one attempt sees: [[form_item_id, choose, [option ids]], ...].

    `rows` are the form's items in position order as (form_item_id, case_id, choose,
    option ids). Shuffling moves whole case blocks so that a scenario's items stay
    together; each item's option order is drawn from (seed, form_item_id) alone
    (`option_order`), so it does not depend on where the item landed or on the other items.
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
    seed_bits = _mix64(seed & _MASK64)
    return [
        [
            form_item_id,
            choose,
            _order(option_ids, seed_bits, form_item_id) if shuffle_options else list(option_ids),
        ]
        for block in blocks
        for form_item_id, _case_id, choose, option_ids in block
    ]


_MASK64 = (1 << 64) - 1
# Every order of up to 8 options, so that an item's order is one draw and one look-up. A
# cohort starting at once pays this per item of every start: seeding a random.Random per
# item, as before, cost ~1 ms of CPU per start of 107 items, a quarter of the start.
_ORDERS = {n: list(itertools.permutations(range(n))) for n in range(1, 9)}


def _mix64(value: int) -> int:
    """SplitMix64's finaliser: 64 well-mixed bits from any integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def option_order(option_ids: Sequence[int], *, seed: int, form_item_id: int) -> list[int]:
    """The options of one item in the order one attempt shows them: one of their n! orders,
    each equally likely over seeds (a 64-bit draw; the bias of taking it modulo n! is below
    one in 10^13), the same for the same (seed, form_item_id)."""
    return _order(option_ids, _mix64(seed & _MASK64), form_item_id)


def _order(option_ids: Sequence[int], seed_bits: int, form_item_id: int) -> list[int]:
    draw = _mix64(seed_bits ^ (form_item_id & _MASK64))
    orders = _ORDERS.get(len(option_ids))
    if orders is None:  # more than 8 options: rare enough to shuffle the long way
        shuffled = list(option_ids)
        random.Random(draw).shuffle(shuffled)
        return shuffled
    return [option_ids[k] for k in orders[draw % len(orders)]]
