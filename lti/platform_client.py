"""Calls from the tool to a platform's services (Assignment and Grade Services, Names and
Role Provisioning), through pylti1p3's service connector: it fetches an access token with
a client assertion signed by the tool's active key."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from exams.models import Attempt
from lti.models import Context, GradePost, ResourceLink
from lti.services import SCORE_MAXIMUM, lineitem_tag
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


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


# Pages of line items read while looking for a link's: far more than any course has.
MAX_LINEITEM_PAGES = 50


def lineitem_find_or_create(*, link: ResourceLink) -> str:
    """The URL of the link's line item in the platform's container, created if missing.

    Found by its resourceLinkId (the platform's own binding of a line item to the link) or
    by the tag the tool gives the line items it creates. The container is asked with the
    AGS filters (resource_link_id, tag); the answer is checked here too, since a platform
    may ignore a filter and list every line item of the course.
    """
    endpoint = dict(link.ags_endpoint or {})
    connector = ServiceConnector(lib_registration(link.context.registration))
    ags = AssignmentsGradesService(connector, endpoint)
    tag = lineitem_tag(link)
    for query in ({"resource_link_id": link.resource_link_id}, {"tag": tag}):
        url: str | None = _with_query(link.lineitems_url, **query)
        for _ in range(MAX_LINEITEM_PAGES):
            if not url:
                break
            items, url = ags.get_lineitems_page(url)
            for item in items:
                if item.get("id") and (
                    item.get("resourceLinkId") == link.resource_link_id or item.get("tag") == tag
                ):
                    return item["id"]
    label = (link.form.name if link.form_id else "") or link.title or "CCS exam"
    new = (
        LineItem()
        .set_label(label[:255])
        .set_score_maximum(SCORE_MAXIMUM)
        .set_resource_link_id(link.resource_link_id)
        .set_tag(tag)
    )
    if link.form_id:
        new.set_resource_id(f"form-{link.form_id}")
    media_type = "application/vnd.ims.lis.v2.lineitem+json"
    created = connector.make_service_request(
        endpoint.get("scope") or [],
        link.lineitems_url,
        is_post=True,
        data=new.get_value(),
        content_type=media_type,
        accept=media_type,
    )
    body = created.get("body")
    url = body.get("id") if isinstance(body, dict) else None
    if not url:
        raise PlatformRefused("the platform created a line item without an id")
    return url


def members_fetch(*, context: Context) -> list[dict]:
    connector = ServiceConnector(lib_registration(context.registration))
    nrps = NamesRolesProvisioningService(
        connector, {"context_memberships_url": context.memberships_url}
    )
    return nrps.get_members()
