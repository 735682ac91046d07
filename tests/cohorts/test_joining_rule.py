"""A cohort counts and shows a member's attempts from the moment they joined it.

An existing account can be added by e-mail; what it did before (with another program, or
on its own) is not this cohort's to read or count.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from cohorts import selectors

from .conftest import T0, make_form, sit

pytestmark = pytest.mark.django_db


def test_an_account_added_by_email_brings_no_history_into_the_cohort(client, hand_cohort, manager):
    cohort, zed = hand_cohort["cohort"], hand_cohort["zed"]  # zed: a 390 in cohort B
    before = selectors.cohort_figures(cohort_ids=[cohort.pk])[cohort.pk]
    client.force_login(manager)
    response = client.post(
        reverse("cohorts:member_add", args=[cohort.pk]), {"name": "Zed", "email": zed.email}
    )
    assert response.status_code == 302
    assert cohort.memberships.filter(user=zed).exists()

    after = selectors.cohort_figures(cohort_ids=[cohort.pk])[cohort.pk]
    assert after.candidates == before.candidates + 1
    assert (after.sat, after.attempts, after.best_passed) == (
        before.sat,
        before.attempts,
        before.best_passed,
    )
    page = selectors.cohort_page(cohort=cohort)
    assert page.figures == after
    zed_row = next(r for r in page.readiness if r.user_id == zed.pk)
    assert (zed_row.attempts, zed_row.best) == (0, None)
    assert selectors.candidate_page(cohort=cohort, user_id=zed.pk).attempts == []
    detail = client.get(reverse("cohorts:candidate", args=[cohort.pk, zed.pk])).content.decode()
    assert "390" not in detail
    remove = client.get(reverse("cohorts:member_remove", args=[cohort.pk, zed.pk]))
    assert "(0 attempts since they joined)" in remove.content.decode()
    # Their own program still sees the attempt.
    cohort_b = hand_cohort["cohort_b"]
    assert selectors.cohort_figures(cohort_ids=[cohort_b.pk])[cohort_b.pk].best_passed == 1


def test_attempts_after_joining_count(hand_cohort):
    cohort, zed = hand_cohort["cohort"], hand_cohort["zed"]
    cohort.memberships.create(user=zed)  # joins now
    form = make_form("Form After")
    days_to_tomorrow = (timezone.now() - T0).days + 1
    sit(zed, form, day=days_to_tomorrow, scaled=330)
    figures = selectors.cohort_page(cohort=cohort).figures
    assert figures == selectors.cohort_figures(cohort_ids=[cohort.pk])[cohort.pk]
    zed_row = next(r for r in selectors.cohort_page(cohort=cohort).readiness if r.user_id == zed.pk)
    assert (zed_row.attempts, zed_row.latest) == (1, 330)
    lines = selectors.candidate_page(cohort=cohort, user_id=zed.pk).attempts
    assert [line.scaled for line in lines] == [330]
    forms = {f.name for f in selectors.cohort_forms(cohort=cohort)}
    assert "Form After" in forms
