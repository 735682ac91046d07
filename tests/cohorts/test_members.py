"""Managing members: the paginated, searchable list; removing a member; re-sending the
set-password e-mail to someone who never chose a password."""

import re

import pytest
from django.urls import reverse

from cohorts import selectors, services
from cohorts.models import Membership

from .conftest import JOINED, make_candidate, make_cohort, make_form, sit

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(manager):
    return make_cohort("Members cohort", managers=[manager])


def enrol(client, cohort, name, email, capture):
    with capture(execute=True):
        response = client.post(
            reverse("cohorts:member_add", args=[cohort.pk]), {"name": name, "email": email}
        )
    assert response.status_code == 302, response.content.decode()[:500]
    return Membership.objects.get(cohort=cohort, user__email=email).user


def test_removing_a_member_keeps_account_and_attempts_and_leaves_the_figures(
    client, cohort, manager, django_user_model
):
    ann = make_candidate(django_user_model, "ann", first_name="Ann", last_name="Able")
    bob = make_candidate(django_user_model, "bob", first_name="Bob")
    for user in (ann, bob):
        Membership.objects.create(cohort=cohort, user=user, joined_at=JOINED)
    form = make_form("Form R")
    sit(ann, form, scaled=320)
    sit(bob, form, scaled=250)
    assert selectors.cohort_page(cohort=cohort).figures.best_passed == 1

    client.force_login(manager)
    url = reverse("cohorts:member_remove", args=[cohort.pk, ann.pk])
    page = client.get(url).content.decode()
    assert "Remove Ann Able from Members cohort?" in page
    assert "Their account and exam results (1 attempt since they joined) are kept" in page

    response = client.post(url, {"next": "https://elsewhere.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cohorts:members", args=[cohort.pk])
    assert not cohort.memberships.filter(user=ann).exists()
    assert django_user_model.objects.filter(pk=ann.pk).exists()
    assert ann.attempts.count() == 1
    figures = selectors.cohort_page(cohort=cohort).figures
    assert (figures.candidates, figures.best_passed) == (1, 0)
    # Removing again (say, from a stale tab) finds no such member.
    assert client.post(url).status_code == 404


def test_remove_goes_back_to_the_page_and_search_it_came_from(
    client, cohort, manager, django_user_model
):
    ann = make_candidate(django_user_model, "ann")
    Membership.objects.create(cohort=cohort, user=ann)
    client.force_login(manager)
    back = reverse("cohorts:members", args=[cohort.pk]) + "?q=an&page=1"
    response = client.post(
        reverse("cohorts:member_remove", args=[cohort.pk, ann.pk]), {"next": back}
    )
    assert response["Location"] == back


def test_the_removal_service_refuses_a_non_member(cohort, django_user_model):
    stranger = make_candidate(django_user_model, "stranger")
    with pytest.raises(Exception, match="not a member"):
        services.member_remove(cohort=cohort, user_id=stranger.pk)


def test_resending_the_password_email_to_a_member_who_never_set_one(
    client, cohort, manager, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    dee = enrol(client, cohort, "Dee Diaz", "dee@example.org", django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    members_page = client.get(reverse("cohorts:members", args=[cohort.pk])).content.decode()
    assert "Has not set a password" in members_page

    response = client.post(reverse("cohorts:member_invite", args=[cohort.pk, dee.pk]), follow=True)
    assert "A new link to set a password was sent to dee@example.org." in (
        response.content.decode()
    )
    assert len(mailoutbox) == 2 and mailoutbox[1].to == ["dee@example.org"]

    # The new link works: Dee sets a password, and the button is gone after she signs in.
    link = re.search(r"http://testserver(/cohorts/welcome/\S+/)", mailoutbox[1].body).group(1)
    client.logout()
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "Pass-phrase-9-x", "new_password2": "Pass-phrase-9-x"})
    assert client.login(username="dee@example.org", password="Pass-phrase-9-x")
    client.force_login(manager)
    members_page = client.get(reverse("cohorts:members", args=[cohort.pk])).content.decode()
    assert "Has not set a password" not in members_page
    response = client.post(reverse("cohorts:member_invite", args=[cohort.pk, dee.pk]), follow=True)
    assert "has already set a password" in response.content.decode()
    assert len(mailoutbox) == 2


def test_members_are_paginated_and_searchable(client, cohort, manager, django_user_model):
    users = [
        make_candidate(django_user_model, f"user{i:03d}", last_name=f"Zed{i:03d}")
        for i in range(selectors.MEMBERS_PER_PAGE + 5)
    ]
    Membership.objects.bulk_create(Membership(cohort=cohort, user=u) for u in users)
    client.force_login(manager)
    url = reverse("cohorts:members", args=[cohort.pk])
    first = client.get(url).content.decode()
    assert f"Members ({len(users)})" in first
    assert "Page 1 of 2" in first and "user000" in first and "user104" not in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "user104" in second and "user000" not in second
    assert "Page 2 of 2" in client.get(url, {"page": 99}).content.decode()  # last page

    found = client.get(url, {"q": "user10"}).content.decode()
    assert "user100" in found and "user099" not in found
    assert "matching “user10”" in found
    assert "No member matches" in client.get(url, {"q": "nobody-here"}).content.decode()


def test_a_removed_member_finishes_an_exam_under_way_but_cannot_start_another(
    cohort, manager, django_user_model
):
    from django.core.exceptions import PermissionDenied

    from cohorts.models import Assignment
    from exams import services as exams_services
    from exams.models import AttemptState, ExamForm
    from tests.factories import scored_form

    form = scored_form({1: 2})
    ExamForm.objects.filter(pk=form.pk).update(available_to_all=False)
    form.refresh_from_db()
    Assignment.objects.create(cohort=cohort, form=form, created_by=manager)
    ann = make_candidate(django_user_model, "ann")
    Membership.objects.create(cohort=cohort, user=ann)
    attempt = exams_services.attempt_start(form=form, candidate=ann)

    services.member_remove(cohort=cohort, user_id=ann.pk)

    exams_services.response_save(attempt=attempt, position=1, choices=["1"], flagged=False)
    attempt = exams_services.attempt_submit(attempt=attempt)
    assert attempt.state == AttemptState.SUBMITTED
    with pytest.raises(PermissionDenied, match="not available"):
        exams_services.attempt_start(form=form, candidate=ann)
