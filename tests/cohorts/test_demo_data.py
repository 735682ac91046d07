import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from ccs_sim.demo import DEMO_COHORTS, DEMO_OTHER
from cohorts.models import Assignment, Cohort, Membership
from exams import services as exams_services
from exams.eligibility import attempt_review_allowed
from exams.models import Attempt, AttemptState, ReviewPolicy
from scoring.models import AttemptResult
from tests.factories import scored_form

pytestmark = pytest.mark.django_db


def test_generate_demo_data_inserts_what_it_was_asked_for(manager):
    call_command(
        "generate_demo_data", "--cohorts", "4", "--candidates", "80", "--attempts", "300",
        "--seed", "3", "--manager", manager.username,
    )  # fmt: skip
    assert Cohort.objects.managed_by(manager).count() == 4
    assert Membership.objects.count() == 80
    assert Attempt.objects.exams().count() == 300
    scores = AttemptResult.objects.values_list("scaled_score", flat=True)
    assert AttemptResult.objects.count() >= 290  # a few may still be in progress
    assert min(scores) >= 100 and max(scores) <= 400
    assert 0.1 < AttemptResult.objects.filter(passed=True).count() / len(scores) < 0.9


def test_unknown_manager_is_refused():
    with pytest.raises(CommandError, match="no user named ghost"):
        call_command(
            "generate_demo_data", "--cohorts", "1", "--candidates", "1", "--manager", "ghost"
        )


def test_demo_mode_needs_the_demo_accounts():
    with pytest.raises(CommandError, match="run seed_demo first"):
        call_command("generate_demo_data", "--demo")


def test_demo_mode_gives_demo_manager_two_cohorts_and_someone_else_one(client, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--no-bank")
    call_command("generate_demo_data", "--demo")
    call_command("generate_demo_data", "--demo")  # idempotent
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    manager = users.get(username="demo-manager")
    assert sorted(Cohort.objects.managed_by(manager).values_list("name", flat=True)) == sorted(
        DEMO_COHORTS
    )
    other = Cohort.objects.get(name=DEMO_OTHER)
    first = Cohort.objects.get(name=DEMO_COHORTS[0])
    assert first.memberships.filter(user__username="demo-candidate").exists()
    assert first.instructors.filter(username="demo-instructor").exists()
    client.force_login(manager)
    page = client.get(reverse("cohorts:detail", args=[first.pk])).content.decode()
    assert '<svg class="chart"' in page
    assert client.get(reverse("cohorts:detail", args=[other.pk])).status_code == 404


def test_generated_scores_have_the_shape_scoring_stores_and_their_domain_rows(manager):
    from ccs_sim import demo as demo_data
    from scoring.models import DomainScore
    from scoring.selectors import domain_rows

    demo_data.generate(cohorts=1, candidates=10, attempts=20, managers=[manager], seed=5)
    result = AttemptResult.objects.exclude(domain_results={}).first()
    # The score report reads what scoring writes: score, items, percent, expected, band.
    rows = domain_rows(result=result)
    assert [r.number for r in rows] == [1, 2, 3, 4, 5]
    stored = {d.domain: (d.score, d.items) for d in DomainScore.objects.filter(result=result)}
    assert stored == {r.number: (r.score, r.items) for r in rows}
    assert all(r.band in {"below", "near", "above"} for r in rows)
    assert DomainScore.objects.count() == 5 * AttemptResult.objects.count()


def test_generated_attempts_carry_their_result_copy_as_scored_attempts_do(manager):
    from ccs_sim import demo as demo_data

    demo_data.generate(cohorts=1, candidates=10, attempts=30, managers=[manager], seed=7)
    scored = Attempt.objects.filter(score__isnull=False).select_related("score")
    assert scored.exists()
    for attempt in scored:
        # The candidate's home and result page read this copy, not the result row.
        assert attempt.scored_at is not None and attempt.scored_at > attempt.submitted_at
        assert attempt.result["scaled_score"] == attempt.score.scaled_score
        assert attempt.result["passed"] == attempt.score.passed
        assert float(attempt.raw_score) == attempt.score.raw_score
    assert not Attempt.objects.filter(score__isnull=True).exclude(result={}).exists()


def test_migration_copies_domain_results_of_both_shapes_into_rows(manager):
    """Rows for results stored before the DomainScore table (scoring migration 0004)."""
    import importlib

    from django.apps import apps

    from scoring.models import DomainScore

    from .conftest import make_form, sit

    form = make_form("Before rows")
    old_shape = sit(manager, form, day=0, scaled=300)
    new_shape = sit(manager, form, day=1, scaled=310)
    AttemptResult.objects.filter(attempt=old_shape).update(
        domain_results={"1": {"correct": 7, "total": 10}, "2": {"correct": 2, "total": 4}}
    )
    AttemptResult.objects.filter(attempt=new_shape).update(
        domain_results={"1": {"score": 8.5, "items": 10, "percent": 85.0}}
    )
    DomainScore.objects.all().delete()

    migration = importlib.import_module("scoring.migrations.0004_domain_score")
    migration.copy_domain_results(apps, None)

    rows = set(DomainScore.objects.values_list("result__attempt_id", "domain", "score", "items"))
    assert rows == {
        (old_shape.pk, 1, 7.0, 10),
        (old_shape.pk, 2, 2.0, 4),
        (new_shape.pk, 1, 8.5, 10),
    }


def test_demo_attempts_carry_answers_drawn_from_the_rasch_model_and_are_scored_from_them(
    manager,
):
    import numpy as np

    from ccs_sim import demo as demo_data
    from exams.models import Response
    from tests.factories import bank_items, form_of

    form = form_of(bank_items(1, 12) + bank_items(3, 8), name="Demo form", rating=0.6)
    demo_data.generate(
        cohorts=2, candidates=40, attempts=120, managers=[manager], seed=11, answers=True
    )
    finished = Attempt.objects.exams().finished().filter(form=form)
    assert finished.count() >= 110
    for attempt in finished[:5]:
        assert Response.objects.filter(attempt=attempt).count() == 20
        assert len(attempt.layout) == 20
    results = AttemptResult.objects.filter(attempt__in=finished)
    assert results.count() == finished.count()
    # Scored from the answers: the raw score is the number of right answers.
    some = results.first()
    assert sum(some.item_scores.values()) == some.raw_score
    raws = np.array(results.values_list("raw_score", flat=True))
    assert 0.3 < raws.mean() / 20 < 0.95 and raws.std() > 1
    # Domain 3 is the cohorts' weaker one (DOMAIN_OFFSET), on items of equal ratings.
    d1 = np.mean([r["1"]["percent"] for r in results.values_list("domain_results", flat=True)])
    d3 = np.mean([r["3"]["percent"] for r in results.values_list("domain_results", flat=True)])
    assert d3 < d1


def test_bulk_generated_attempts_stay_without_answers(manager):
    from ccs_sim import demo as demo_data
    from exams.models import Response
    from tests.factories import bank_items, form_of

    form_of(bank_items(1, 6), name="Bulk form")
    demo_data.generate(cohorts=1, candidates=10, attempts=20, managers=[manager], seed=2)
    assert not Response.objects.exists()
    assert AttemptResult.objects.count() >= 19


def test_the_demo_candidates_first_form_shows_its_review_on_submission(settings, candidate):

    settings.DEBUG = True
    form = scored_form({1: 2, 2: 1}, pretest=1, name="Demo review form")
    call_command("seed_demo", "--no-bank")
    # Whatever the model's default, the demo's first assignment keeps "at once".
    Assignment._meta.get_field("review_policy").default = ReviewPolicy.NONE
    try:
        call_command("generate_demo_data", "--demo")
    finally:
        Assignment._meta.get_field("review_policy").default = ReviewPolicy.AFTER_SUBMISSION
    first = Cohort.objects.get(name=DEMO_COHORTS[0])
    assignment = Assignment.objects.get(cohort=first, form=form)
    assert assignment.review_policy == ReviewPolicy.AFTER_SUBMISSION
    dana = get_user_model().objects.get(username="demo-candidate")
    attempt = exams_services.attempt_start(form=form, candidate=dana)
    exams_services.attempt_finalise(attempt_id=attempt.pk, state=AttemptState.SUBMITTED)
    attempt.refresh_from_db()
    assert attempt_review_allowed(attempt=attempt)


# --- The whole demo, as `make run` builds it (issue 16's "Done when") ------------------------
def test_seed_demo_builds_three_linked_forms_with_precise_results_and_every_page(
    client, settings, django_capture_on_commit_callbacks
):
    """One run of seed_demo on an empty database (about 25 s of CPU), then each promise."""
    import numpy as np
    from django.contrib.auth import get_user_model

    from ccs_sim.demo import DEMO_DRIFT, demo_dif
    from ccs_sim.management.commands.seed_demo import DEMO_FORMS
    from exams.models import AttemptMode, ExamForm, FormItem
    from itemanalysis.models import AnalysisKind, AnalysisRun, ItemReviewFlag
    from scoring import services as scoring_services
    from scoring.models import BaseForm, ItemCalibration, ResultHistory

    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    users = get_user_model().objects
    a, b, c = (ExamForm.objects.get(name=name) for name in DEMO_FORMS)

    # Every operational item of the three forms is calibrated on one scale.
    operational = set(
        FormItem.objects.filter(form__in=[a, b, c], is_pretest=False).values_list(
            "item_version_id", flat=True
        )
    )
    assert operational <= set(ItemCalibration.objects.values_list("item_version_id", flat=True))
    # B and C are linked to A and equated to its cut; A is the base form.
    assert BaseForm.objects.get().form == a
    a.conversion.refresh_from_db()
    assert a.conversion.method == "angoff"
    for form in (b, c):
        form.conversion.refresh_from_db()
        assert (form.conversion.method, form.conversion.base_form) == ("equated", a)
    rasch = AnalysisRun.objects.filter(kind=AnalysisKind.RASCH).latest("created_at")
    summary = rasch.summary
    assert summary["not_calibrated"] == 0 and not summary["unlinked"] and not summary["failed"]
    links = {link["form"]: link for link in summary["links"]}
    assert set(links) == {b.name, c.name}
    for link in links.values():
        assert link["kept"] >= 0.7 * link["anchors"] >= 15  # noise drops only a few
    # The planted drifting anchor is found on C, about as far as it was moved.
    worst = min(links[c.name]["drifting"], key=lambda d: d["displacement"])
    assert worst["displacement"] == pytest.approx(DEMO_DRIFT, abs=0.4)

    # Every scored exam result carries its ability, error band and pass probability, and
    # was scored with its form's current table.
    results = AttemptResult.objects.filter(attempt__mode=AttemptMode.EXAM)
    assert results.count() >= 1100
    assert not results.filter(theta__isnull=True).exists()
    assert not results.filter(theta_se__isnull=True).exists()
    assert not results.filter(pass_probability__isnull=True).exists()
    assert not results.filter(scaled_low__isnull=True).exists()
    assert scoring_services.stale_results().count() == 0
    # A realistic share passes (the demo's abilities): between 55% and 70%.
    share = results.filter(passed=True).count() / results.count()
    assert 0.55 <= share <= 0.70, share
    # And the probabilities agree with the outcomes on the whole.
    p = np.array(results.values_list("pass_probability", flat=True))
    assert abs(p.mean() - share) < 0.08

    # Readiness: probabilities on the manager's cohort page and a candidate's history.
    manager = users.get(username="demo-manager")
    cohort = Cohort.objects.get(name=DEMO_COHORTS[0])
    client.force_login(manager)
    page = client.get(reverse("cohorts:detail", args=[cohort.pk]))
    readiness = page.context["page"].readiness
    with_chance = [r for r in readiness if r.new_form_probability is not None]
    assert len(with_chance) >= 0.8 * sum(1 for r in readiness if r.attempts)
    members = Membership.objects.filter(cohort=cohort).values("user_id")
    sat = results.filter(attempt__candidate__in=members).first()
    client.force_login(sat.attempt.candidate)
    assert 'id="pass-chance"' in client.get(reverse("scoring:history")).content.decode()

    # The form report of each form: classification indices and the information chart.
    client.force_login(users.get(username="demo-instructor"))
    for form in (a, b, c):
        html = client.get(
            reverse("admin:itemanalysis_formstatistic_report", args=[form.pk])
        ).content.decode()
        assert 'id="classification"' in html and 'id="information-table"' in html
        assert "<svg" in html
    # The DIF page compares the two demo cohorts.
    other = Cohort.objects.get(name=DEMO_COHORTS[1])
    dif = client.get(
        "/admin/itemanalysis/formstatistic/dif/",
        {"form": a.pk, "split": "cohorts", "reference": cohort.pk, "focal": other.pk},
    )
    assert dif.status_code == 200 and 'id="dif-table"' in dif.content.decode()
    assert dif.context["report"].n_reference + dif.context["report"].n_focal >= 300
    # The demo's recorded DIF run flagged the planted item for review, on the item itself.
    (planted,) = demo_dif([a, b, c])[1]
    flag = ItemReviewFlag.objects.get(item_version_id=planted)
    assert flag.is_open and flag.category == "C" and flag.run.form == a
    assert flag.comparison == f"{DEMO_COHORTS[0]} vs {DEMO_COHORTS[1]}"
    listing = client.get("/admin/questionbank/itemversion/", {"review": "open"})
    assert planted in [v.pk for v in listing.context["cl"].result_list]

    # Adaptive practice is offered to the demo candidate and runs.
    candidate = users.get(username="demo-candidate")
    client.force_login(candidate)
    assert "Adaptive" in client.get(reverse("exams:practice")).content.decode()
    response = client.post(
        reverse("exams:practice"), {"domains": ["1"], "count": "10", "adaptive": "on"}
    )
    assert response.status_code == 302
    attempt = candidate.attempts.get()
    assert attempt.practice_settings.get("adaptive")

    # A cut change on the base form rescores every attempt on the three forms (B and C are
    # re-equated to the new standard), each earlier result kept in its history.
    operator = users.create_superuser("demo-operator", "op@example.org", "pw-operator-1")
    scored_on_a = results.filter(attempt__form=a).count()
    with django_capture_on_commit_callbacks(execute=True):
        scoring_services.form_cut_override(
            form=a, cut=a.conversion.cut + 3, reason="Second standard-setting panel", by=operator
        )
    assert ResultHistory.objects.filter(attempt__form=a).count() == scored_on_a
    assert ResultHistory.objects.count() == results.count()
    assert not results.filter(version=1).exists()
    assert results.filter(passed=True).count() / results.count() < share
