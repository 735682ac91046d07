"""Every dashboard, export and management URL, tried by each of the people.

A manager sees only the cohorts they manage: another manager's cohort, a candidate's
request or an instructor of other cohorts gets 404; the cohort's instructor reads
(and sets accommodations) but changes nothing else; anonymous users go to sign in.
"""

import pytest
from django.urls import reverse

from cohorts.models import Assignment

pytestmark = pytest.mark.django_db

READ_URLS = [
    ("cohorts:detail", {}),
    ("cohorts:detail_export", {"table": "summary"}),
    ("cohorts:detail_export", {"table": "readiness"}),
    ("cohorts:detail_export", {"table": "distribution"}),
    ("cohorts:detail_export", {"table": "trend"}),
    ("cohorts:detail_export", {"table": "domains"}),
    ("cohorts:candidate", {"user_id": "alice"}),
    ("cohorts:candidate_export", {"user_id": "alice"}),
    ("cohorts:members", {}),
]
MANAGE_GET_URLS = [
    ("cohorts:settings", {}),
    ("cohorts:assignment_edit", {"assignment_id": "assignment"}),
    ("cohorts:member_remove", {"user_id": "alice"}),
]
MANAGE_POST_URLS = [
    ("cohorts:settings", {}, {"name": "Renamed"}),
    ("cohorts:member_add", {}, {"name": "New Person", "email": "new@example.org"}),
    ("cohorts:roster_upload", {}, {}),
    ("cohorts:enrolment", {}, {"action": "regenerate"}),
    ("cohorts:assignment_add", {}, {}),
    ("cohorts:assignment_edit", {"assignment_id": "assignment"}, {"max_attempts": "2"}),
    ("cohorts:assignment_delete", {"assignment_id": "assignment"}, {}),
    ("cohorts:member_remove", {"user_id": "alice"}, {}),
    ("cohorts:member_invite", {"user_id": "alice"}, {}),
]
ACCOMMODATION = ("cohorts:accommodation", {"user_id": "alice"}, {"time_multiplier": "1.50"})


@pytest.fixture
def world(hand_cohort, form, manager):
    assignment = Assignment.objects.create(
        cohort=hand_cohort["cohort"], form=form, max_attempts=2, created_by=manager
    )
    return {**hand_cohort, "assignment": assignment}


def url_for(world, name, kwargs):
    resolved = {"pk": world["cohort"].pk}
    for key, value in kwargs.items():
        resolved[key] = world[value].pk if value in world else value
    return reverse(name, kwargs=resolved)


def all_cohort_urls():
    for name, kwargs in READ_URLS + MANAGE_GET_URLS:
        yield "get", name, kwargs, {}
    for name, kwargs, data in MANAGE_POST_URLS + [ACCOMMODATION]:
        yield "post", name, kwargs, data


COHORT_URLS = list(all_cohort_urls())
IDS = [f"{m}-{n}-{'-'.join(map(str, k.values()))}" for m, n, k, _ in COHORT_URLS]


@pytest.mark.parametrize("method, name, kwargs, data", COHORT_URLS, ids=IDS)
def test_anonymous_is_sent_to_sign_in(client, world, method, name, kwargs, data):
    response = getattr(client, method)(url_for(world, name, kwargs), data)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ["candidate", "alice", "manager_b", "reviewer"])
@pytest.mark.parametrize("method, name, kwargs, data", COHORT_URLS, ids=IDS)
def test_people_outside_the_cohort_get_404(client, world, request, who, method, name, kwargs, data):
    user = world[who] if who in world else request.getfixturevalue(who)
    client.force_login(user)
    response = getattr(client, method)(url_for(world, name, kwargs), data)
    assert response.status_code == 404


@pytest.mark.parametrize("name, kwargs", READ_URLS)
def test_manager_and_the_cohorts_instructor_read_every_page(
    client, world, manager, instructor, name, kwargs
):
    for user in (manager, instructor):
        client.force_login(user)
        response = client.get(url_for(world, name, kwargs))
        assert response.status_code == 200, (user, name)


@pytest.mark.parametrize("name, kwargs", MANAGE_GET_URLS)
def test_instructor_cannot_open_management_pages(client, world, instructor, manager, name, kwargs):
    client.force_login(instructor)
    assert client.get(url_for(world, name, kwargs)).status_code == 404
    client.force_login(manager)
    assert client.get(url_for(world, name, kwargs)).status_code == 200


@pytest.mark.parametrize("name, kwargs, data", MANAGE_POST_URLS)
def test_instructor_changes_nothing(client, world, instructor, name, kwargs, data):
    before = world["cohort"].enrolment_code
    client.force_login(instructor)
    assert client.post(url_for(world, name, kwargs), data).status_code == 404
    world["cohort"].refresh_from_db()
    assert world["cohort"].name == "Cohort A" and world["cohort"].enrolment_code == before
    assert Assignment.objects.filter(pk=world["assignment"].pk, max_attempts=2).exists()
    assert world["cohort"].memberships.filter(user=world["alice"]).exists()


def test_instructor_of_the_cohort_sets_accommodations(client, world, instructor):
    from cohorts.models import Accommodation

    client.force_login(instructor)
    name, kwargs, data = ACCOMMODATION
    response = client.post(url_for(world, name, kwargs), data)
    assert response.status_code == 302
    accommodation = Accommodation.objects.get(user=world["alice"])
    assert accommodation.time_multiplier == pytest.approx(1.5)
    assert accommodation.program == world["cohort"].program and accommodation.set_by == instructor


def test_dashboard_list_and_export_show_only_the_users_cohorts(
    client, world, manager, manager_b, instructor
):
    client.force_login(manager_b)
    page = client.get(reverse("cohorts:dashboard")).content.decode()
    assert "Cohort B" in page and "Cohort A" not in page
    export = client.get(reverse("cohorts:dashboard_export")).content.decode()
    assert "Cohort B" in export and "Cohort A" not in export
    client.force_login(instructor)
    page = client.get(reverse("cohorts:dashboard")).content.decode()
    assert "Cohort A" in page and "Cohort B" not in page
    assert "New cohort" not in page


@pytest.mark.parametrize("url", ["cohorts:dashboard", "cohorts:dashboard_export", "cohorts:create"])
def test_candidates_get_404_on_the_dashboard_list(client, world, candidate, url):
    client.force_login(candidate)
    assert client.get(reverse(url)).status_code == 404


@pytest.mark.parametrize(
    "url", ["cohorts:dashboard", "cohorts:dashboard_export", "cohorts:create", "cohorts:join"]
)
def test_anonymous_list_pages_go_to_sign_in(client, url):
    response = client.get(reverse(url))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_instructor_cannot_create_cohorts(client, instructor):
    client.force_login(instructor)
    assert client.get(reverse("cohorts:create")).status_code == 404


def test_a_member_who_is_in_another_cohort_is_not_a_drill_down_of_this_one(client, world, manager):
    client.force_login(manager)
    url = reverse("cohorts:candidate", args=[world["cohort"].pk, world["zed"].pk])
    assert client.get(url).status_code == 404
