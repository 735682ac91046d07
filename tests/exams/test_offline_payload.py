"""What the page receives to deliver an attempt offline, the heartbeat, the worker script."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.urls import reverse

from exams import services
from exams.models import AttemptState
from questionbank.models import Case, ItemStatus, ItemVersion, Option
from tests.exams.conftest import post_save
from tests.exams.test_views import LEAKS, RATIONALE, pretest_position
from tests.factories import bank_case, bank_items, published_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    bank_items(1, 2, rationale=RATIONALE)
    bank_items(1, 1, status=ItemStatus.PRETEST, rationale=RATIONALE)
    bank_case([1, 1])
    return published_form({1: 4}, pretest=1, stock=False, name="Mock A")


@pytest.fixture
def attempt(form, candidate):
    return services.attempt_start(form=form, candidate=candidate)


@pytest.fixture
def cand_client(client, candidate):
    client.force_login(candidate)
    return client


def get_payload(client, attempt):
    return client.get(reverse("exams:payload", args=[attempt.pk]))


def test_payload_holds_every_item_in_the_attempts_order_with_its_options_and_case(
    cand_client, attempt
):
    response = get_payload(cand_client, attempt)
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    data = response.json()
    assert data["total"] == len(attempt.layout) == len(data["items"]) == 5
    assert data["deadline"] == int(attempt.deadline.timestamp() * 1000)
    assert data["warnings"] == attempt.form.warnings
    for position, (form_item_id, choose, option_ids) in enumerate(attempt.layout, 1):
        item = data["items"][position - 1]
        version = ItemVersion.objects.get(form_items__pk=form_item_id)
        assert item["stem"] == version.stem and item["choose"] == choose
        texts = dict(Option.objects.filter(version=version).values_list("pk", "text"))
        assert item["options"] == [texts[pk] for pk in option_ids]
        if version.case_id:
            sections = Case.objects.get(pk=version.case_id).sections
            assert data["cases"][item["case"]] == [
                {"heading": s["heading"], "body": s["body"]} for s in sections
            ]
        else:
            assert item["case"] is None
    assert len(data["cases"]) == 1


def test_payload_reveals_no_key_rationale_pretest_marker_or_bank_id(cand_client, attempt):
    response = get_payload(cand_client, attempt)
    text = response.content.decode() + " ".join(f"{k}: {v}" for k, v in response.items())
    for leak in LEAKS:
        assert leak.lower() not in text.lower(), leak
    assert not re.search(r"T-\d{5}", text)
    case = Case.objects.get()
    assert case.title not in text and case.key not in text
    ids = {str(pk) for row in attempt.layout for pk in [row[0], *row[2]] if pk >= 10}
    assert not ids & set(re.findall(r"\d+", json.dumps(response.json()["items"])))
    # The pretest item's entry has exactly the shape of an operational one.
    data = response.json()
    pre = pretest_position(attempt)
    shapes = {tuple(sorted(item)) for item in data["items"]}
    assert len(shapes) == 1
    assert set(data["items"][pre - 1]) == {"stem", "kind", "choose", "options", "case"}


def test_payload_is_the_candidates_own_and_only_while_in_progress(
    client, cand_client, attempt, other_candidate
):
    client.force_login(other_candidate)
    assert get_payload(client, attempt).status_code == 404
    client.force_login(attempt.candidate)
    services.attempt_submit(attempt=attempt)
    response = get_payload(client, attempt)
    assert response.status_code == 409 and response.json() == {"state": "submitted"}


def test_payload_content_is_read_once_per_form(
    cand_client, attempt, candidate, django_assert_max_num_queries, django_user_model
):
    get_payload(cand_client, attempt)
    # session, user, the attempt with its form: the item text comes from the form's cache.
    with django_assert_max_num_queries(3):
        assert get_payload(cand_client, attempt).status_code == 200


def test_heartbeat_reports_time_state_and_on_request_the_answers(cand_client, attempt):
    post_save(cand_client, attempt, 2, ["1"], flagged=True)
    url = reverse("exams:state", args=[attempt.pk])
    plain = cand_client.get(url)
    assert plain.json() == {
        "state": "in_progress",
        "deadline": int(attempt.deadline.timestamp() * 1000),
    }
    assert plain["X-Server-Time"] and plain["X-Exam-Deadline"]
    full = cand_client.get(url, {"answers": "1"}).json()
    assert full["answers"] == {"2": {"choices": [1], "flagged": True}}


def test_heartbeat_tells_a_stale_tab_that_the_attempt_closed(cand_client, attempt):
    url = reverse("exams:state", args=[attempt.pk])
    services.attempt_submit(attempt=attempt)
    body = cand_client.get(url, {"answers": "1"}).json()
    assert body["state"] == "submitted" and "answers" not in body
    assert body["result"] == reverse("exams:result", args=[attempt.pk])


def test_heartbeat_after_the_deadline_closes_the_attempt(cand_client, attempt):
    url = reverse("exams:state", args=[attempt.pk])
    with time_machine.travel(attempt.deadline + dt.timedelta(seconds=30), tick=False):
        body = cand_client.get(url).json()
    assert body["state"] == AttemptState.EXPIRED
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED


def test_heartbeat_is_cheap(cand_client, attempt, django_assert_max_num_queries):
    url = reverse("exams:state", args=[attempt.pk])
    with django_assert_max_num_queries(3):  # session, user, the attempt
        cand_client.get(url)


def test_heartbeat_of_someone_else_is_404(client, attempt, other_candidate):
    client.force_login(other_candidate)
    assert client.get(reverse("exams:state", args=[attempt.pk])).status_code == 404


def test_service_worker_is_a_script_from_our_origin_scoped_to_the_exam_pages(client):
    response = client.get("/exams/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/exams/"
    body = response.content.decode()
    assert "js/exam.js" in body and "css/exam.css" in body and "htmx" in body
    assert 'addEventListener("fetch"' in body
    assert "{{" not in body and "{%" not in body


def test_exam_pages_name_the_payload_heartbeat_and_worker(cand_client, attempt):
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    assert f'data-payload-url="{reverse("exams:payload", args=[attempt.pk])}"' in page
    assert f'data-state-url="{reverse("exams:state", args=[attempt.pk])}"' in page
    assert 'data-sw-url="/exams/sw.js"' in page and 'data-sw-scope="/exams/attempts/"' in page
