"""A launch that names only the line item container: the tool finds the link's line item
(by resourceLinkId or its tag) or creates it, once, before posting. Used nonces are
forgotten by the beat once their tokens are too old to be accepted anyway."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from ccs_sim import scheduler
from lti import services
from lti.models import GradePost, LtiUser, ResourceLink, UsedNonce
from scoring.services import attempt_score
from tests.factories import finished_attempt, published_form
from tests.lti.platform import launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    return published_form({1: 4}, available_to_all=False, name="Mock exam B")


def sit(client, platform, lms, form, sub="learner-1", **options):
    client.logout()
    launch(client, platform, sub=sub, server=lms, custom={"form_id": str(form.pk)}, **options)
    user = LtiUser.objects.get(sub=sub).user
    attempt = finished_attempt(form, user, correct=True)
    return attempt, attempt_score(attempt_id=attempt.pk)


def test_a_missing_line_item_is_created_once_and_every_learner_posts_to_it(
    client, platform, registration, lms, form
):
    _, result = sit(client, platform, lms, form, lineitem=False)
    link = ResourceLink.objects.get()
    assert link.lineitem_url == "" and link.lineitems_url == f"{lms.url}/lineitems"
    post = GradePost.objects.get()
    assert post.line_item == ""  # to be found when posted

    assert services.grade_posts_send_due() == 1
    assert lms.created_lineitems == 1
    created = lms.lineitems["2"]
    assert created["scoreMaximum"] == 400
    assert created["label"] == "Mock exam B"
    assert created["resourceLinkId"] == "link-1"
    assert created["tag"] == "ccs-sim:link-1"
    [score] = lms.platform_scores("2")
    assert score["scoreGiven"] == result.scaled_score and score["userId"] == "learner-1"
    post.refresh_from_db()
    link.refresh_from_db()
    assert post.line_item == link.found_lineitem_url == lms.lineitem_url("2")
    assert post.status == "sent"

    sit(client, platform, lms, form, sub="learner-2", lineitem=False)
    assert GradePost.objects.get(lti_user__sub="learner-2").line_item == lms.lineitem_url("2")
    assert services.grade_posts_send_due() == 1
    assert lms.created_lineitems == 1  # found on the link: not created again
    assert [s["userId"] for s in lms.platform_scores("2")] == ["learner-1", "learner-2"]
    assert lms.platform_scores("1") == []


@pytest.mark.parametrize(
    "existing",
    [
        {"resourceLinkId": "link-1", "label": "Set up in the gradebook"},
        {"tag": "ccs-sim:link-1", "label": "Made by the tool earlier"},
    ],
)
def test_the_links_line_item_on_the_platform_is_found_not_duplicated(
    client, platform, registration, lms, form, existing
):
    lms.lineitems["5"] = {"id": lms.lineitem_url("5"), "scoreMaximum": 400, **existing}
    lms.lineitems["6"] = {
        "id": lms.lineitem_url("6"),
        "scoreMaximum": 100,
        "resourceLinkId": "another-link",
        "tag": "ccs-sim:another-link",
    }
    sit(client, platform, lms, form, lineitem=False)
    assert services.grade_posts_send_due() == 1
    assert lms.created_lineitems == 0
    assert len(lms.platform_scores("5")) == 1
    assert lms.platform_scores("6") == []


def test_a_failed_lookup_is_retried_like_a_failed_post(client, platform, registration, lms, form):
    sit(client, platform, lms, form, lineitem=False)
    lms.close()  # the platform is down
    now = timezone.now()
    assert services.grade_posts_send_due(now=now) == 0
    post = GradePost.objects.get()
    assert post.status == "pending" and post.tries == 1 and post.line_item == ""
    assert post.last_error
    assert ResourceLink.objects.get().found_lineitem_url == ""


def test_no_line_item_and_no_right_to_make_one_owes_no_grade(
    client, platform, registration, lms, form
):
    claim = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
    sit(
        client, platform, lms, form, lineitem=False,
        extra_claims={claim: {"lineitems": f"{lms.url}/lineitems", "scope": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/score"]}},
    )  # fmt: skip
    assert not GradePost.objects.exists()


# --- Used nonces ------------------------------------------------------------------------------
def test_the_sweep_forgets_only_nonces_older_than_the_token_lifetime(registration, settings):
    settings.CCS_LTI_ID_TOKEN_MAX_AGE = 3600
    now = timezone.now()
    old = UsedNonce.objects.create(
        registration=registration, nonce="old", used_at=now - dt.timedelta(seconds=3661)
    )
    recent = UsedNonce.objects.create(
        registration=registration, nonce="recent", used_at=now - dt.timedelta(seconds=3599)
    )
    assert services.used_nonces_forget(now=now) == 1
    assert not UsedNonce.objects.filter(pk=old.pk).exists()
    assert UsedNonce.objects.filter(pk=recent.pk).exists()


def test_both_beats_run_the_nonce_sweep(registration, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["lti-forget-used-nonces"]
    assert entry["task"] == "lti.tasks.forget_used_nonces"
    UsedNonce.objects.create(
        registration=registration, nonce="n", used_at=timezone.now() - dt.timedelta(days=2)
    )
    beat = scheduler.InProcessBeat(settings.CELERY_BEAT_SCHEDULE)
    assert "lti-forget-used-nonces" in beat.tick()
    assert not UsedNonce.objects.exists()


def test_a_replay_within_the_lifetime_is_refused_after_the_sweep(client, platform, registration):
    data = launch(client, platform, post=False)
    assert client.post("/lti/launch/", data).status_code == 409  # accepted (no form yet)
    services.used_nonces_forget()
    assert UsedNonce.objects.count() == 1
    response = client.post("/lti/launch/", data)
    assert response.status_code == 403
    assert "already used" in response.content.decode()


def test_a_token_older_than_the_lifetime_is_refused_once_its_nonce_is_forgotten(
    client, platform, registration, settings
):
    settings.CCS_LTI_ID_TOKEN_MAX_AGE = 600
    # A platform that issues day-long tokens: expiry alone would let a replay through.
    data = launch(client, platform, expiration=86_400, post=False)
    assert client.post("/lti/launch/", data).status_code == 409
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=15)):
        assert services.used_nonces_forget() == 1
        # The same browser, whose session still holds the sign-in's state and nonce.
        response = client.post("/lti/launch/", data)
    assert response.status_code == 403
    assert "issued too long ago" in response.content.decode()


def test_a_token_issued_in_the_future_is_refused(client, platform, registration):
    import time

    with time_machine.travel(time.time() + 600, tick=True):
        data = launch(client, platform, post=False)
    response = client.post("/lti/launch/", data)
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert not UsedNonce.objects.exists()


def test_token_age_check_refuses_missing_future_and_old_issue_times(settings):
    settings.CCS_LTI_ID_TOKEN_MAX_AGE = 600
    now = timezone.now()
    stamp = now.timestamp()
    services.token_age_check(claims={"iat": int(stamp) - 590}, now=now)
    services.token_age_check(claims={"iat": int(stamp) + 30}, now=now)  # clock skew
    for claims, said in [
        ({}, "does not say when"),
        ({"iat": "yesterday"}, "does not say when"),
        ({"iat": True}, "does not say when"),
        ({"iat": int(stamp) + 600}, "in the future"),
        ({"iat": int(stamp) - 700}, "too long ago"),
    ]:
        with pytest.raises(services.LaunchRefused, match=said):
            services.token_age_check(claims=claims, now=now)


def test_two_links_leading_to_one_line_item_post_the_attempt_once(
    client, platform, registration, lms, form
):
    attempt, _ = sit(client, platform, lms, form)  # link-1 names line item 1
    launch(client, platform, link_id="link-2", server=lms, lineitem=False,
           custom={"form_id": str(form.pk)})  # fmt: skip
    second = ResourceLink.objects.get(resource_link_id="link-2")
    # The platform bound link-2 to the same gradebook column.
    lms.lineitems["1"]["resourceLinkId"] = "link-2"
    first_post = GradePost.objects.get()
    GradePost.objects.create(
        attempt=attempt, link=second, lti_user=first_post.lti_user, line_item=""
    )
    assert services.grade_posts_send_due() == 1
    assert lms.score_requests == 1
    assert len(lms.platform_scores("1")) == 1
    skipped = GradePost.objects.get(link=second)
    assert skipped.status == "sent" and lms.lineitem in skipped.last_error
