"""Figures against hand-computed cohorts (see hand_cohort in conftest for the people).

Cohort A: 6 candidates; sat = alice, bob, carol, frank (erin is still in progress, dave
never started) = 4; finished exam attempts = 2 + 1 + 1 + 1 = 5; scored candidates =
alice, bob, carol = 3; first attempts passed = bob = 1/3; best attempts passed = alice
(retake) and bob = 2/3; scored attempts 280, 310, 320, 250: mean 290, median 295.
"""

import datetime as dt

import pytest

from cohorts import selectors
from cohorts.selectors import Filters

from .conftest import make_cohort, make_form, sit

pytestmark = pytest.mark.django_db


def figures_of(cohort, filters=selectors.NO_FILTERS):
    return selectors.cohort_figures(cohort_ids=[cohort.pk], filters=filters)[cohort.pk]


def test_cohort_figures_match_the_hand_computed_cohort(hand_cohort):
    f = figures_of(hand_cohort["cohort"])
    assert (f.candidates, f.sat, f.attempts) == (6, 4, 5)
    assert (f.scored_candidates, f.first_passed, f.best_passed) == (3, 1, 2)
    assert f.first_pass_rate == pytest.approx(1 / 3)
    assert f.best_pass_rate == pytest.approx(2 / 3)
    assert f.scored_attempts == 4
    assert f.mean_scaled == pytest.approx(290)
    assert f.median_scaled == pytest.approx(295)


def test_first_attempt_is_the_earliest_sitting_not_the_first_row_inserted(hand_cohort):
    # alice's 310 was inserted before her earlier 280: her first attempt still failed.
    f = figures_of(hand_cohort["cohort"], Filters(date_from=dt.date(2026, 1, 1)))
    assert f.first_passed == 1


def test_practice_attempts_never_count(hand_cohort, django_user_model, manager, form):
    from .conftest import make_candidate

    only_practice = make_candidate(django_user_model, "pat")
    cohort = make_cohort("Practice only", managers=[manager], candidates=[only_practice])
    sit(only_practice, form, scaled=380, mode="practice")
    f = figures_of(cohort)
    assert (f.candidates, f.sat, f.attempts, f.scored_attempts) == (1, 0, 0, 0)
    assert f.first_pass_rate is None and f.mean_scaled is None


def test_each_cohort_counts_only_its_members(hand_cohort):
    figures = selectors.cohort_figures(
        cohort_ids=[hand_cohort["cohort"].pk, hand_cohort["cohort_b"].pk]
    )
    b = figures[hand_cohort["cohort_b"].pk]
    assert (b.candidates, b.sat, b.attempts, b.first_passed, b.best_passed) == (1, 1, 1, 1, 1)
    assert b.median_scaled == 390
    assert figures[hand_cohort["cohort"].pk].candidates == 6


def test_a_cohort_without_members_has_zeros_and_no_rates(manager):
    cohort = make_cohort("Empty", managers=[manager])
    f = figures_of(cohort)
    assert (f.candidates, f.sat, f.attempts) == (0, 0, 0)
    assert f.first_pass_rate is None and f.best_pass_rate is None and f.median_scaled is None


def test_median_of_an_odd_count_is_the_middle_score(django_user_model, manager, form):
    from .conftest import make_candidate

    people = [make_candidate(django_user_model, f"p{i}") for i in range(3)]
    cohort = make_cohort("Odd", managers=[manager], candidates=people)
    for person, score in zip(people, [200, 330, 301], strict=True):
        sit(person, form, scaled=score)
    f = figures_of(cohort)
    assert f.median_scaled == 301
    assert f.mean_scaled == pytest.approx(277)


def test_filter_by_form_keeps_only_that_forms_attempts(hand_cohort):
    f = figures_of(hand_cohort["cohort"], Filters(form_id=hand_cohort["other_form"].pk))
    assert (f.sat, f.attempts, f.scored_candidates, f.first_passed) == (1, 1, 1, 1)
    assert f.candidates == 6  # membership does not depend on the filters


def test_filter_by_date_range_is_inclusive_of_both_days(hand_cohort):
    # Days 3 (alice 280), 10 (bob 320) and 20 (carol 250) fall in 8–25 January.
    f = figures_of(
        hand_cohort["cohort"], Filters(date_from=dt.date(2026, 1, 8), date_to=dt.date(2026, 1, 25))
    )
    assert (f.attempts, f.scored_attempts) == (3, 3)
    assert f.mean_scaled == pytest.approx((280 + 320 + 250) / 3)
    assert f.first_passed == 1 and f.best_passed == 1


def test_cohort_page_distribution_trend_domains_and_readiness(hand_cohort):
    page = selectors.cohort_page(cohort=hand_cohort["cohort"])
    counts = {b.low: b.count for b in page.bins if b.count}
    assert counts == {240: 1, 280: 1, 300: 1, 320: 1}
    assert page.bins[0].low == 100 and page.bins[-1].high == 400
    assert [(p.month, p.attempts, p.passed) for p in page.periods] == [
        (dt.date(2026, 1, 1), 3, 1),
        (dt.date(2026, 2, 1), 1, 1),
    ]
    d1 = next(d for d in page.domains if d.number == 1)
    d3 = next(d for d in page.domains if d.number == 3)
    assert d1.cohort_percent == pytest.approx(100 * 100 / 165)
    assert d1.all_percent == pytest.approx(100 * 155 / 220)  # zed counted, practice not
    assert d3.cohort_percent == pytest.approx(50.0)
    assert d3.all_percent == pytest.approx(62.5)
    assert next(d for d in page.domains if d.number == 2).cohort_percent is None

    order = [r.name for r in page.readiness]
    assert order == ["Carol", "Alice", "Dave", "Erin", "Frank", "Bob"]
    alice = page.readiness[1]
    assert (alice.latest, alice.best, alice.trend, alice.attempts) == (310, 310, 30, 2)
    assert alice.status == "borderline" and alice.latest_probability == 0.55
    frank = next(r for r in page.readiness if r.name == "Frank")
    assert frank.attempts == 1 and frank.latest is None and frank.status == "not-started"


@pytest.mark.parametrize(
    "filters",
    [
        selectors.NO_FILTERS,
        Filters(date_from=dt.date(2026, 1, 1)),
        Filters(date_to=dt.date(2026, 1, 31)),
    ],
    ids=["all", "from-january", "to-january"],
)
def test_cohort_page_figures_are_the_cohort_lists_figures(hand_cohort, filters):
    """The page computes its figures in its own statement; the list's statement agrees."""
    page = selectors.cohort_page(cohort=hand_cohort["cohort"], filters=filters)
    assert page.figures == figures_of(hand_cohort["cohort"], filters)


def test_cohort_page_figures_by_form(hand_cohort):
    form_ids = [f.pk for f in selectors.cohort_forms(cohort=hand_cohort["cohort"])]
    assert form_ids  # the hand cohort sat two forms
    for form_id in form_ids:
        filters = Filters(form_id=form_id)
        page = selectors.cohort_page(cohort=hand_cohort["cohort"], filters=filters)
        assert page.figures == figures_of(hand_cohort["cohort"], filters)


def test_median_of_a_score_distribution():
    assert selectors._median({}) is None
    assert selectors._median({300: 1}) == 300
    assert selectors._median({280: 1, 310: 1}) == 295
    assert selectors._median({250: 2, 300: 1, 320: 5}) == 320
    assert selectors._median({250: 2, 300: 2}) == 275
    assert selectors._median({250: 3, 300: 2}) == 250


def test_candidate_page_lists_exam_attempts_in_order_and_counts_practice_apart(hand_cohort):
    page = selectors.candidate_page(cohort=hand_cohort["cohort"], user_id=hand_cohort["carol"].pk)
    assert [a.scaled for a in page.attempts] == [250]
    assert page.practice_count == 1
    assert page.attempts[0].domain_percent[1] == pytest.approx(100 * 4 / 11, abs=0.01)
    assert (
        selectors.candidate_page(cohort=hand_cohort["cohort"], user_id=hand_cohort["zed"].pk)
        is None
    )


def test_generated_data_figures_agree_with_a_python_recount(manager):
    """The SQL figures against a straightforward recount over generated data."""
    from ccs_sim import demo as demo_data
    from exams.models import Attempt

    out = demo_data.generate(cohorts=3, candidates=60, attempts=200, managers=[manager], seed=7)
    assert out.attempts == 200
    figures = selectors.cohort_figures(cohort_ids=[c.pk for c in out.cohorts])
    for cohort in out.cohorts:
        members = set(cohort.memberships.values_list("user_id", flat=True))
        attempts = list(
            Attempt.objects.filter(candidate_id__in=members, mode="exam")
            .exclude(state="in_progress")
            .select_related("score")
            .order_by("started_at", "pk")
        )
        firsts, bests, scores = {}, {}, []
        for a in attempts:
            score = getattr(a, "score", None)
            if score is None or score.scaled_score is None:
                continue
            firsts.setdefault(a.candidate_id, score.passed)
            bests[a.candidate_id] = bests.get(a.candidate_id, False) or score.passed
            scores.append(score.scaled_score)
        f = figures[cohort.pk]
        assert selectors.cohort_page(cohort=cohort).figures == f
        assert f.candidates == len(members)
        assert f.attempts == len(attempts)
        assert f.sat == len({a.candidate_id for a in attempts})
        assert f.first_passed == sum(firsts.values())
        assert f.best_passed == sum(bests.values())
        if scores:
            import statistics

            assert f.mean_scaled == pytest.approx(statistics.mean(scores))
            assert f.median_scaled == pytest.approx(statistics.median(scores))


def test_another_form_does_not_leak_into_filters_choice(hand_cohort):
    unrelated = make_form("Unrelated")
    names = [f.name for f in selectors.cohort_forms(cohort=hand_cohort["cohort"])]
    assert names == ["Form One", "Form Two"]
    assert unrelated.name not in names


def test_domain_performance_of_attempts_scored_by_the_scoring_service(manager, candidate):
    """Domains on the cohort page from real scoring, not from hand-written score rows.

    Form: domain 1 has 4 items, domain 2 has 6. Ann gets 3 of domain 1 and 3 of domain 2,
    Ben 1 and 6: the cohort has 4/8 = 50% in domain 1 and 9/12 = 75% in domain 2.
    """
    from django.contrib.auth import get_user_model

    from scoring import services as scoring_services
    from scoring.models import DomainScore
    from tests.factories import finished_attempt, scored_form

    form = scored_form({1: 4, 2: 6})
    items = {}
    for pk, number in form.items.values_list("pk", "item_version__domain__number"):
        items.setdefault(number, []).append(pk)
    users = get_user_model().objects
    ann = users.create_user("ann", first_name="Ann")
    ben = users.create_user("ben", first_name="Ben")
    cohort = make_cohort("Scored for real", managers=[manager], candidates=[ann, ben])
    for who, right in [(ann, items[1][:3] + items[2][:3]), (ben, items[1][:1] + items[2])]:
        attempt = finished_attempt(form, who, correct=lambda fi, right=right: fi.pk in right)
        scoring_services.attempt_score(attempt_id=attempt.pk)
    # Someone outside the cohort counts in the all-candidates baseline only.
    outsider = finished_attempt(form, candidate, correct=False)
    scoring_services.attempt_score(attempt_id=outsider.pk)

    assert DomainScore.objects.filter(result__attempt__candidate=ann).count() == 2
    page = selectors.cohort_page(cohort=cohort)
    by_number = {d.number: d for d in page.domains}
    assert by_number[1].cohort_percent == pytest.approx(50.0)
    assert by_number[1].cohort_items == 8
    assert by_number[2].cohort_percent == pytest.approx(75.0)
    assert by_number[1].all_percent == pytest.approx(100 * 4 / 12)
    assert by_number[2].all_percent == pytest.approx(100 * 9 / 18)
    assert by_number[3].cohort_percent is None


def test_readiness_puts_the_weakest_first_with_and_without_a_probability(
    django_user_model, manager, form
):
    from .conftest import make_candidate

    people = {name: make_candidate(django_user_model, name) for name in ("dana", "priya", "omar")}
    cohort = make_cohort("Mixed", managers=[manager], candidates=list(people.values()))
    sit(people["dana"], form, day=1, scaled=100)  # scored without a probability
    sit(people["priya"], form, day=1, scaled=280, probability=0.12)
    sit(people["omar"], form, day=1, scaled=250, probability=0.05)
    readiness = selectors.cohort_page(cohort=cohort).readiness
    assert {r.status for r in readiness} == {"needs-help"}
    assert [r.name for r in readiness] == ["Dana", "Omar", "Priya"]


def test_under_a_filter_no_attempt_is_said_as_none_matching(hand_cohort):
    page = selectors.cohort_page(
        cohort=hand_cohort["cohort"], filters=Filters(form_id=hand_cohort["other_form"].pk)
    )
    alice = next(r for r in page.readiness if r.name == "Alice")  # sat only Form One
    assert alice.status == "not-started"
    assert alice.status_label == "No exam matching the filters"
    dave = next(r for r in selectors.cohort_page(cohort=hand_cohort["cohort"]).readiness
                if r.name == "Dave")  # fmt: skip
    assert dave.status_label == "No exam yet"


def test_shown_domain_difference_is_that_of_the_shown_percentages():
    row = selectors.DomainRow(1, "Coding", 84.45, 100, 81.71)
    assert row.difference == pytest.approx(2.74)
    assert row.shown_difference == 2
    assert selectors.DomainRow(1, "Coding", None, 0, 81.71).shown_difference is None
