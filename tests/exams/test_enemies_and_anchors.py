"""Assembly keeps enemies off one form and says so; linked forms share an anchor block."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from exams import services
from exams.assembly import AssemblyError, Unit, plan_form_report
from exams.selectors import form_enemy_pairs
from questionbank.models import ItemStatus
from questionbank.services import item_enemies_set
from tests.factories import bank_case, bank_items, blueprint_with, stock_bank


def single(version_id: int, domain: int = 1, *, item_id: int | None = None) -> Unit:
    return Unit((version_id,), (domain,), item_ids=(item_id or version_id,))


# --- The planner ------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(20))
def test_two_enemies_are_never_planned_on_one_form(seed):
    bank = [single(i) for i in range(1, 7)]
    plan = plan_form_report(
        counts={1: 3},
        pretest_count=0,
        operational=bank,
        pretest=[],
        seed=seed,
        enemies={1: {2}, 2: {1}, 3: {4}, 4: {3}},
    )
    on_form = {p.version_id for p in plan.items}
    assert len(on_form) == 3
    assert not {1, 2} <= on_form and not {3, 4} <= on_form
    # What was kept apart is reported: each item on the form whose enemy was left off.
    for a, b in ((1, 2), (2, 1), (3, 4), (4, 3)):
        assert ((a, b) in plan.enemies_kept_apart) == (a in on_form)


def test_a_case_and_a_standalone_enemy_are_not_both_chosen_and_pretest_obeys_too():
    case = Unit((10, 11), (1, 1), case_id=5, item_ids=(10, 11))
    singles = [single(i) for i in (1, 2, 3)]
    pretest = [single(20), single(21)]
    enemies = {10: {1, 20}, 1: {10}, 20: {10}}
    for seed in range(15):
        plan = plan_form_report(
            counts={1: 3},
            pretest_count=1,
            operational=[case, *singles],
            pretest=pretest,
            seed=seed,
            enemies=enemies,
        )
        on_form = {p.version_id for p in plan.items}
        assert not ({10, 1} <= on_form or {10, 20} <= on_form), seed


def test_when_enemies_leave_too_few_items_the_shortfall_says_so():
    with pytest.raises(AssemblyError, match="enemies"):
        plan_form_report(
            counts={1: 2},
            pretest_count=0,
            operational=[single(1), single(2)],
            pretest=[],
            seed=1,
            enemies={1: {2}, 2: {1}},
        )


def test_required_units_are_always_on_the_form_and_count_towards_the_blueprint():
    bank = [single(i, 1 if i < 10 else 2) for i in range(1, 20)]
    required = [bank[0], bank[12]]
    for seed in range(10):
        plan = plan_form_report(
            counts={1: 3, 2: 2},
            pretest_count=0,
            operational=bank,
            pretest=[],
            seed=seed,
            required=required,
        )
        ids = [p.version_id for p in plan.items]
        assert len(ids) == len(set(ids)) == 5
        assert {1, 13} <= set(ids)


# --- The service ------------------------------------------------------------------------
@pytest.mark.django_db
def test_form_assemble_never_puts_declared_enemies_together_and_reports_them():
    versions = bank_items(1, 6)
    item_enemies_set(item=versions[0].item, enemies=[versions[1].item, versions[2].item])
    blueprint = blueprint_with({1: 4})
    for seed in range(6):
        form = services.form_assemble(blueprint=blueprint, seed=seed, name=f"F{seed}")
        on_form = set(form.items.values_list("item_version__item__key", flat=True))
        first, second, third = (v.item.key for v in versions[:3])
        assert not ({first, second} <= on_form)
        assert not ({first, third} <= on_form)
        assert form_enemy_pairs(form=form) == []
        kept = form.assembly_report.enemies_kept_apart
        assert all(a in on_form and b not in on_form for a, b in kept)
        assert kept or first not in on_form


@pytest.mark.django_db
def test_an_enemy_pair_on_a_form_is_found():
    versions = bank_items(1, 2)
    form = services.form_assemble(blueprint=blueprint_with({1: 2}), seed=1, name="Both")
    item_enemies_set(item=versions[0].item, enemies=[versions[1].item])  # declared afterwards
    assert form_enemy_pairs(form=form) == [tuple(sorted(v.item.key for v in versions))]


@pytest.mark.django_db
def test_anchor_versions_must_be_operational():
    pretest = bank_items(1, 1, status=ItemStatus.PRETEST)
    stock_bank({1: 3})
    with pytest.raises(ValidationError, match="not operational"):
        services.form_assemble(
            blueprint=blueprint_with({1: 2}),
            seed=1,
            name="Anchored",
            anchor_versions=[pretest[0].pk],
        )


@pytest.mark.django_db
def test_three_linked_forms_share_an_anchor_block_spread_by_domain():
    counts = {1: 11, 2: 3, 3: 3, 4: 3, 5: 3}
    stock_bank({d: 3 * n for d, n in counts.items()}, pretest=9)
    bank_case([1, 2])
    blueprint = blueprint_with(counts, pretest=2)
    forms = services.forms_assemble_linked(
        blueprint=blueprint, names=["A", "B", "C"], seed=7, anchor_count=10
    )
    on = [set(f.items.values_list("item_version_id", flat=True)) for f in forms]
    common = on[0] & on[1] & on[2]
    assert len(common) >= 10
    anchors = set(
        forms[1].items.filter(item_version__in=common).values_list("item_version", flat=True)
    )
    domains = {
        d
        for d in forms[0]
        .items.filter(item_version__in=anchors)
        .values_list("item_version__domain__number", flat=True)
    }
    assert domains == {1, 2, 3, 4, 5}
    assert all(f.items.count() == blueprint.total_items for f in forms)
    assert all(f.assembly_report.anchors == 10 for f in forms[1:])
    # Outside the anchors, the bank had room to keep the forms apart.
    assert not ((on[0] & on[1]) - common) and not ((on[1] & on[2]) - common)
