"""Launches from a real LTI 1.3 platform (lti1p3platform): the OIDC dance through the
Django test client, roles, cohorts, deep linking, and the refusals."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from cohorts.models import Assignment, Membership
from lti.models import Context, LtiUser, ResourceLink
from tests.factories import published_form
from tests.lti.platform import ADMIN, INSTRUCTOR, Platform, launch, rsa_pair

pytestmark = pytest.mark.django_db


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_learner_launch_lands_on_the_instructions_of_the_links_form(client, platform, registration):
    form = published_form({1: 2}, available_to_all=False)
    response = launch(client, platform, custom={"form_id": str(form.pk)})
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:instructions", kwargs={"form_id": form.pk})
    page = client.get(response["Location"])
    assert page.status_code == 200
    row = LtiUser.objects.get(registration=registration, sub="learner-1")
    assert not row.user.has_usable_password()
    assert row.user.groups.filter(name="Candidate").exists()
    assert (row.user.first_name, row.user.email) == ("Pat", "learner-1@example.edu")
    context = Context.objects.get(context_id="course-101")
    assert context.cohort.program.slug == "him-college"
    assert Membership.objects.filter(cohort=context.cohort, user=row.user).exists()
    assert Assignment.objects.filter(cohort=context.cohort, form=form).exists()
    assert int(client.session["_auth_user_id"]) == row.user.pk


def test_second_launch_links_the_same_account_and_cohort(client, platform, registration):
    form = published_form({1: 2}, available_to_all=False)
    launch(client, platform, custom={"form_id": str(form.pk)})
    client.logout()
    launch(client, platform, custom={"form_id": str(form.pk)}, link_id="link-2")
    assert LtiUser.objects.count() == 1
    assert Context.objects.count() == 1
    assert ResourceLink.objects.count() == 2


def test_instructor_lands_on_the_link_settings_and_chooses_a_form(client, platform, registration):
    form = published_form({1: 2}, available_to_all=False)
    response = launch(client, platform, sub="teacher", roles=INSTRUCTOR)
    link = ResourceLink.objects.get()
    assert response["Location"] == reverse("lti:link_settings", kwargs={"pk": link.pk})
    page = client.get(response["Location"])
    assert form.name in page.content.decode()
    client.post(response["Location"], {"form": form.pk, "review_policy": "none"})
    link.refresh_from_db()
    assert link.form == form
    assignment = Assignment.objects.get(cohort=link.context.cohort, form=form)
    assert assignment.review_policy == "none"
    assert link.context.cohort.instructors.filter(lti_identities__sub="teacher").exists()


def test_learner_cannot_open_link_settings(client, platform, registration):
    published_form({1: 2}, available_to_all=False)
    launch(client, platform, sub="teacher", roles=INSTRUCTOR)
    link = ResourceLink.objects.get()
    client.logout()
    launch(client, platform, sub="learner-9")
    assert client.get(reverse("lti:link_settings", kwargs={"pk": link.pk})).status_code == 404


def test_administrator_becomes_a_manager_of_the_course_cohort(client, platform, registration):
    launch(client, platform, sub="admin", roles=ADMIN)
    user = LtiUser.objects.get(sub="admin").user
    assert user.groups.filter(name="Program manager").exists()
    assert Context.objects.get().cohort.managers.filter(pk=user.pk).exists()


def test_deep_linking_returns_a_signed_response_with_the_chosen_form(
    client, platform, registration, lms
):
    form = published_form({1: 2}, available_to_all=False)
    response = launch(
        client, platform, sub="teacher", roles=INSTRUCTOR, deep_link=True, link_id=None, server=lms
    )
    assert response["Location"] == reverse("lti:deep_link")
    assert form.name in client.get(reverse("lti:deep_link")).content.decode()
    answer = client.post(reverse("lti:deep_link"), {"form": form.pk, "review_policy": "none"})
    html = answer.content.decode()
    assert f"{lms.url}/deep-link-return" in html
    jwt_value = html.split('name="JWT" value="')[1].split('"')[0]
    items = platform.validate_deeplinking_resp({"JWT": jwt_value})
    assert items[0]["custom"] == {"form_id": str(form.pk), "review_policy": "none"}
    assert items[0]["lineItem"]["scoreMaximum"] == 400
    assert items[0]["url"] == "http://testserver/lti/launch/"


def test_jwks_serves_public_keys_only(client, registration):
    body = client.get("/lti/jwks/").json()
    assert body["keys"] and all("d" not in k and "p" not in k for k in body["keys"])


# --- Refusals: 4xx with the reason, nobody signed in ----------------------------------------
def _tamper(token: str) -> str:
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_bad_signature_is_refused(client, platform, registration):
    data = launch(client, platform, post=False)
    data["id_token"] = _tamper(data["id_token"])
    response = client.post("/lti/launch/", data)
    assert response.status_code == 403
    assert "signature is not valid" in response.content.decode()
    assert not signed_in(client)


def test_token_signed_by_an_unknown_key_is_refused(client, platform, registration):
    private, public = rsa_pair()
    impostor = Platform(private_key=private, public_key=public)
    response = launch(client, impostor)
    assert response.status_code == 403
    assert "never published" in response.content.decode()
    assert not signed_in(client)


def test_wrong_audience_is_refused(client, platform, registration):
    response = launch(client, platform, extra_claims={"aud": "another-tool", "azp": "another-tool"})
    assert response.status_code == 403
    assert "not registered" in response.content.decode()
    assert not signed_in(client)


def test_replayed_launch_is_refused_even_in_the_browser_that_started_it(
    client, platform, registration
):
    data = launch(client, platform, post=False)
    assert client.post("/lti/launch/", data).status_code == 409  # accepted; no form chosen yet
    # Same browser, same state: the library would accept it again; the used nonce does not.
    response = client.post("/lti/launch/", data)
    assert response.status_code == 403
    assert "already used" in response.content.decode()


def test_replayed_launch_from_another_browser_is_refused(client, platform, registration):
    from django.test import Client

    data = launch(client, platform, post=False)
    client.post("/lti/launch/", data)
    thief = Client()
    response = thief.post("/lti/launch/", data)
    assert response.status_code == 403
    assert not signed_in(thief)


def test_expired_token_is_refused(client, platform, registration):
    response = launch(client, platform, expiration=-120)
    assert response.status_code == 403
    assert "expired" in response.content.decode()
    assert not signed_in(client)


def test_unknown_deployment_is_refused(client, platform_keys, registration):
    private, public = platform_keys
    elsewhere = Platform(private_key=private, public_key=public, deployment_id="dep-unknown")
    response = launch(client, elsewhere)
    assert response.status_code == 403
    assert "deployment" in response.content.decode()
    assert not signed_in(client)


def test_launch_without_a_sign_in_started_here_is_refused(client, platform, registration):
    data = launch(client, platform, post=False)
    client.cookies.clear()
    response = client.post("/lti/launch/", data)
    assert response.status_code == 403
    assert not signed_in(client)


def test_login_from_an_unregistered_platform_is_refused(client, registration):
    response = client.get(
        "/lti/login/",
        {
            "iss": "https://unknown-lms.example",
            "login_hint": "x",
            "target_link_uri": "http://testserver/lti/launch/",
        },
    )
    assert response.status_code == 400
    assert not signed_in(client)


def test_login_without_parameters_is_refused(client, registration):
    assert client.get("/lti/login/").status_code == 400
