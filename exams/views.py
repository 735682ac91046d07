"""The candidate's pages: thin views over exams.services and exams.selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from exams import selectors, services
from exams.eligibility import assignment_for, attempt_review_allowed
from exams.forms import PracticeForm
from exams.models import Attempt, AttemptMode, AttemptState, ExamForm
from exams.selectors import Cell

SHOW_FILTERS = [
    ("all", "All"),
    ("answered", "Answered"),
    ("unanswered", "Unanswered"),
    ("flagged", "Flagged"),
]


def _ms(value: dt.datetime | None) -> str:
    return "" if value is None else str(int(value.timestamp() * 1000))


def _with_clock(response: HttpResponse, attempt: Attempt, now: dt.datetime) -> HttpResponse:
    """Every reply re-syncs the page's countdown to the server's deadline."""
    response["X-Exam-Deadline"] = _ms(attempt.deadline)
    response["X-Server-Time"] = _ms(now)
    response["Cache-Control"] = "no-store"
    return response


def _result_redirect(request, attempt: Attempt):
    url = reverse("exams:result", args=[attempt.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _closed_if_over(request, attempt: Attempt, now: dt.datetime):
    """Finalise an attempt whose time is over; the redirect to show instead, or None."""
    if attempt.accepts_writes(now, grace_seconds=services.save_grace_seconds()):
        return None
    if attempt.is_in_progress:
        services.attempt_time_up(attempt=attempt, now=now)
        messages.info(request, "Time is up: your exam was submitted at its deadline.")
    return _result_redirect(request, attempt)


def _exam_context(attempt: Attempt, now: dt.datetime) -> dict:
    return {
        "attempt": attempt,
        "is_practice": attempt.mode == AttemptMode.PRACTICE,
        "deadline_ms": _ms(attempt.deadline),
        "now_ms": _ms(now),
        "warnings": ",".join(str(w) for w in attempt.form.warnings),
    }


@login_required
@require_GET
def home(request):
    """My exams: forms I may sit, attempts to resume, and past attempts."""
    history = selectors.attempt_history(user=request.user)
    in_progress_by_form = {a.form_id: a for a in history["in_progress"]}
    forms = [
        (form, in_progress_by_form.get(form.pk))
        for form in selectors.forms_available_to(user=request.user)
    ]
    return render(
        request,
        "exams/home.html",
        {"forms": forms, "in_progress": history["in_progress"], "past": history["past"]},
    )


@login_required
@require_GET
def instructions(request, form_id: int):
    form = selectors.forms_available_to(user=request.user).filter(pk=form_id).first()
    if form is None:
        raise Http404("No such exam.")
    resume = Attempt.objects.in_progress().filter(candidate=request.user, form=form).first()
    terms = assignment_for(user=request.user, form=form)
    # The extra time of the program whose assignment this sitting falls under.
    multiplier = terms.time_multiplier if terms else Decimal("1.00")
    minutes = round(form.time_limit_minutes * float(multiplier))
    return render(
        request,
        "exams/instructions.html",
        {
            "form": form,
            "item_total": form.item_total,
            "minutes": minutes,
            "multiplier": multiplier,
            "resume": resume,
            "terms": terms,
            "refusal": terms.refusal(timezone.now()) if terms and not resume else None,
        },
    )


@login_required
@require_POST
def start(request, form_id: int):
    form = get_object_or_404(ExamForm, pk=form_id)
    try:
        attempt = services.attempt_start(form=form, candidate=request.user)
    except services.AttemptRefused as exc:
        messages.error(request, str(exc))
        return redirect("exams:instructions", form.pk)
    except PermissionDenied:
        raise Http404("No such exam.") from None
    return redirect("exams:item", attempt.pk, attempt.current_position)


@login_required
@require_http_methods(["GET", "POST"])
def practice(request):
    form = PracticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.practice_start(
                candidate=request.user,
                domains=[d.number for d in form.cleaned_data["domains"]],
                count=form.cleaned_data["count"],
                timed=form.cleaned_data["timed"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("exams:item", attempt.pk, 1)
    return render(request, "exams/practice.html", {"form": form})


@login_required
@require_GET
def attempt_detail(request, pk: int):
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    if not attempt.is_in_progress:
        return redirect("exams:result", pk)
    return redirect("exams:item", pk, attempt.current_position)


def _item_context(attempt: Attempt, position: int, now: dt.datetime) -> dict:
    page = selectors.attempt_question(attempt=attempt, position=position)
    return {
        **_exam_context(attempt, now),
        "item": page.item,
        "cells": page.cells,
        "feedback": page.feedback,
    }


@never_cache
@login_required
@require_GET
def item(request, pk: int, position: int):
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    now = timezone.now()
    closed = _closed_if_over(request, attempt, now)
    if closed:
        return closed
    if not 1 <= position <= attempt.item_count:
        raise Http404("No such item.")
    services.attempt_set_position(attempt=attempt, position=position)
    context = _item_context(attempt, position, now)
    if request.htmx:
        html = render_to_string("exams/take.html#question-panel", context, request=request)
        html += render_to_string(
            "exams/take.html#navigator", {**context, "oob": True}, request=request
        )
        return _with_clock(HttpResponse(html), attempt, now)
    return _with_clock(render(request, "exams/take.html", context), attempt, now)


def _after_save_target(attempt: Attempt, position: int, go: str) -> str:
    if go == "next" and position < attempt.item_count:
        return reverse("exams:item", args=[attempt.pk, position + 1])
    if go == "prev" and position > 1:
        return reverse("exams:item", args=[attempt.pk, position - 1])
    if go in ("review", "next"):
        return reverse("exams:review", args=[attempt.pk])
    if go == "submit":
        return reverse("exams:submit", args=[attempt.pk])
    if go.isdigit() and 1 <= int(go) <= attempt.item_count:
        return reverse("exams:item", args=[attempt.pk, int(go)])
    return reverse("exams:item", args=[attempt.pk, position])


@login_required
@require_POST
def save(request, pk: int, position: int):
    """Autosave (HTMX/fetch) and the no-JavaScript "Save and next" submit.

    The hot path: one indexed read of the attempt and one upsert; the reply is the save
    state and the one navigator cell that changed, nothing that needs another query.
    """
    attempt = get_object_or_404(
        Attempt.objects.only("id", "candidate_id", "state", "deadline", "layout"),
        pk=pk,
        candidate_id=request.user.pk,
    )
    now = timezone.now()
    flagged = request.POST.get("flagged") in ("1", "on", "true")
    try:
        result = services.response_save(
            attempt=attempt,
            position=position,
            choices=request.POST.getlist("choice"),
            flagged=flagged,
            now=now,
        )
    except services.SaveRefused as exc:
        if request.htmx:
            return _with_clock(HttpResponse(str(exc), status=400), attempt, now)
        attempt = selectors.own_attempt(user=request.user, pk=pk)
        if not 1 <= position <= attempt.item_count:
            raise Http404("No such item.") from None
        context = {**_item_context(attempt, position, now), "error": str(exc)}
        return _with_clock(render(request, "exams/take.html", context, status=400), attempt, now)
    except services.AttemptClosed as exc:
        # The deadline shown is the one just read: it never changes after the start.
        if request.htmx:
            reply = HttpResponse(str(exc), status=409)
            reply["X-Exam-Result"] = reverse("exams:result", args=[pk])
            return _with_clock(reply, attempt, now)
        return render(
            request, "exams/closed.html", {"attempt": attempt, "message": str(exc)}, status=409
        )
    if request.htmx:
        html = render_to_string(
            "exams/take.html#nav-cell",
            {
                "attempt": attempt,
                "cell": Cell(position, result.answered, result.flagged),
                "current": position,
                "cell_oob": True,
            },
        )
        reply = HttpResponse(html)
        reply["X-Exam-Saved"] = _ms(result.saved_at)
        return _with_clock(reply, attempt, now)
    return redirect(_after_save_target(attempt, position, request.POST.get("go", "")))


@login_required
@require_POST
def check(request, pk: int, position: int):
    """Practice: save the answer shown, then reveal its key and rationale."""
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    if attempt.mode != AttemptMode.PRACTICE:
        raise Http404("No such page.")
    now = timezone.now()
    try:
        services.response_save(
            attempt=attempt,
            position=position,
            choices=request.POST.getlist("choice"),
            flagged=request.POST.get("flagged") in ("1", "on", "true"),
            now=now,
        )
    except services.SaveRefused as exc:
        messages.error(request, str(exc))
        return redirect("exams:item", pk, position)
    except services.AttemptClosed:
        return redirect("exams:result", pk)
    services.response_check(attempt=attempt, position=position, now=now)
    return redirect("exams:item", pk, position)


@never_cache
@login_required
@require_GET
def review(request, pk: int):
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    now = timezone.now()
    closed = _closed_if_over(request, attempt, now)
    if closed:
        return closed
    show = request.GET.get("show", "all")
    if show not in dict(SHOW_FILTERS):
        show = "all"
    cells = selectors.attempt_cells(attempt=attempt)
    context = {
        **_exam_context(attempt, now),
        "cells": selectors.filter_cells(cells, show),
        "counts": selectors.attempt_counts(cells=cells),
        "show": show,
        "filters": SHOW_FILTERS,
    }
    if request.htmx:
        return _with_clock(render(request, "exams/review.html#review-list", context), attempt, now)
    return _with_clock(render(request, "exams/review.html", context), attempt, now)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def submit(request, pk: int):
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    now = timezone.now()
    if request.method == "POST":
        if attempt.is_in_progress:
            services.attempt_submit(attempt=attempt, now=now)
        return _result_redirect(request, attempt)
    closed = _closed_if_over(request, attempt, now)
    if closed:
        return closed
    cells = selectors.attempt_cells(attempt=attempt)
    context = {**_exam_context(attempt, now), "counts": selectors.attempt_counts(cells=cells)}
    return _with_clock(render(request, "exams/submit.html", context), attempt, now)


@login_required
@require_POST
def time_up(request, pk: int):
    """The page's countdown reached zero."""
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    now = timezone.now()
    if services.attempt_time_up(attempt=attempt, now=now):
        return _with_clock(_result_redirect(request, attempt), attempt, now)
    # The page's clock ran ahead of the server's: the reply's headers re-sync it.
    return _with_clock(HttpResponse(status=204), attempt, now)


@login_required
@require_GET
def result(request, pk: int):
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    if attempt.is_in_progress:
        return redirect("exams:item", pk, attempt.current_position)
    review_items = None
    if attempt_review_allowed(attempt=attempt):
        review_items = selectors.attempt_answer_review(attempt=attempt)
    return render(
        request,
        "exams/result.html",
        {
            "attempt": attempt,
            "expired": attempt.state == AttemptState.EXPIRED,
            "review_items": review_items,
        },
    )
