"""Forms that share an anchor block are linked onto one scale by the Rasch run; drifting
anchors are reported and left out of the link; forms sharing nothing are reported."""

from __future__ import annotations

import numpy as np
import pytest

from itemanalysis.models import AnalysisKind, RunStatus
from scoring import services as scoring_services
from scoring.models import ConversionMethod, ConversionVersion, ItemCalibration
from tests.factories import bank_items, blueprint_with, form_of, rasch_attempts
from tests.itemanalysis.helpers import run

pytestmark = pytest.mark.django_db

ANCHORS, UNIQUE = 12, 9
DRIFTING = 3  # the anchor whose difficulty changes on form B


@pytest.fixture
def anchored_forms():
    """Forms A (the base form) and B share 12 anchors; B's takers are abler, and anchor 3
    is 1.2 logits harder on B (an edited stem, say) than on A."""
    rng = np.random.default_rng(2026)
    versions = bank_items(1, ANCHORS + 2 * UNIQUE)
    ids = [v.pk for v in versions]
    true_b = dict(zip(ids, rng.permutation(np.linspace(-1.6, 1.6, len(ids))), strict=True))
    anchors = ids[:ANCHORS]
    blueprint = blueprint_with({1: ANCHORS + UNIQUE})
    form_a = form_of(anchors + ids[ANCHORS : ANCHORS + UNIQUE], name="A", blueprint=blueprint)
    form_b = form_of(anchors + ids[ANCHORS + UNIQUE :], name="B", blueprint=blueprint)
    scoring_services.base_form_set(blueprint=blueprint, form=form_a)
    on_b = dict(true_b)
    on_b[anchors[DRIFTING]] += 1.2
    rasch_attempts(form_a, difficulties=true_b, abilities=rng.normal(0, 1, 900), rng=rng)
    rasch_attempts(form_b, difficulties=on_b, abilities=rng.normal(0.5, 1, 900), rng=rng)
    return form_a, form_b, anchors, true_b, ids


def test_two_forms_with_a_common_block_are_linked_and_the_drifting_anchor_reported(
    anchored_forms,
):
    form_a, form_b, anchors, true_b, ids = anchored_forms
    result = run(AnalysisKind.RASCH)
    assert result.status == RunStatus.DONE, result.message

    (link,) = result.summary["links"]
    assert link["form"] == "B" and link["anchors"] == ANCHORS
    assert [d["version_id"] for d in link["drifting"]] == [anchors[DRIFTING]]
    assert link["drifting"][0]["displacement"] == pytest.approx(1.2, abs=0.3)
    assert link["kept"] == ANCHORS - 1
    assert result.summary["origin"] == "A" and result.summary["unlinked"] == []
    assert "drifting anchors left out of the link" in result.message

    stored = dict(ItemCalibration.objects.values_list("item_version_id", "difficulty"))
    assert set(stored) == set(ids)
    # The scale's origin is A's own calibration (centred on A's items): every item,
    # B's own items included, sits at its true difficulty plus that one constant.
    origin = -np.mean([true_b[v] for v in ids[: ANCHORS + UNIQUE]])
    b_only = ids[ANCHORS + UNIQUE :]
    errors = [stored[v] - true_b[v] - origin for v in b_only]
    assert abs(np.mean(errors)) < 0.12
    # The drifting anchor keeps its difficulty on A, where it was first placed.
    assert stored[anchors[DRIFTING]] - origin == pytest.approx(true_b[anchors[DRIFTING]], abs=0.25)


def test_a_linked_form_is_re_equated_to_the_base_form_as_a_new_table_version(anchored_forms):
    form_a, form_b, *_ = anchored_forms
    result = run(AnalysisKind.RASCH)
    assert result.summary["reequated"] == ["B"]
    form_b.conversion.refresh_from_db()
    assert form_b.conversion.method == ConversionMethod.EQUATED
    assert form_b.conversion.version == 2
    latest = ConversionVersion.objects.get(form=form_b, version=2)
    assert f"analysis run #{result.pk}" in latest.reason
    # The base form keeps its panel's cut.
    form_a.conversion.refresh_from_db()
    assert (form_a.conversion.method, form_a.conversion.version) == ("angoff", 1)
    # Run again on the same data: the same table, no new version.
    run(AnalysisKind.RASCH)
    form_b.conversion.refresh_from_db()
    assert form_b.conversion.version == 2


def test_forms_that_share_no_items_are_reported_as_not_connected():
    rng = np.random.default_rng(7)
    versions = [v.pk for v in bank_items(1, 20)]
    b = dict(zip(versions, rng.normal(0, 1, 20), strict=True))
    blueprint = blueprint_with({1: 10})
    form_a = form_of(versions[:10], name="A", blueprint=blueprint)
    form_b = form_of(versions[10:], name="B", blueprint=blueprint)
    scoring_services.base_form_set(blueprint=blueprint, form=form_a)
    rasch_attempts(form_a, difficulties=b, abilities=rng.normal(0, 1, 300), rng=rng)
    rasch_attempts(form_b, difficulties=b, abilities=rng.normal(0, 1, 300), rng=rng)

    result = run(AnalysisKind.RASCH)

    assert result.status == RunStatus.DONE, result.message
    assert result.summary["unlinked"] == [{"form_id": form_b.pk, "form": "B", "anchors": 0}]
    assert "B is not connected" in result.message
    calibrated = set(ItemCalibration.objects.values_list("item_version_id", flat=True))
    assert calibrated == set(versions[:10])


# --- Pages ------------------------------------------------------------------------------------
def test_run_page_and_form_report_show_the_link_and_its_drifting_anchor(
    client, instructor, anchored_forms
):
    from django.urls import reverse

    from questionbank.models import ItemVersion

    form_a, form_b, anchors, *_ = anchored_forms
    result = run(AnalysisKind.RASCH)
    drifting_key = ItemVersion.objects.get(pk=anchors[DRIFTING]).item.key
    client.force_login(instructor)
    page = client.get(reverse("admin:itemanalysis_analysisrun_change", args=[result.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="linking"' in html
    assert "11 of 12" in html and drifting_key in html
    report = client.get(reverse("admin:itemanalysis_formstatistic_report", args=[form_b.pk]))
    html = report.content.decode()
    assert "Drifting anchors" in html and drifting_key in html
    base = client.get(reverse("admin:itemanalysis_formstatistic_report", args=[form_a.pk]))
    assert "set the bank scale" in base.content.decode()


def test_form_report_says_when_a_form_is_not_connected(client, instructor):
    from django.urls import reverse

    rng = np.random.default_rng(3)
    versions = [v.pk for v in bank_items(1, 12)]
    b = dict(zip(versions, rng.normal(0, 1, 12), strict=True))
    form_a = form_of(versions[:6], name="A")
    form_b = form_of(versions[6:], name="B")
    for form in (form_a, form_b):
        rasch_attempts(form, difficulties=b, abilities=rng.normal(0, 1, 200), rng=rng)
    run(AnalysisKind.RASCH)
    client.force_login(instructor)
    page = client.get(reverse("admin:itemanalysis_formstatistic_report", args=[form_b.pk]))
    assert "Not connected" in page.content.decode()


# --- Rescoring after a recalibration (settings.CCS_RESCORE_AFTER_CALIBRATION) -----------------
SCORED_BEFORE = 25


def _scored_on_b(form_b) -> list:
    """B's first attempts, scored with its Angoff table before any calibration."""
    from exams.models import Attempt

    attempts = list(Attempt.objects.filter(form=form_b).order_by("pk")[:SCORED_BEFORE])
    for attempt in attempts:
        scoring_services.attempt_score(attempt_id=attempt.pk)
    return attempts


def test_a_recalibration_rescores_the_forms_scored_attempts_by_default(
    anchored_forms, client, settings, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from common.roles import Role
    from scoring.models import AttemptResult, ResultHistory

    assert settings.CCS_RESCORE_AFTER_CALIBRATION is True  # the shipped default
    form_a, form_b, *_ = anchored_forms
    attempts = _scored_on_b(form_b)
    before = {r.attempt_id: r for r in AttemptResult.objects.filter(attempt__in=attempts)}
    assert all(r.theta is None and r.conversion_version == 1 for r in before.values())

    with django_capture_on_commit_callbacks(execute=True):
        result = run(AnalysisKind.RASCH)

    assert result.summary["reequated"] == ["B"] and result.summary["rescored"] is True
    assert "re-equated (their attempts are rescored): B" in result.message
    assert ConversionVersion.objects.get(form=form_b, version=2).rescored is True
    now = {r.attempt_id: r for r in AttemptResult.objects.filter(attempt__in=attempts)}
    reason = f"New calibration (analysis run #{result.pk})"
    for attempt in attempts:
        current, old = now[attempt.pk], before[attempt.pk]
        assert (current.version, current.conversion_version) == (2, 2)
        assert current.change_reason == reason
        # Rescored from its answers with the calibrated items: an ability and its error.
        assert current.theta is not None and current.pass_probability is not None
        (kept,) = ResultHistory.objects.filter(attempt=attempt)
        assert (kept.version, kept.conversion_version) == (1, 1)
        assert (kept.scaled_score, kept.passed) == (old.scaled_score, old.passed)
        assert kept.reason == reason
    # The audit trail has the change of each result, with its cause.
    record = AttemptResult.history.filter(id=now[attempts[0].pk].pk).order_by("-history_id")[0]
    assert record.history_type == "~"
    assert record.history_change_reason.startswith("Rescored with conversion table version 2")
    assert reason in record.history_change_reason
    # The candidate's report notes the change.
    candidate = attempts[0].candidate
    candidate.groups.add(Group.objects.get(name=Role.CANDIDATE.value))
    client.force_login(candidate)
    html = client.get(reverse("scoring:report", args=[attempts[0].pk])).content.decode()
    assert 'id="result-change"' in html and reason in html
    # Nothing is left owed.
    assert scoring_services.stale_results(form_id=form_b.pk).count() == 0


def test_with_rescoring_after_calibration_off_issued_results_stand(
    anchored_forms, settings, django_capture_on_commit_callbacks
):
    from exams.models import Attempt
    from scoring.models import AttemptResult, ResultHistory

    settings.CCS_RESCORE_AFTER_CALIBRATION = False
    form_a, form_b, *_ = anchored_forms
    attempts = _scored_on_b(form_b)
    before = {
        r.attempt_id: (r.scaled_score, r.passed, r.version, r.conversion_version)
        for r in AttemptResult.objects.filter(attempt__in=attempts)
    }

    with django_capture_on_commit_callbacks(execute=True):
        result = run(AnalysisKind.RASCH)

    # The form is still re-equated: a new table version, marked as not rescoring.
    assert result.summary["reequated"] == ["B"] and result.summary["rescored"] is False
    assert "CCS_RESCORE_AFTER_CALIBRATION is off" in result.message
    form_b.conversion.refresh_from_db()
    assert (form_b.conversion.version, form_b.conversion.method) == (2, "equated")
    assert form_b.conversion.rescore_from == 1
    assert ConversionVersion.objects.get(form=form_b, version=2).rescored is False
    after = {
        r.attempt_id: (r.scaled_score, r.passed, r.version, r.conversion_version)
        for r in AttemptResult.objects.filter(attempt__in=attempts)
    }
    assert after == before
    assert not ResultHistory.objects.filter(attempt__in=attempts).exists()
    # The sweep finds nothing owed either, so the results stand for good.
    assert scoring_services.stale_results().count() == 0
    assert scoring_services.results_rescore_stale() == 0
    # An attempt scored from now on uses the new table.
    later = Attempt.objects.filter(form=form_b, score__isnull=True).order_by("pk").first()
    fresh = scoring_services.attempt_score(attempt_id=later.pk)
    assert fresh.conversion_version == 2 and fresh.theta is not None
