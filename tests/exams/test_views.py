"""The candidate's pages: wiring, roles, and what must never be sent."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from exams import services
from exams.models import Attempt, AttemptState, Response
from questionbank.models import ItemStatus, ItemVersion
from tests.exams.conftest import post_save
from tests.factories import bank_items, published_form

pytestmark = pytest.mark.django_db

RATIONALE = "SECRET-RATIONALE-TEXT"


@pytest.fixture
def form():
    bank_items(1, 2, rationale=RATIONALE)
    bank_items(1, 1, status=ItemStatus.PRETEST, rationale=RATIONALE)
    return published_form({1: 2}, pretest=1, stock=False, name="Mock A")


@pytest.fixture
def attempt(form, candidate):
    return services.attempt_start(form=form, candidate=candidate)


@pytest.fixture
def cand_client(client, candidate):
    client.force_login(candidate)
    return client


def pretest_position(attempt) -> int:
    pretest_ids = set(attempt.form.items.filter(is_pretest=True).values_list("pk", flat=True))
    return next(i for i, row in enumerate(attempt.layout, 1) if row[0] in pretest_ids)


# --- roles --------------------------------------------------------------------------------
def attempt_urls(attempt):
    return [
        ("get", reverse("exams:attempt", args=[attempt.pk])),
        ("get", reverse("exams:item", args=[attempt.pk, 1])),
        ("post", reverse("exams:save", args=[attempt.pk, 1])),
        ("post", reverse("exams:check", args=[attempt.pk, 1])),
        ("get", reverse("exams:review", args=[attempt.pk])),
        ("get", reverse("exams:submit", args=[attempt.pk])),
        ("post", reverse("exams:submit", args=[attempt.pk])),
        ("post", reverse("exams:time_up", args=[attempt.pk])),
        ("get", reverse("exams:result", args=[attempt.pk])),
    ]


@pytest.mark.parametrize("who", ["other_candidate", "instructor", "manager"])
def test_someone_elses_attempt_is_404(request, client, attempt, who):
    client.force_login(request.getfixturevalue(who))
    for method, url in attempt_urls(attempt):
        response = getattr(client, method)(url, {"choice": "0"})
        assert response.status_code == 404, (who, url)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.IN_PROGRESS
    assert not Response.objects.exists()


def test_anonymous_is_sent_to_login(client, attempt, form):
    urls = attempt_urls(attempt) + [
        ("get", reverse("exams:home")),
        ("get", reverse("exams:instructions", args=[form.pk])),
        ("post", reverse("exams:start", args=[form.pk])),
        ("get", reverse("exams:practice")),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_unavailable_form_is_404(cand_client):
    hidden = published_form({2: 1}, available_to_all=False, name="Hidden")
    assert cand_client.get(reverse("exams:instructions", args=[hidden.pk])).status_code == 404
    assert cand_client.post(reverse("exams:start", args=[hidden.pk])).status_code == 404
    assert not Attempt.objects.exists()


# --- home, instructions, start ------------------------------------------------------------
def test_home_lists_forms_in_progress_and_past_attempts(cand_client, candidate, form):
    page = cand_client.get(reverse("exams:home")).content.decode()
    assert "Mock A" in page and reverse("exams:instructions", args=[form.pk]) in page
    attempt = services.attempt_start(form=form, candidate=candidate)
    page = cand_client.get(reverse("exams:home")).content.decode()
    assert "Resume" in page and reverse("exams:attempt", args=[attempt.pk]) in page
    services.attempt_submit(attempt=attempt)
    page = cand_client.get(reverse("exams:home")).content.decode()
    assert "Past attempts" in page and reverse("exams:result", args=[attempt.pk]) in page


def test_instructions_then_start_then_resume(cand_client, form):
    page = cand_client.get(reverse("exams:instructions", args=[form.pk]))
    assert b"Start the exam" in page.content and b"60 minutes" in page.content
    response = cand_client.post(reverse("exams:start", args=[form.pk]))
    attempt = Attempt.objects.get()
    assert response["Location"] == reverse("exams:item", args=[attempt.pk, 1]) + "?resume"
    # Resuming returns where the last no-JavaScript save went (viewing a page writes nothing).
    post_save(cand_client, attempt, 1, ["0"], htmx=False, go="3")
    response = cand_client.post(reverse("exams:start", args=[form.pk]))
    assert response["Location"] == reverse("exams:item", args=[attempt.pk, 3]) + "?resume"
    assert Attempt.objects.count() == 1


# --- saving through the views ------------------------------------------------------------------
def test_htmx_save_replies_with_one_navigator_cell_and_clock(cand_client, attempt):
    response = post_save(cand_client, attempt, 2, ["1"], flagged=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="nav-2"' in body and 'hx-swap-oob="true"' in body
    assert "answered" in body and "flagged" in body
    assert body.count("<button") == 1
    assert response["X-Exam-Saved"] and response["X-Server-Time"]
    assert int(response["X-Exam-Deadline"]) == int(attempt.deadline.timestamp() * 1000)
    assert Response.objects.get().flagged


def test_save_is_one_read_and_one_upsert(cand_client, attempt, django_assert_max_num_queries):
    post_save(cand_client, attempt, 1, ["0"])
    # session + user (middleware), the attempt, the upsert.
    with django_assert_max_num_queries(4):
        post_save(cand_client, attempt, 1, ["2"])


def test_bad_option_is_400_with_a_message(cand_client, attempt):
    response = post_save(cand_client, attempt, 1, ["7"])
    assert response.status_code == 400
    assert b"not one of this item" in response.content
    response = post_save(cand_client, attempt, 1, ["7"], htmx=False)
    assert response.status_code == 400 and b"not one of this item" in response.content


def test_save_after_deadline_is_409_and_finalises(cand_client, attempt):
    with time_machine.travel(attempt.deadline + dt.timedelta(seconds=6), tick=False):
        response = post_save(cand_client, attempt, 1, ["0"])
        assert response.status_code == 409
        assert b"Time is up" in response.content
        assert response["X-Exam-Result"] == reverse("exams:result", args=[attempt.pk])
        response = post_save(cand_client, attempt, 1, ["0"], htmx=False)
        assert response.status_code == 409 and b"already been submitted" in response.content
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED


def test_save_and_next_without_javascript(cand_client, attempt):
    response = post_save(cand_client, attempt, 1, ["1"], htmx=False, go="next")
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:item", args=[attempt.pk, 2])
    response = post_save(cand_client, attempt, 3, [], htmx=False, flagged=True, go="next")
    assert response["Location"] == reverse("exams:review", args=[attempt.pk])
    response = post_save(cand_client, attempt, 2, ["0"], htmx=False, go="3")
    assert response["Location"] == reverse("exams:item", args=[attempt.pk, 3])
    assert Response.objects.count() == 3


def test_item_page_after_time_is_up_goes_to_the_result(cand_client, attempt):
    with time_machine.travel(attempt.deadline + dt.timedelta(minutes=1), tick=False):
        response = cand_client.get(reverse("exams:item", args=[attempt.pk, 1]))
    assert response["Location"] == reverse("exams:result", args=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED


# --- pages --------------------------------------------------------------------------------
def test_item_page_renders_the_question_navigator_and_clock(cand_client, attempt):
    response = cand_client.get(reverse("exams:item", args=[attempt.pk, 2]))
    page = response.content.decode()
    assert "Question 2 of 3" in page
    assert page.count('id="nav-') == 3
    assert f'data-deadline="{int(attempt.deadline.timestamp() * 1000)}"' in page
    assert "js/exam.js" in page
    attempt.refresh_from_db()
    assert attempt.current_position == 1  # a page view writes nothing


def test_htmx_item_swap_is_the_panel_plus_navigator(cand_client, attempt):
    response = cand_client.get(reverse("exams:item", args=[attempt.pk, 2]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="question-panel"')
    assert 'id="navigator"' in body and "<html" not in body
    assert response["X-Exam-Deadline"]


def test_case_documentation_is_shown_beside_scenario_items(cand_client, candidate):
    from tests.factories import bank_case

    bank_case([1, 1])
    form = published_form({1: 2}, stock=False, name="Case form")
    attempt = services.attempt_start(form=form, candidate=candidate)
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    assert 'class="case-doc"' in page and "History and physical" in page
    assert "item with-case" in page


def test_review_filters_and_submit_confirmation_counts(cand_client, attempt):
    post_save(cand_client, attempt, 1, ["0"], flagged=True)
    post_save(cand_client, attempt, 2, ["1"])
    review = reverse("exams:review", args=[attempt.pk])
    page = cand_client.get(review).content.decode()
    assert "2 answered · 1 unanswered · 1 flagged · 3 in all" in page
    flagged = cand_client.get(review, {"show": "flagged"}, HTTP_HX_REQUEST="true")
    body = flagged.content.decode()
    assert body.lstrip().startswith('<div id="review-list"')
    assert "Question 1" in body and "Question 2" not in body
    unanswered = cand_client.get(review, {"show": "unanswered"}).content.decode()
    assert "Question 3</a>" in unanswered and "Question 1</a>" not in unanswered
    confirm = cand_client.get(reverse("exams:submit", args=[attempt.pk])).content.decode()
    assert re.search(r"<strong>1</strong> of 3 questions are unanswered", confirm)
    assert re.search(r"<strong>1</strong> is\s+flagged", confirm)
    response = cand_client.post(reverse("exams:submit", args=[attempt.pk]))
    assert response["Location"] == reverse("exams:result", args=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED


def test_time_up_endpoint(cand_client, attempt):
    url = reverse("exams:time_up", args=[attempt.pk])
    early = cand_client.post(url, HTTP_HX_REQUEST="true")
    assert early.status_code == 204 and early["X-Exam-Deadline"]
    with time_machine.travel(attempt.deadline, tick=False):
        done = cand_client.post(url, HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == reverse("exams:result", args=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED


# --- nothing leaks during an attempt -----------------------------------------------------------
LEAKS = [RATIONALE, "pretest", "is_key", "rationale", "operational", "(key)", "Correct."]


def normalise(html: str) -> str:
    """The markup's shape: tags and attribute names, without text, numbers or values."""
    html = re.sub(
        r'(value|id|aria-label|data-[a-z-]+|action|formaction|href)="[^"]*"', r'\1=""', html
    )
    html = re.sub(r">[^<]*<", "><", html)
    html = re.sub(r"\d+", "N", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    html = re.sub(r"\s+", " ", html)
    return html


def test_pretest_and_operational_items_have_the_same_markup(cand_client, attempt):
    pre = pretest_position(attempt)
    ops = next(p for p in (1, 2, 3) if p != pre)
    rows = {"pretest": attempt.layout[pre - 1], "operational": attempt.layout[ops - 1]}
    pages, replies = {}, {}
    for kind, row in rows.items():
        # Put the item at position 2 so that both pages have the same neighbours.
        others = [r for r in attempt.layout if r is not row]
        Attempt.objects.filter(pk=attempt.pk).update(layout=[others[0], row, others[1]])
        html = cand_client.get(
            reverse("exams:item", args=[attempt.pk, 2]), HTTP_HX_REQUEST="true"
        ).content.decode()
        pages[kind] = normalise(html[: html.index('<nav id="navigator"')])
        replies[kind] = post_save(cand_client, attempt, 2, ["1"])
    assert pages["pretest"] == pages["operational"]
    assert normalise(replies["pretest"].content.decode()) == normalise(
        replies["operational"].content.decode()
    )
    assert set(replies["pretest"].headers) == set(replies["operational"].headers)


def test_no_key_rationale_or_pretest_status_in_anything_sent_during_an_attempt(
    cand_client, attempt
):
    keys = set(
        ItemVersion.objects.filter(form_items__form=attempt.form).values_list(
            "options__pk", "options__is_key"
        )
    )
    assert keys
    responses = [cand_client.get(reverse("exams:attempt", args=[attempt.pk]), follow=True)]
    for position in (1, 2, 3):
        url = reverse("exams:item", args=[attempt.pk, position])
        responses.append(cand_client.get(url))
        responses.append(cand_client.get(url, HTTP_HX_REQUEST="true"))
        responses.append(post_save(cand_client, attempt, position, ["0"], flagged=True))
        responses.append(post_save(cand_client, attempt, position, ["9"]))
        responses.append(post_save(cand_client, attempt, position, ["1"], htmx=False, go="next"))
    for show in ("all", "answered", "unanswered", "flagged"):
        responses.append(
            cand_client.get(reverse("exams:review", args=[attempt.pk]), {"show": show})
        )
    responses.append(cand_client.get(reverse("exams:submit", args=[attempt.pk])))
    for response in responses:
        text = response.content.decode() + " ".join(f"{k}: {v}" for k, v in response.items())
        for leak in LEAKS:
            assert leak.lower() not in text.lower(), (leak, response.request["PATH_INFO"])
        # Items are addressed by position; no bank ids (item, version, option, form item).
        assert not re.search(r"T-\d{5}", text)
        for _form_item_id, _, option_ids in attempt.layout:
            for pk in option_ids:
                assert f'value="{pk}"' not in text or pk < 10


def test_practice_shows_key_and_rationale_after_checking(cand_client, candidate):
    bank_items(1, 2, rationale=RATIONALE)
    response = cand_client.post(
        reverse("exams:practice"), {"domains": ["1"], "count": "2", "timed": ""}
    )
    practice = Attempt.objects.get(mode="practice")
    assert response["Location"] == reverse("exams:item", args=[practice.pk, 1])
    page = cand_client.get(response["Location"]).content.decode()
    assert RATIONALE not in page and "Check answer" in page
    cand_client.post(reverse("exams:check", args=[practice.pk, 1]), {"choice": "1"})
    page = cand_client.get(reverse("exams:item", args=[practice.pk, 1])).content.decode()
    assert RATIONALE in page and "Key:" in page and "Check answer" not in page
    assert b"Practice" in cand_client.get(reverse("exams:home")).content


def test_exam_check_endpoint_is_404(cand_client, attempt):
    response = cand_client.post(reverse("exams:check", args=[attempt.pk, 1]), {"choice": "1"})
    assert response.status_code == 404


def test_result_page_after_submit(cand_client, attempt, run_on_commit):
    with run_on_commit(execute=True):
        cand_client.post(reverse("exams:submit", args=[attempt.pk]))
    page = cand_client.get(reverse("exams:result", args=[attempt.pk])).content.decode()
    assert "submitted" in page and "Scaled score: <strong>" in page
    assert RATIONALE not in page  # the form does not allow answer review


def test_benchmark_view_is_not_routed_by_default(cand_client, attempt):
    response = cand_client.post(f"/exams/bench/baseline/{attempt.pk}/1/")
    assert response.status_code == 404


def test_the_answer_review_never_shows_a_pretest_item(cand_client, attempt, run_on_commit):
    from exams.selectors import attempt_answer_review

    with run_on_commit(execute=True):
        cand_client.post(reverse("exams:submit", args=[attempt.pk]))
    attempt.refresh_from_db()
    pre = pretest_position(attempt)
    reviewed = attempt_answer_review(attempt=attempt)
    assert len(reviewed) == len(attempt.layout) - 1
    assert pre not in [item.position for item in reviewed]
