"""Calls from the tool to a platform's services (Assignment and Grade Services, Names and
Role Provisioning), through pylti1p3's service connector: it fetches an access token with
a client assertion signed by the tool's active key."""

from __future__ import annotations

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from exams.models import Attempt
from lti.models import Context, GradePost
from lti.services import SCORE_MAXIMUM
from lti.tool_conf import lib_registration

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


class PlatformRefused(Exception):
    pass


def score_post(*, post: GradePost) -> dict:
    """POST the attempt's scaled score to the line item; raises unless accepted.

    The score's timestamp is the scoring time, so a post repeated after a lost answer is
    the same score to the platform, not a new one.
    """
    attempt = Attempt.objects.only("result", "scored_at").get(pk=post.attempt_id)
    summary = attempt.result or {}
    scaled = summary.get("scaled_score")
    if scaled is None:
        raise PlatformRefused(f"attempt {post.attempt_id} has no scaled score")
    passed = summary.get("passed")
    registration = post.link.context.registration
    connector = ServiceConnector(lib_registration(registration))
    endpoint = dict(post.link.ags_endpoint or {})
    endpoint["lineitem"] = post.line_item
    scopes = set(endpoint.get("scope") or [])
    if SCORE_SCOPE not in scopes:
        raise PlatformRefused("the platform did not grant the score scope for this link")
    ags = AssignmentsGradesService(connector, endpoint)
    grade = (
        Grade()
        .set_score_given(scaled)
        .set_score_maximum(SCORE_MAXIMUM)
        .set_timestamp(attempt.scored_at.isoformat())
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(post.lti_user.sub)
        .set_comment(
            f"Scaled score {scaled} of {SCORE_MAXIMUM}: "
            + ("pass (300 or more)." if passed else "did not pass (300 needed).")
        )
    )
    lineitem = LineItem({"id": post.line_item, "scoreMaximum": SCORE_MAXIMUM})
    response = ags.put_grade(grade, lineitem)
    return response.get("body") if isinstance(response, dict) else {}


def members_fetch(*, context: Context) -> list[dict]:
    connector = ServiceConnector(lib_registration(context.registration))
    nrps = NamesRolesProvisioningService(
        connector, {"context_memberships_url": context.memberships_url}
    )
    return nrps.get_members()
