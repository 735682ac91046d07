"""Grades go back to the platform's line item once, retried until accepted; the roster
comes from its membership service; keys rotate with the old one still published."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from cohorts.models import Membership
from exams.models import Attempt
from lti import services
from lti.keys import active_key
from lti.models import Context, GradePost, LtiUser, Registration, ResourceLink, ToolKey
from lti.tool_conf import lib_registration
from scoring.models import AttemptResult
from scoring.services import attempt_score, form_cut_override
from tenancy.models import Program
from tests.factories import finished_attempt, published_form
from tests.lti.platform import AGS_SCOPES, LEARNER, launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_attempt(client, platform, registration, lms):
    form = published_form({1: 4}, available_to_all=False)
    launch(client, platform, server=lms, custom={"form_id": str(form.pk)})
    user = LtiUser.objects.get(sub="learner-1").user
    return finished_attempt(form, user, correct=True)


def test_scoring_records_a_grade_post_in_its_transaction_and_the_sweep_posts_it_once(
    learner_attempt, lms, registration, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        result = attempt_score(attempt_id=learner_attempt.pk)
    post = GradePost.objects.get(attempt=learner_attempt)
    assert post.status == "pending" and post.line_item == lms.lineitem

    assert services.grade_posts_send_due() == 1
    assert services.grade_posts_send_due() == 0  # sent: never again
    assert lms.score_requests == 1
    [score] = lms.platform_scores()
    assert score["scoreGiven"] == result.scaled_score
    assert score["scoreMaximum"] == 400
    assert score["userId"] == "learner-1"
    assert score["activityProgress"] == "Completed"
    assert score["gradingProgress"] == "FullyGraded"
    assert score["comment"].endswith(": pass (300 or more).")
    post.refresh_from_db()
    assert (post.status, post.tries) == ("sent", 1)

    # Read back through the platform's results service, as the tool's AGS client sees it.
    link = ResourceLink.objects.get()
    ags = AssignmentsGradesService(
        ServiceConnector(lib_registration(registration)), dict(link.ags_endpoint)
    )
    [grade] = ags.get_grades(LineItem({"id": lms.lineitem}))
    assert grade["resultScore"] == result.scaled_score
    assert grade["userId"] == "learner-1"


def test_a_rescored_result_is_posted_again_once_with_a_later_timestamp(
    client, platform, registration, lms, django_user_model, django_capture_on_commit_callbacks
):
    form = published_form({1: 4}, available_to_all=False)
    launch(client, platform, server=lms, custom={"form_id": str(form.pk)})
    user = LtiUser.objects.get(sub="learner-1").user
    # Three of four right: 3 ≥ the cut of 2.4 (four items rated 0.6) passes.
    learner_attempt = finished_attempt(form, user, correct=lambda item: item.position != 4)
    first = attempt_score(attempt_id=learner_attempt.pk)
    assert first.passed
    assert services.grade_posts_send_due() == 1
    post = GradePost.objects.get()
    assert post.sent_result_version == first.version == 1

    # The operator raises the shared form's cut above the raw score: a new table version
    # rescores the attempt (after commit), and the platform is owed the new score.
    operator = django_user_model.objects.create_superuser("operator", "op@example.org", "x")
    with django_capture_on_commit_callbacks(execute=True):
        form_cut_override(
            form=learner_attempt.form, cut=3.99, reason="Standard setting repeated", by=operator
        )
    rescored = AttemptResult.objects.get(attempt=learner_attempt)
    assert rescored.version == 2 and not rescored.passed  # 3 is now below the cut
    post.refresh_from_db()
    assert post.status == "sent" and post.sent_result_version == 2  # the hint posted it

    before, after = lms.platform_scores()
    assert (before["scoreGiven"], after["scoreGiven"]) == (
        first.scaled_score,
        rescored.scaled_score,
    )
    assert after["timestamp"] > before["timestamp"]  # the platform keeps the later one
    assert lms.score_requests == 2
    # Once per result version: nothing more is owed, and scoring it again changes nothing.
    assert services.grade_posts_send_due() == 0
    assert services.grade_posts_reopen(attempt_id=learner_attempt.pk, result=rescored) == []


def test_a_refused_post_is_retried_with_backoff_until_accepted(learner_attempt, lms):
    lms.fail_next = 1
    attempt_score(attempt_id=learner_attempt.pk)
    now = timezone.now()
    assert services.grade_posts_send_due(now=now) == 0
    post = GradePost.objects.get()
    assert post.status == "pending" and post.tries == 1 and "503" in post.last_error
    assert post.next_try_at == now + dt.timedelta(minutes=1)
    assert services.grade_posts_send_due(now=now + dt.timedelta(seconds=30)) == 0  # not due
    assert services.grade_posts_send_due(now=now + dt.timedelta(minutes=2)) == 1
    post.refresh_from_db()
    assert post.status == "sent" and post.tries == 2
    assert len(lms.platform_scores()) == 1


def test_the_beat_task_posts_pending_grades(learner_attempt, lms):
    from lti.tasks import post_pending_grades

    attempt_score(attempt_id=learner_attempt.pk)
    post_pending_grades.apply(throw=True)
    assert GradePost.objects.get().status == "sent"
    assert len(lms.platform_scores()) == 1


def test_a_retake_on_another_form_owes_the_grade_of_the_assigned_forms_link(learner_attempt, lms):
    retake_form = published_form({1: 4}, available_to_all=False, name="Retake of the link")
    retake = finished_attempt(retake_form, learner_attempt.candidate, correct=True)
    Attempt.objects.filter(pk=retake.pk).update(assigned_form=learner_attempt.form)
    attempt_score(attempt_id=retake.pk)
    assert GradePost.objects.get(attempt=retake).line_item == lms.lineitem


def test_attempts_not_launched_from_the_lms_owe_no_grade(learner_attempt, candidate):
    form = learner_attempt.form
    other = finished_attempt(form, candidate, correct=True)
    attempt_score(attempt_id=other.pk)
    assert not GradePost.objects.exists()


def test_roster_sync_fills_the_course_cohort(client, platform, registration, lms):
    launch(
        client,
        platform,
        sub="teacher",
        roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
        server=lms,
    )
    lms.members = [
        {
            "user_id": "s1",
            "roles": LEARNER,
            "status": "Active",
            "given_name": "Sam",
            "email": "s1@x.edu",
        },
        {"user_id": "s2", "roles": LEARNER, "status": "Active"},
        {"user_id": "s3", "roles": LEARNER, "status": "Inactive"},
    ]
    context = Context.objects.get()
    assert services.roster_sync(context=context) == 2
    members = Membership.objects.filter(cohort=context.cohort)
    assert sorted(m.user.lti_identities.get().sub for m in members) == ["s1", "s2"]
    assert services.roster_sync(context=context) == 2  # again: nobody twice
    assert members.count() == 2


def test_rotation_keeps_the_old_public_key_published(client, registration):
    old = active_key()
    call_command("lti_rotate_key")
    new = active_key()
    assert new.kid != old.kid
    kids = {k["kid"] for k in client.get("/lti/jwks/").json()["keys"]}
    assert kids == {old.kid, new.kid}
    ToolKey.objects.filter(pk=old.pk).update(retired_at=timezone.now() - dt.timedelta(days=3))
    kids = {k["kid"] for k in client.get("/lti/jwks/").json()["keys"]}
    assert kids == {new.kid}


def test_register_platform_command_adds_deployments(db):
    Program.objects.create(slug="him", name="HIM program")
    args = [
        "--program",
        "him",
        "--issuer",
        "https://lms.test",
        "--client-id",
        "c1",
        "--auth-url",
        "https://lms.test/auth",
        "--token-url",
        "https://lms.test/token",
        "--jwks-url",
        "https://lms.test/jwks",
    ]
    call_command("lti_register_platform", *args, "--deployment-id", "d1")
    call_command("lti_register_platform", *args, "--deployment-id", "d2")
    registration = Registration.objects.get()
    assert registration.deployment_ids == ["d1", "d2"]
    assert registration.program.slug == "him"


def test_register_platform_command_names_an_unknown_program(db):
    with pytest.raises(CommandError, match="no program with the slug 'nope'"):
        call_command(
            "lti_register_platform", "--program", "nope", "--issuer", "https://lms.test",
            "--client-id", "c1", "--deployment-id", "d1", "--auth-url", "https://lms.test/a",
            "--token-url", "https://lms.test/t", "--jwks-url", "https://lms.test/j",
        )  # fmt: skip


def test_ags_scopes_are_those_the_platform_granted(client, platform, registration, lms):
    launch(client, platform, server=lms)
    assert ResourceLink.objects.get().ags_endpoint["scope"] == AGS_SCOPES
