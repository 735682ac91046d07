"""Blueprints, form assembly and publishing."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from exams import services, signals
from exams.assembly import AssemblyError, Unit, attempt_layout, option_order, plan_form
from exams.models import Blueprint, ExamForm, FormItem, FormStatus, FrozenFormError
from questionbank.models import ItemStatus, ItemVersion
from tests.factories import bank_case, bank_items, blueprint_with, published_form


def singles(domain: int, ids) -> list[Unit]:
    return [Unit((i,), (domain,)) for i in ids]


# --- the pure planner ------------------------------------------------------------------
def test_plan_meets_domain_counts_and_places_pretest():
    plan = plan_form(
        counts={1: 3, 2: 2},
        pretest_count=2,
        operational=singles(1, range(1, 6)) + singles(2, range(10, 14)),
        pretest=singles(1, [100, 101, 102]),
        seed=7,
    )
    assert len(plan) == 7
    assert sum(p.is_pretest for p in plan) == 2
    ops = [p.version_id for p in plan if not p.is_pretest]
    assert len([v for v in ops if v < 10]) == 3 and len([v for v in ops if 10 <= v < 100]) == 2


def test_plan_is_reproducible_from_the_seed():
    args = dict(
        counts={1: 5, 2: 3},
        pretest_count=2,
        operational=singles(1, range(1, 30)) + singles(2, range(30, 50)),
        pretest=singles(1, range(100, 110)),
    )
    assert plan_form(seed=3, **args) == plan_form(seed=3, **args)
    assert plan_form(seed=3, **args) != plan_form(seed=4, **args)


def test_plan_keeps_a_case_together_and_counts_it_towards_its_domains():
    case = Unit((50, 51, 52), (1, 2, 2), case_id=9)
    plan = plan_form(
        counts={1: 2, 2: 2},
        pretest_count=0,
        operational=[case] + singles(1, [1, 2, 3]) + singles(2, [10, 11, 12]),
        pretest=[],
        seed=1,
    )
    ids = [p.version_id for p in plan]
    assert len(ids) == 4
    start = ids.index(50)
    assert ids[start : start + 3] == [50, 51, 52]


def test_plan_searches_for_cases_that_fit_the_counts():
    # Taking the three-item case first fills domain 1 and leaves domain 2 unreachable; the
    # search backs out of it and uses the mixed case plus standalone items.
    big = Unit((50, 51, 52), (1, 1, 1), case_id=1)
    mixed = Unit((60, 61), (1, 2), case_id=2)
    for seed in range(6):
        plan = plan_form(
            counts={1: 3, 2: 1},
            pretest_count=0,
            operational=[big, mixed] + singles(1, [1, 2]),
            pretest=[],
            seed=seed,
        )
        assert sorted(p.version_id for p in plan) == [1, 2, 60, 61]


def test_plan_shortfall_names_each_domain_needed_and_available():
    with pytest.raises(AssemblyError) as caught:
        plan_form(
            counts={1: 5, 2: 3, 3: 1},
            pretest_count=4,
            operational=singles(1, range(1, 3)) + singles(3, [20]),
            pretest=singles(1, [100]),
            seed=1,
        )
    message = str(caught.value)
    assert "domain 1: needed 5, available 2" in message
    assert "domain 2: needed 3, available 0" in message
    assert "pretest: needed 4, available 1" in message
    assert "domain 3" not in message


def test_plan_prefers_items_not_on_avoided_forms():
    fresh = singles(1, [1, 2, 3])
    used = [Unit((i,), (1,), fresh=False) for i in [10, 11, 12]]
    for seed in range(10):
        plan = plan_form(
            counts={1: 3}, pretest_count=0, operational=used + fresh, pretest=[], seed=seed
        )
        assert sorted(p.version_id for p in plan) == [1, 2, 3]
    plan = plan_form(counts={1: 5}, pretest_count=0, operational=used + fresh, pretest=[], seed=1)
    assert {1, 2, 3} <= {p.version_id for p in plan}


def test_pretest_item_of_a_case_on_the_form_joins_the_case_block():
    case = Unit((50, 51), (1, 1), case_id=9)
    case_pretest = Unit((52,), (1,), case_id=9)
    plan = plan_form(
        counts={1: 2},
        pretest_count=1,
        operational=[case],
        pretest=[case_pretest],
        seed=5,
    )
    assert sorted(p.version_id for p in plan) == [50, 51, 52]


def test_layout_shuffles_reproducibly_and_keeps_cases_together():
    rows = [(i, None, 1, [i * 10 + k for k in range(4)]) for i in range(1, 11)]
    rows[3:3] = [(100, 7, 1, [1000, 1001, 1002]), (101, 7, 2, [1010, 1011, 1012, 1013])]
    one = attempt_layout(rows=rows, seed=42, shuffle_items=True, shuffle_options=True)
    assert one == attempt_layout(rows=rows, seed=42, shuffle_items=True, shuffle_options=True)
    assert one != attempt_layout(rows=rows, seed=43, shuffle_items=True, shuffle_options=True)
    order = [row[0] for row in one]
    assert order.index(101) == order.index(100) + 1
    assert sorted(one[order.index(100)][2]) == [1000, 1001, 1002]
    plain = attempt_layout(rows=rows, seed=42, shuffle_items=False, shuffle_options=False)
    assert [r[0] for r in plain] == [r[0] for r in rows]
    assert plain[0][2] == rows[0][3]


def test_an_items_option_order_depends_on_the_seed_and_the_item_alone():
    rows = [(i, None, 1, [i * 10 + k for k in range(4)]) for i in range(1, 31)]
    full = attempt_layout(rows=rows, seed=7, shuffle_items=True, shuffle_options=True)
    alone = attempt_layout(rows=rows[12:13], seed=7, shuffle_items=False, shuffle_options=True)
    by_item = {row[0]: row[2] for row in full}
    assert by_item[13] == alone[0][2] == option_order(rows[12][3], seed=7, form_item_id=13)
    # Thirty items draw many different orders, and another seed draws other orders.
    positions = {row[0]: [o - row[0] * 10 for o in row[2]] for row in full}
    assert len({tuple(p) for p in positions.values()}) > 10
    other = attempt_layout(rows=rows, seed=8, shuffle_items=True, shuffle_options=True)
    assert {row[0]: row[2] for row in other} != by_item


def test_every_option_order_is_about_equally_likely():
    """Over 4,800 seeds, each of the 24 orders of four options comes about 200 times, each
    option first about a quarter of the time (a fixed set of seeds: the test cannot flake)."""
    options = [11, 22, 33, 44]
    seen = Counter(
        tuple(option_order(options, seed=seed, form_item_id=900)) for seed in range(4800)
    )
    assert len(seen) == 24
    assert min(seen.values()) > 140 and max(seen.values()) < 260
    first = Counter(order[0] for order, n in seen.items() for _ in range(n))
    assert all(1050 < first[o] < 1350 for o in options)
    # Seeds as an attempt has them (48 random bits) and large item ids work the same way.
    assert sorted(option_order(options, seed=2**47 + 3, form_item_id=2**40)) == options


def test_items_with_many_options_are_shuffled_too():
    options = list(range(100, 112))  # beyond the table of orders (8 options)
    one = option_order(options, seed=3, form_item_id=5)
    assert sorted(one) == options and one != options
    assert one == option_order(options, seed=3, form_item_id=5)


# --- the service and the bank ------------------------------------------------------------
@pytest.mark.django_db
def test_default_ccs_blueprint_is_created_by_migration():
    blueprint = Blueprint.objects.get(name="CCS")
    assert blueprint.domain_counts() == {1: 55, 2: 14, 3: 10, 4: 10, 5: 8}
    assert blueprint.total_items == 107 and blueprint.pretest_count == 10
    assert blueprint.time_limit_minutes == 240 and blueprint.warning_minutes == [30, 5]


@pytest.mark.django_db
def test_form_assemble_from_the_bank_uses_operational_and_pretest_items():
    bank_items(1, 4)
    bank_items(2, 3)
    case, case_items = bank_case([1, 2])
    bank_items(1, 3, status=ItemStatus.PRETEST)
    bank_items(1, 5, status=ItemStatus.APPROVED)  # approved but not operational: never used
    blueprint = blueprint_with({1: 3, 2: 2}, pretest=2)
    form = services.form_assemble(blueprint=blueprint, seed=11, name="F1", by=None)
    items = list(form.items.select_related("item_version"))
    assert [fi.position for fi in items] == [1, 2, 3, 4, 5, 6, 7]
    assert {fi.item_version.status for fi in items if not fi.is_pretest} == {"operational"}
    assert {fi.item_version.status for fi in items if fi.is_pretest} == {"pretest"}
    assert sum(fi.is_pretest for fi in items) == 2
    on_form = [fi.item_version_id for fi in items]
    # The case fits the counts, so it is used whole and its items sit together.
    positions = sorted(on_form.index(v.pk) for v in case_items)
    assert positions[1] == positions[0] + 1
    assert form.status == FormStatus.DRAFT
    again = services.form_assemble(blueprint=blueprint, seed=11, name="F2", by=None)
    assert list(again.items.values_list("item_version_id", "is_pretest")) == list(
        form.items.values_list("item_version_id", "is_pretest")
    )


@pytest.mark.django_db
def test_form_assemble_shortfall_is_a_validation_error_naming_domains():
    bank_items(1, 2)
    blueprint = blueprint_with({1: 3, 2: 1}, pretest=1)
    with pytest.raises(ValidationError) as caught:
        services.form_assemble(blueprint=blueprint, seed=1, name="short", by=None)
    text = " ".join(caught.value.messages)
    assert "domain 1: needed 3, available 2" in text
    assert "domain 2: needed 1, available 0" in text
    assert "pretest: needed 1, available 0" in text
    assert not ExamForm.objects.filter(name="short").exists()


@pytest.mark.django_db
def test_form_assemble_avoids_versions_of_an_earlier_form():
    bank_items(1, 6)
    blueprint = blueprint_with({1: 3})
    first = services.form_assemble(blueprint=blueprint, seed=1, name="A", by=None)
    used = list(first.items.values_list("item_version_id", flat=True))
    second = services.form_assemble(
        blueprint=blueprint, seed=1, name="B", by=None, exclude_versions=used
    )
    assert not set(second.items.values_list("item_version_id", flat=True)) & set(used)


@pytest.mark.django_db
def test_blueprint_totals_must_add_up():
    blueprint = blueprint_with({1: 3})
    Blueprint.objects.filter(pk=blueprint.pk).update(total_items=10)
    blueprint.refresh_from_db()
    with pytest.raises(ValidationError, match="Total items is 10"):
        services.form_assemble(blueprint=blueprint, seed=1, name="x", by=None)


# --- publishing --------------------------------------------------------------------------
@pytest.mark.django_db
def test_publish_locks_item_versions_and_announces_the_publication():
    called = []

    def listener(sender, *, form, by=None, **kwargs):
        called.append(form.pk)

    signals.form_publishing.connect(listener)
    try:
        form = published_form({1: 2}, pretest=1, available_to_all=False)
    finally:
        signals.form_publishing.disconnect(listener)
    assert form.status == FormStatus.PUBLISHED and form.published_at is not None
    versions = ItemVersion.objects.filter(form_items__form=form)
    assert versions.count() == 3 and all(v.locked for v in versions)
    assert called == [form.pk]


@pytest.mark.django_db
def test_published_form_and_its_items_cannot_change():
    form = published_form({1: 2})
    form.name = "renamed"
    with pytest.raises(FrozenFormError):
        form.save()
    form.refresh_from_db()
    with pytest.raises(FrozenFormError):
        form.delete()
    with pytest.raises(FrozenFormError):
        ExamForm.objects.filter(pk=form.pk).update(shuffle_items=True)
    with pytest.raises(FrozenFormError):
        ExamForm.objects.filter(pk=form.pk).delete()
    item = form.items.first()
    item.is_pretest = True
    with pytest.raises(FrozenFormError):
        item.save()
    with pytest.raises(FrozenFormError):
        item.delete()
    with pytest.raises(FrozenFormError):
        FormItem.objects.filter(form=form).update(is_pretest=True)
    with pytest.raises(FrozenFormError):
        FormItem.objects.filter(form=form).delete()
    with pytest.raises(FrozenFormError):
        FormItem.objects.create(form=form, position=99, item_version=item.item_version)
    # Who may sit it is not part of the form.
    services.form_set_availability(form=form, available_to_all=False)
    with pytest.raises(ValidationError, match="already published"):
        services.form_publish(form=form, by=None)


@pytest.mark.django_db
def test_publish_requires_permission_and_the_forms_program(candidate, instructor, manager_b):
    bank_items(1, 2)
    form = services.form_assemble(blueprint=blueprint_with({1: 2}), seed=1, name="P", by=instructor)
    assert form.owner_program.slug == "a"  # the instructor's program
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.form_publish(form=form, by=candidate)
    from tests.conftest import give_role
    from tests.factories import judges, operational_versions, rate

    rate(operational_versions(form), rating=0.6, judges_=judges(2))
    # An instructor of another program has the permission, but not on this form.
    other = give_role(manager_b, "b", "instructor")
    from django.contrib.auth.models import Permission

    other.user_permissions.add(Permission.objects.get(codename="publish_examform"))
    with pytest.raises(PermissionDenied, match="form's program"):
        services.form_publish(form=form, by=type(other).objects.get(pk=other.pk))
    assert services.form_publish(form=form, by=instructor).is_published


@pytest.mark.django_db
def test_assemble_form_command(capsys):
    from tests.factories import judges, rate

    rate(bank_items(1, 6), rating=0.6, judges_=judges(1))
    blueprint_with({1: 3}, name="Mini")
    call_command("assemble_form", "--blueprint", "Mini", "--name", "Demo A", "--seed", "5",
                 "--publish", "--available-to-all")  # fmt: skip
    call_command("assemble_form", "--blueprint", "Mini", "--name", "Demo B", "--seed", "5",
                 "--exclude-form", "Demo A")  # fmt: skip
    a = ExamForm.objects.get(name="Demo A")
    b = ExamForm.objects.get(name="Demo B")
    assert a.is_published and a.available_to_all and not b.is_published
    assert not set(a.items.values_list("item_version_id", flat=True)) & set(
        b.items.values_list("item_version_id", flat=True)
    )
    with pytest.raises(CommandError, match="domain 1: needed 3, available 0"):
        blueprint_with({1: 3}, name="Other")
        ItemVersion.objects.update(status=ItemStatus.RETIRED)
        call_command("assemble_form", "--blueprint", "Other", "--name", "C", "--seed", "1")
