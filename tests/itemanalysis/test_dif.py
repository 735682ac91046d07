"""The DIF page of the item-analysis back office: a cohort split (from cohorts' registered
provider), first versus repeat attempts, and who may open it."""

from __future__ import annotations

import numpy as np
import pytest

from cohorts.models import Cohort, Membership
from itemanalysis import selectors, splits
from tests.conftest import program
from tests.factories import bank_items, form_of, rasch_attempts

pytestmark = pytest.mark.django_db

URL = "/admin/itemanalysis/formstatistic/dif/"
PLANTED = 4  # the item that is harder for the second cohort


@pytest.fixture
def two_cohorts(instructor):
    rng = np.random.default_rng(16)
    versions = [v.pk for v in bank_items(1, 20)]
    b = dict(zip(versions, np.linspace(-1.5, 1.5, 20), strict=True))
    form = form_of(versions, name="DIF form")
    harder = dict(b)
    harder[versions[PLANTED]] += 1.5
    cohorts = []
    for name, difficulties in (("North", b), ("South", harder)):
        cohort = Cohort.objects.create(name=name, program=program("a"))
        cohort.instructors.add(instructor)
        attempts = rasch_attempts(
            form,
            difficulties=difficulties,
            abilities=rng.normal(0, 1, 300),
            rng=rng,
            prefix=name,
        )
        Membership.objects.bulk_create(
            Membership(cohort=cohort, user_id=a.candidate_id) for a in attempts
        )
        cohorts.append(cohort)
    return form, cohorts, versions


def test_cohort_split_finds_the_planted_item_in_category_c(two_cohorts, instructor):
    form, (north, south), versions = two_cohorts
    provider = splits.provider("cohorts")
    split = provider.split(user=instructor, reference=str(north.pk), focal=str(south.pk))
    report = selectors.form_dif(form=form, split=split)
    assert (report.n_reference, report.n_focal, report.n_both) == (300, 300, 0)
    first = report.rows[0]
    assert first.version_id == versions[PLANTED]
    assert first.category == "C" and first.review and first.favours == "reference"
    assert first.delta < -1.5
    assert (first.n_reference, first.n_focal) == (300, 300)
    assert first.right_focal < first.right_reference
    assert [r.version_id for r in report.flagged] == [versions[PLANTED]]
    order = {"C": 0, "B": 1, "A": 2}
    assert [order[r.category] for r in report.rows] == sorted(
        order[r.category] for r in report.rows
    )


def test_instructor_sees_the_dif_page_with_the_c_item_first(client, instructor, two_cohorts):
    form, (north, south), versions = two_cohorts
    client.force_login(instructor)
    assert client.get(URL).status_code == 200
    page = client.get(
        URL,
        {"form": form.pk, "split": "cohorts", "reference": north.pk, "focal": south.pk},
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'id="dif-table"' in html
    table = html[html.index('id="dif-table"') :]
    key = page.context["report"].rows[0].key
    assert table.index("C — review") < table.index(key) < table.index('class="dif-A"')
    assert "300 attempts in the reference group, 300 in the focal group" in html


def test_first_attempts_against_repeats(instructor, two_cohorts):
    form, (north, _), versions = two_cohorts
    from tests.factories import finished_attempt

    someone = north.memberships.first().user
    finished_attempt(form, someone, correct=True)  # a retake
    split = splits.provider("attempt-order").split(user=instructor)
    report = selectors.form_dif(form=form, split=split)
    assert (report.n_reference, report.n_focal) == (600, 1)
    assert report.small


def test_the_same_cohort_twice_is_refused(client, instructor, two_cohorts):
    form, (north, _), _ = two_cohorts
    client.force_login(instructor)
    page = client.get(
        URL, {"form": form.pk, "split": "cohorts", "reference": north.pk, "focal": north.pk}
    )
    assert "Choose two different groups" in page.content.decode()
    assert page.context["report"] is None


def test_cohorts_the_instructor_does_not_teach_are_not_offered(client, reviewer, two_cohorts):
    form, (north, south), _ = two_cohorts
    client.force_login(reviewer)
    assert client.get(URL).status_code == 200
    page = client.get(
        URL, {"form": form.pk, "split": "cohorts", "reference": north.pk, "focal": south.pk}
    )
    # The reviewer teaches neither cohort: the choices do not offer them.
    assert page.status_code == 200 and page.context["report"] is None
    assert "Select a valid choice" in page.content.decode()
    north.instructors.add(reviewer)
    page = client.get(
        URL, {"form": form.pk, "split": "cohorts", "reference": north.pk, "focal": south.pk}
    )
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()


def test_the_provider_refuses_a_cohort_out_of_reach(reviewer, two_cohorts):
    _, (north, south), _ = two_cohorts
    provider = splits.provider("cohorts")
    assert provider.split(user=reviewer, reference=str(north.pk), focal=str(south.pk)) is None


def test_managers_and_candidates_cannot_open_the_dif_page(client, manager, candidate):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    assert client.get(URL).status_code == 403
    client.force_login(candidate)
    assert client.get(URL).status_code == 302  # not staff: the admin's login page
