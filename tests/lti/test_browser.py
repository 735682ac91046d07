"""From the LMS into an exam and the score back, in headless Chromium.

The test platform (lti1p3platform, tests/lti/platform.py) serves a course on its own
origin (127.0.0.1, another site than the live server's localhost): its link starts the
OIDC login, the tool redirects to the platform's authorization endpoint, whose page posts
the id_token to /lti/launch/. The learner lands on the exam signed in without a password,
sits it, submits, and the scaled score is posted once to the platform's line item.
"""

from __future__ import annotations

import time

import pytest
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from exams.models import Attempt, AttemptState
from lti import services
from lti.models import GradePost, LtiUser, ResourceLink
from lti.tool_conf import lib_registration
from tenancy.models import Program
from tests.factories import bank_items, published_form
from tests.lti.platform import CLIENT_ID, DEPLOYMENT_ID, INSTRUCTOR, ISSUER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tool(live_server, platform, lms, settings):
    """The tool on the live server, registered for the platform, and a short form.

    The platform's page posts the id_token across sites, and a browser sends only
    SameSite=None cookies with such a post: without them the sign-in's nonce (kept in the
    session) is not found. Production answers over HTTPS ("https", the default); the live
    server speaks plain HTTP on localhost, where Chromium accepts Secure cookies: "always".
    """
    settings.CCS_LTI_CROSS_SITE_COOKIES = "always"
    import json
    import urllib.request

    Program.objects.get_or_create(slug="him-college", defaults={"name": "HIM college"})
    registration = services.registration_save(
        program_slug="him-college",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT_ID,
        auth_url=f"{lms.url}/auth",
        token_url=f"{lms.url}/token",
        jwks_url=f"{lms.url}/jwks",
        frame_origins=[lms.url],
    )
    platform.set_tool_url(live_server.url)
    with urllib.request.urlopen(f"{live_server.url}/lti/jwks/") as answer:
        platform.get_registration().set_tool_key_set(json.loads(answer.read()))
    bank_items(1, 3)
    form = published_form({1: 3}, minutes=30, name="LMS short form", available_to_all=False)
    lms.launch_as = {"sub": "learner-7", "custom": {"form_id": str(form.pk)}}
    return registration, form


def wait_until(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def sit_and_submit(view, form):
    """Start, answer every question, submit: `view` is the page or the iframe's frame."""
    view.get_by_role("heading", name=form.name).wait_for()
    view.get_by_role("button", name="Start the exam").click()
    view.locator("#q-heading").wait_for()
    view.locator("#exam[data-offline=ready]").wait_for(state="attached")
    for position in range(1, 4):
        heading = view.locator("#q-heading")
        assert heading.inner_text() == f"Question {position} of 3"
        view.locator("input[name=choice]").nth(1).click()  # option B, the key
        view.get_by_text("All answers saved").wait_for()
        if position < 3:
            view.get_by_role("button", name="Save and next").click()
            view.get_by_text(f"Question {position + 1} of 3").wait_for()
    view.get_by_role("link", name="Submit…").first.click()
    view.get_by_role("button", name="Submit now").click()
    view.locator("#result-state").wait_for()


def score_came_back(lms, registration, form, sub="learner-7"):
    attempt = Attempt.objects.get(form=form)
    assert attempt.state == AttemptState.SUBMITTED
    wait_until(lambda: GradePost.objects.filter(attempt=attempt, status="sent").exists())
    attempt.refresh_from_db()
    scaled = attempt.result["scaled_score"]
    assert 100 <= scaled <= 400
    [score] = lms.platform_scores()
    assert score["userId"] == sub
    assert score["scoreGiven"] == scaled
    assert score["scoreMaximum"] == 400
    assert score["activityProgress"] == "Completed"
    assert score["gradingProgress"] == "FullyGraded"
    # Read back from the platform's results service.
    link = ResourceLink.objects.get()
    ags = AssignmentsGradesService(
        ServiceConnector(lib_registration(registration)), dict(link.ags_endpoint)
    )
    [result] = ags.get_grades(LineItem({"id": lms.lineitem}))
    assert (result["userId"], result["resultScore"], result["resultMaximum"]) == (sub, scaled, 400)
    # Once: the sweep finds nothing more to send, and the platform saw one post.
    assert services.grade_posts_send_due() == 0
    assert lms.score_requests == 1


def test_launch_from_the_lms_sit_the_exam_and_the_score_goes_back(page, tool, lms):
    registration, form = tool
    page.goto(f"{lms.url}/course/launch")
    page.wait_for_url(f"**/exams/forms/{form.pk}/")
    user = LtiUser.objects.get(sub="learner-7").user
    assert not user.has_usable_password()
    sit_and_submit(page, form)
    score_came_back(lms, registration, form)


def test_launch_inside_the_lms_iframe(page, tool, lms):
    registration, form = tool
    page.goto(f"{lms.url}/course")
    frame_element = page.locator("#tool")
    frame_element.wait_for()
    wait_until(lambda: any(f.url.endswith(f"/exams/forms/{form.pk}/") for f in page.frames), 15)
    frame = page.frame_locator("#tool")
    sit_and_submit(frame, form)
    assert page.url == f"{lms.url}/course"  # the LMS page stayed around the exam
    score_came_back(lms, registration, form)


def test_an_instructor_adds_an_exam_by_deep_linking_inside_the_lms_iframe(page, tool, lms):
    registration, form = tool
    lms.launch_as = {"sub": "teacher-1", "roles": INSTRUCTOR, "deep_link": True, "link_id": None}
    page.goto(f"{lms.url}/course")
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name="Add an exam to your course").wait_for()
    frame.get_by_label(form.name).check()
    frame.get_by_label("Answer review").select_option("none")
    frame.get_by_role("button", name="Add to the course").click()
    # The tool's page posts the signed answer back to the LMS, in the same frame.
    frame.get_by_role("heading", name=f"Added: {form.name}").wait_for()
    [item] = lms.deep_links
    assert item["custom"] == {"form_id": str(form.pk), "review_policy": "none"}
    assert item["lineItem"]["scoreMaximum"] == 400
    assert item["url"].endswith("/lti/launch/")


def test_a_site_that_is_not_a_registered_lms_cannot_frame_the_tool(browser, tool, lms):
    registration, form = tool
    # Registered for its issuer's origin only: the course page's site is not among them.
    registration.frame_origins = []
    registration.save(update_fields=["frame_origins"])
    context = browser.new_context()
    messages: list[str] = []
    context.on("console", lambda message: messages.append(message.text))
    page = context.new_page()
    try:
        page.goto(f"{lms.url}/course")
        wait_until(lambda: any("frame-ancestors" in m for m in messages), 15)
        assert not any(
            f.url.startswith("http://localhost") and f.url.endswith(f"/exams/forms/{form.pk}/")
            for f in page.frames
        )
        [refusal] = [m for m in messages if "frame-ancestors" in m]
        assert "violates" in refusal and "blocked" in refusal
        assert "https://lms.example.edu" in refusal
    finally:
        context.close()
