"""Promoting pretest items, and assembling forms balanced in difficulty."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from exams.models import ExamForm, FormItem
from itemanalysis.balanced import form_assemble_balanced, form_difficulty_check
from itemanalysis.models import AnalysisKind, PretestPromotion
from itemanalysis.promotion import pretest_promote, pretest_promotion_problems
from questionbank.models import ItemStatus, ItemVersion, StatusChange
from scoring.models import BaseForm, ItemCalibration
from tests.factories import calibrate, operational_versions
from tests.itemanalysis.helpers import (
    analysed_form,
    full_pipeline,
    pretest_items_of_program,
    pretest_versions,
    run,
    simulate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed():
    form = analysed_form()
    simulate(form, candidates=400)
    full_pipeline()
    pretest_items_of_program(form)
    clean, hard = (ItemVersion.objects.get(pk=pk) for pk in pretest_versions(form))
    return form, clean, hard


def test_a_clean_calibrated_pretest_item_is_promoted_carrying_its_difficulty(analysed, instructor):
    _, clean, _ = analysed
    assert pretest_promotion_problems(version=clean) == []
    calibration = ItemCalibration.objects.get(item_version=clean)

    promotion = pretest_promote(version=clean, by=instructor, note="Looks good")

    clean.refresh_from_db()
    assert clean.status == ItemStatus.OPERATIONAL
    assert promotion.difficulty == calibration.difficulty
    assert promotion.n_responses == 400 and promotion.by == instructor
    assert promotion.statistics["n_responses"] == 400 and "p" in promotion.statistics
    assert PretestPromotion.objects.get() == promotion
    change = StatusChange.objects.get(item_version=clean, to_status="operational")
    assert change.by == instructor and change.note == "Looks good"
    # The calibration it carries is what equating reads for operational items.
    assert ItemCalibration.objects.get(item_version=clean).difficulty == calibration.difficulty


def test_promotion_is_refused_with_every_reason(analysed, instructor, settings):
    _, _, hard = analysed
    settings.CCS_ITEM_FLAGS = {**settings.CCS_ITEM_FLAGS, "min_responses": 1000}
    with pytest.raises(ValidationError) as refused:
        pretest_promote(version=hard, by=instructor)
    reasons = refused.value.messages
    assert any(r.startswith("Too few responses: 400, at least 1000") for r in reasons)
    assert any(r.startswith("Too hard:") for r in reasons)
    hard.refresh_from_db()
    assert hard.status == ItemStatus.PRETEST
    assert not PretestPromotion.objects.exists()


def test_an_item_without_the_anchored_calibration_cannot_be_promoted(instructor):
    form = analysed_form()
    simulate(form, candidates=150)
    run(AnalysisKind.CLASSICAL)
    version = ItemVersion.objects.get(pk=pretest_versions(form)[0])
    problems = pretest_promotion_problems(version=version)
    assert any("no statistics from the anchored calibration" in p for p in problems)
    assert any("no calibrated difficulty" in p for p in problems)
    with pytest.raises(ValidationError):
        pretest_promote(version=version, by=instructor)


def test_an_operational_item_is_not_promoted(analysed, instructor):
    form, _, _ = analysed
    version = ItemVersion.objects.get(pk=operational_versions(form)[0])
    with pytest.raises(ValidationError) as refused:
        pretest_promote(version=version, by=instructor)
    assert any("not a pretest item" in m for m in refused.value.messages)


@pytest.mark.parametrize("who", ["candidate", "manager"])
def test_candidates_and_managers_cannot_promote(request, analysed, who):
    _, clean, _ = analysed
    with pytest.raises(PermissionDenied):
        pretest_promote(version=clean, by=request.getfixturevalue(who))
    clean.refresh_from_db()
    assert clean.status == ItemStatus.PRETEST


# --- Balanced assembly ------------------------------------------------------------------------
@pytest.fixture
def calibrated_bank():
    """A calibrated bank of 40 operational items (difficulties spread -2..2), a blueprint
    asking for 10 of them, and its base form made of items near the middle."""
    from exams.services import form_assemble
    from tests.factories import bank_items, blueprint_with

    versions = bank_items(1, 40)
    difficulties = [-2 + 4 * i / 39 for i in range(40)]
    calibrate(versions, difficulties)
    blueprint = blueprint_with({1: 10})
    base = form_assemble(blueprint=blueprint, seed=1, name="Base")
    BaseForm.objects.create(blueprint=blueprint, form=base)
    return blueprint, base


def test_difficulty_check_compares_mean_and_spread_with_the_base_form(calibrated_bank):
    blueprint, base = calibrated_bank
    same = form_difficulty_check(form=base, base_form=base)
    assert same.ok and same.mean_difference == 0 and same.sd_difference == 0
    report = form_difficulty_check(form=base, mean_tolerance=0.15)
    assert report.base_form == "Base"


def test_difficulty_check_reports_items_without_calibration(calibrated_bank):
    from tests.factories import bank_items

    blueprint, base = calibrated_bank
    ItemCalibration.objects.filter(
        item_version_id=FormItem.objects.filter(form=base).first().item_version_id
    ).delete()
    bank_items(1, 1)
    report = form_difficulty_check(form=base, base_form=base)
    assert not report.ok
    assert any("no calibrated difficulty" in p for p in report.problems)


def test_balanced_assembly_tries_seeds_until_the_form_is_within_bounds(calibrated_bank):
    blueprint, base = calibrated_bank
    result = form_assemble_balanced(
        blueprint=blueprint,
        seed=100,
        name="Balanced",
        by=None,
        tries=200,
        mean_tolerance=0.15,
        sd_tolerance=0.15,
    )
    assert result.balanced, result.message
    assert result.report.ok
    assert abs(result.report.mean_difference) <= 0.15
    assert abs(result.report.sd_difference) <= 0.15
    # Only the kept form exists: the discarded tries were rolled back.
    assert set(ExamForm.objects.values_list("name", flat=True)) == {"Base", "Balanced"}


def test_balanced_assembly_keeps_the_closest_form_and_says_so_when_none_fits(calibrated_bank):
    blueprint, base = calibrated_bank
    result = form_assemble_balanced(
        blueprint=blueprint,
        seed=100,
        name="Closest",
        tries=5,
        mean_tolerance=0.0001,
        sd_tolerance=0.0001,
    )
    assert not result.balanced
    assert "No seed in 5 tries" in result.message and "closest" in result.message
    assert ExamForm.objects.filter(name="Closest").exists()
    assert 100 <= result.seed < 105


def test_balanced_assembly_needs_a_calibrated_base_form(calibrated_bank):
    blueprint, base = calibrated_bank
    ItemCalibration.objects.all().delete()
    with pytest.raises(ValidationError):
        form_assemble_balanced(blueprint=blueprint, seed=1, name="X")
