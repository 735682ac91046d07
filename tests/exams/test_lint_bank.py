"""`manage.py lint_bank`: the bank's content figures against their thresholds."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from questionbank.lint import (
    ROOT_OPERATIONS,
    is_application,
    key_is_longest,
    looks_like_cpt_descriptor,
)
from questionbank.models import ItemStatus
from questionbank.services import item_enemies_set
from tests.factories import bank_items, published_form, rate


def lint(*args) -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("lint_bank", *args, stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


# --- The heuristics ---------------------------------------------------------------------
def test_a_key_that_ties_for_longest_counts_as_longest():
    assert key_is_longest([("abcd", True), ("abcd", False), ("ab", False)])
    assert key_is_longest([("abcde", True), ("abcd", False)])
    assert not key_is_longest([("abc", True), ("abcd", False)])


@pytest.mark.parametrize(
    ("stem", "applied"),
    [
        ("Which statement correctly describes a Medicare medically unlikely edit (MUE)?", False),
        ("Which TWO are technical safeguards under the HIPAA Security Rule? (Choose 2)", False),
        ("A 71-year-old woman is admitted with sepsis. Which code is sequenced first?", True),
        ("The attending writes 'acute on chronic HFpEF, diuresed'. Which code is assigned?", True),
        (
            "Through an open incision at the wrist, the surgeon divides the transverse carpal "
            "ligament. Which ICD-10-PCS code is assigned?",
            True,
        ),
    ],
)
def test_an_application_item_gives_a_situation_to_apply_a_rule_to(stem, applied):
    assert is_application(stem, has_case=False) is applied
    assert is_application("Which code?", has_case=True)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        # Descriptor house style (made-up descriptors in the style, not CPT text).
        ("45399 Endoscopy, flexible; with removal of lesion(s) by laser", True),
        (
            "27999 Closed treatment of a bone fracture (eg, toe), when performed; with traction",
            True,
        ),
        ("15999 Repair, intermediate, wounds of trunk and/or limbs; 2.6 cm to 7.5 cm", True),
        # Our own wording of a service, and ordinary option texts.
        ("45385, colonoscopy with removal of a polyp or lesion by snare", False),
        ("12032, layered closure of a wound of the trunk or a limb, 2.6 to 7.5 cm long", False),
        ("D51.0; 96372; J3420 × 1 unit", False),
        ("A41.9 Sepsis, unspecified organism", False),
    ],
)
def test_cpt_descriptor_boilerplate_is_told_from_our_own_words(text, quoted):
    assert looks_like_cpt_descriptor(text) is quoted


def test_there_are_31_medical_and_surgical_root_operations():
    assert len(ROOT_OPERATIONS) == 31


# --- The command ------------------------------------------------------------------------
@pytest.mark.django_db
def test_lint_bank_prints_every_figure_and_fails_when_one_misses():
    bank_items(1, 3, options=[("A41.9", False), ("All of the above", True), ("J18.9", False)])
    ok, output = lint()
    assert not ok
    for figure in (
        "key is the longest option",
        "mean Angoff rating of 0.80 or more",
        "application items",
        "outpatient (facility) cases and items",
        "root operations keyed: 0 of 31",
        "quoted CPT descriptors",
        "'all of the above' or 'none of the above' options: 3",
        "pretest items: 0",
        "enemy pairs sharing a published form",
    ):
        assert figure in output, figure
    assert "MISS 'all of the above'" in output and "figure(s) miss their threshold" in output


@pytest.mark.django_db
def test_an_enemy_pair_on_a_published_form_is_a_miss():
    form = published_form({1: 2})
    first, second = (fi.item_version.item for fi in form.items.select_related("item_version__item"))
    item_enemies_set(item=first, enemies=[second])
    ok, output = lint()
    assert not ok
    assert "MISS enemy pairs sharing a published form: 1" in output
    assert f"{form.name}: {min(first.key, second.key)} and {max(first.key, second.key)}" in output


@pytest.mark.django_db
def test_easy_items_are_counted_over_operational_and_pretest_items():
    easy = bank_items(1, 1) + bank_items(1, 1, status=ItemStatus.PRETEST)
    hard = bank_items(1, 8)
    rate(easy, rating=0.85)
    rate(hard, rating=0.6)
    ok, output = lint("--details")
    assert "0.80 or more: 2 of 10 (20.0%) [operational only: 1]" in output
    assert f"{easy[1].item.key} 0.85" in output
