"""The candidate's pages: thin views over exams.services and exams.selectors."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.jinja import htmx_script

from common.clock import clock_label
from exams import adaptive, selectors, services
from exams.eligibility import assignment_for, attempt_review_allowed
from exams.forms import PracticeForm
from exams.markup import option_rows_html
from exams.models import Attempt, AttemptMode, AttemptState
from exams.navigator import attempt_urls, cells_html, item_url_pattern, item_urls, one_cell_html
from exams.selectors import Cell
from exams.walks import Walk, walk_at, walk_kind, walk_positions

SHOW_FILTERS = [
    ("all", "All"),
    ("answered", "Answered"),
    ("unanswered", "Unanswered"),
    ("flagged", "Flagged"),
]


# The review walk under way: {"attempt": pk, "kind": "flagged", "positions": [3, 7, ...]}.
WALK_SESSION_KEY = "exam-walk"


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


def _clock_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _exam_context(attempt: Attempt, now: dt.datetime) -> dict:
    settings_ = attempt.practice_settings or {}
    estimates = settings_.get("estimates") or []
    return {
        "attempt": attempt,
        "urls": attempt_urls(attempt.pk),
        # Shown as it stands when the page is made: without JavaScript it is the countdown.
        "time_left": _clock_text(attempt.seconds_left(now)),
        # "14:05 CST": made in Python; the template's |time filter cost 40 us each.
        "clock_as_of": clock_label(now),
        "clock_ends": clock_label(attempt.deadline),
        **_offline_urls(attempt),
        "is_practice": attempt.mode == AttemptMode.PRACTICE,
        "adaptive": bool(settings_.get("adaptive")),
        "adaptive_more": bool(settings_.get("adaptive")) and not settings_.get("stopped"),
        "estimate": estimates[-1] if estimates else None,
        "deadline_ms": _ms(attempt.deadline),
        "now_ms": _ms(now),
        "warnings": ",".join(str(w) for w in attempt.form.warnings),
    }


def _offline_urls(attempt: Attempt) -> dict:
    """Where exam.js finds the attempt's payload, heartbeat and service worker."""
    urls = attempt_urls(attempt.pk)
    return {
        "payload_url": urls["payload"],
        "state_url": urls["state"],
        "sw_url": _sw_url(),
        # Every attempt's pages: /exams/attempts/ (from .../attempts/<pk>/review/).
        "sw_scope": urls["review"].rsplit("/", 3)[0] + "/",
    }


@functools.cache
def _codebook_panel_html() -> SafeString:
    """The code book panel beside the item: the same markup on every item page (it asks
    for nothing of the attempt or the request; searches swap inside it), so it is made
    once per process instead of on every move."""
    return mark_safe(render_to_string("codebook/_panel.html", {"system": "cm"}))


@functools.cache
def _sw_url() -> str:
    return reverse("exams:service_worker")


@login_required
@require_GET
def home(request):
    """My exams: forms I may sit, attempts to resume, and past attempts."""
    history = selectors.attempt_history(user=request.user)
    # A retake in progress on another form belongs to the assigned form's row.
    in_progress_by_form = {a.assigned_form_id or a.form_id: a for a in history["in_progress"]}
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
    resume = (
        Attempt.objects.in_progress()
        .filter(Q(form=form) | Q(assigned_form=form), candidate=request.user)
        .first()
    )
    terms = assignment_for(user=request.user, form=form)
    refusal = terms.refusal(timezone.now()) if terms and not resume else None
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
            "refusal": refusal,
            # A retake: on which form, and said plainly when it is a repeat.
            "retake": services.retake_plan(candidate=request.user, form=form)
            if terms and terms.attempts_used and not resume and not refusal
            else None,
        },
    )


@login_required
@require_POST
def start(request, form_id: int):
    try:
        attempt = services.attempt_start(form_id=form_id, candidate=request.user)
    except services.AttemptRefused as exc:
        messages.error(request, str(exc))
        return redirect("exams:instructions", form_id)
    except PermissionDenied:
        raise Http404("No such exam.") from None
    return _resume_redirect(attempt)


def _resume_redirect(attempt: Attempt):
    """To the item the server last recorded; `?resume` lets the page go on to the one the
    browser remembers (exam.js keeps it; moving there is not written to the server)."""
    # A plain redirect: redirect() with a URL first tries it as a view name (a failed
    # reverse), ~35 µs of every start.
    return HttpResponseRedirect(_item_url(attempt, attempt.current_position) + "?resume")


@login_required
@require_http_methods(["GET", "POST"])
def practice(request):
    form = PracticeForm(request.POST or None)
    if not adaptive.available():
        del form.fields["adaptive"]
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.practice_start(
                candidate=request.user,
                domains=[d.number for d in form.cleaned_data["domains"]],
                count=form.cleaned_data["count"],
                timed=form.cleaned_data["timed"],
                adaptive_mode=form.cleaned_data.get("adaptive", False),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("exams:item", attempt.pk, 1)
    return render(request, "exams/practice.html", {"form": form})


@login_required
@require_GET
def adaptive_next(request, pk: int):
    """Adaptive practice: the next item chosen for the ability shown so far, or the review
    page once the session stopped. Safe to repeat: while the last item is unanswered it
    is shown again and nothing is added."""
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    if not (attempt.practice_settings or {}).get("adaptive"):
        raise Http404("No such page.")
    now = timezone.now()
    closed = _closed_if_over(request, attempt, now)
    if closed:
        return closed
    position = adaptive.practice_next(attempt=attempt)
    if position is None:
        return redirect("exams:review", pk)
    return redirect("exams:item", pk, position)


@login_required
@require_GET
def attempt_detail(request, pk: int):
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    if not attempt.is_in_progress:
        return redirect("exams:result", pk)
    return _resume_redirect(attempt)


def _item_context(attempt: Attempt, position: int, now: dt.datetime) -> dict:
    page = selectors.attempt_question(attempt=attempt, position=position)
    pattern = item_url_pattern(attempt.pk)
    return {
        **_exam_context(attempt, now),
        "item": page.item,
        "page": page,
        "nav_cells": cells_html(page.positions, current=position, pattern=pattern),
        "feedback": page.feedback,
        "option_rows": option_rows_html(page.item, page.feedback),
        "codebook_panel_html": _codebook_panel_html() if attempt.form.codebook_panel else "",
        # The item's own links, without a reverse() each (exams.navigator).
        "item_url": item_urls(attempt.pk, position),
        "here_url": pattern.format(position),
        "prev_url": pattern.format(position - 1),
        "next_url": pattern.format(position + 1),
    }


@never_cache
@login_required
@require_GET
def item(request, pk: int, position: int):
    attempt = selectors.attempt_for_delivery(user=request.user, pk=pk)
    now = timezone.now()
    closed = _closed_if_over(request, attempt, now)
    if closed:
        return closed
    if not 1 <= position <= attempt.item_count:
        raise Http404("No such item.")
    # No write here: where the candidate is is recorded by the no-JavaScript save that moves
    # them (save below), and the JavaScript page keeps it in the browser. A move costs reads.
    context = _item_context(attempt, position, now)
    kind = walk_kind(request.GET.get("walk"))
    context["walk"] = (
        _walk_for(request, attempt, position, kind, context["page"].cells) if kind else None
    )
    if request.htmx:
        html = render_to_string("exams/take.html#question-panel", context, request=request)
        html += render_to_string(
            "exams/take.html#navigator", {**context, "oob": True}, request=request
        )
        return _with_clock(HttpResponse(html), attempt, now)
    return _with_clock(render(request, "exams/take.html", context), attempt, now)


def _walk_store(request, attempt: Attempt, kind: str, positions: list[int]) -> None:
    request.session[WALK_SESSION_KEY] = {
        "attempt": attempt.pk,
        "kind": kind,
        "positions": positions,
    }


def _walk_stored(request, attempt: Attempt, kind: str) -> list[int] | None:
    stored = request.session.get(WALK_SESSION_KEY)
    if not stored or stored.get("attempt") != attempt.pk or stored.get("kind") != kind:
        return None
    return [p for p in stored.get("positions", []) if isinstance(p, int)]


def _walk_for(request, attempt: Attempt, position: int, kind: str, cells=None) -> Walk | None:
    """The walk `kind` at `position`: the one started on the review screen, or, when the
    session has none (a link opened elsewhere), one started from the navigator's state."""
    positions = _walk_stored(request, attempt, kind)
    if positions is None and cells is not None:
        positions = walk_positions(cells, kind)
        _walk_store(request, attempt, kind, positions)
    return walk_at(kind=kind, positions=positions or [], position=position)


def _item_url(attempt: Attempt, position: int, walk: Walk | None = None) -> str:
    url = item_url_pattern(attempt.pk).format(position)
    return f"{url}?walk={walk.kind}" if walk else url


def _after_save_target(
    attempt: Attempt, position: int, go: str, walk: Walk | None = None
) -> tuple[str, int | None]:
    """Where a no-JavaScript save goes next: the URL, and the item position if it is one."""
    if walk is not None and go in ("next", "prev"):
        step = walk.next if go == "next" else walk.previous
        if step is None:
            return reverse("exams:review", args=[attempt.pk]), None
        return _item_url(attempt, step, walk), step
    if go == "next" and position < attempt.item_count:
        target = position + 1
    elif go == "prev" and position > 1:
        target = position - 1
    elif go == "adaptive":
        return reverse("exams:adaptive_next", args=[attempt.pk]), None
    elif go in ("review", "next"):
        return reverse("exams:review", args=[attempt.pk]), None
    elif go == "submit":
        return reverse("exams:submit", args=[attempt.pk]), None
    elif go.isdigit() and 1 <= int(go) <= attempt.item_count:
        target = int(go)
    else:
        target = position
    return reverse("exams:item", args=[attempt.pk, target]), target


@login_required
@require_POST
def save(request, pk: int, position: int):
    """Autosave (HTMX/fetch) and the no-JavaScript "Save and next" submit.

    The hot path: one indexed read of the attempt and one upsert; the reply is the save
    state and the one navigator cell that changed, nothing that needs another query.
    """
    attempt = get_object_or_404(
        Attempt.objects.only(
            "id", "candidate_id", "state", "deadline", "layout", "current_position"
        ),
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
        html = one_cell_html(
            Cell(position, result.answered, result.flagged),
            current=position,
            pattern=item_url_pattern(attempt.pk),
        )
        reply = HttpResponse(html)
        reply["X-Exam-Saved"] = _ms(result.saved_at)
        return _with_clock(reply, attempt, now)
    kind = walk_kind(request.POST.get("walk"))
    walk = _walk_for(request, attempt, position, kind) if kind else None
    url, target = _after_save_target(attempt, position, request.POST.get("go", ""), walk)
    if target is not None:
        # Resuming returns here. Written by the save that moves, not by every page view.
        services.attempt_set_position(attempt=attempt, position=target)
    return HttpResponseRedirect(url)


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
        return HttpResponseRedirect(_item_url(attempt, position))
    except services.AttemptClosed:
        return redirect("exams:result", pk)
    services.response_check(attempt=attempt, position=position, now=now)
    kind = walk_kind(request.POST.get("walk"))
    return HttpResponseRedirect(
        _item_url(attempt, position, _walk_for(request, attempt, position, kind) if kind else None)
    )


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
    kind = walk_kind(request.GET.get("walk"))
    if kind:
        # Starting a walk: its items are fixed now, and it opens at the first of them.
        positions = walk_positions(cells, kind)
        if positions:
            _walk_store(request, attempt, kind, positions)
            url = _item_url(attempt, positions[0], Walk(kind, tuple(positions), positions[0]))
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {
        **_exam_context(attempt, now),
        "cells": selectors.filter_cells(cells, show),
        "counts": selectors.attempt_counts(cells=cells),
        "show": show,
        "filters": SHOW_FILTERS,
        "walk_empty": kind,
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
    review = None
    if attempt_review_allowed(attempt=attempt):
        review = selectors.answer_review(
            items=selectors.attempt_answer_review(attempt=attempt), params=request.GET
        )
    return render(
        request,
        "exams/result.html",
        {
            "attempt": attempt,
            "expired": attempt.state == AttemptState.EXPIRED,
            "review": review,
            # Changes the page still held when the server had closed the attempt (sent by
            # exam.js): never dropped silently, the candidate is told which they were.
            "unsaved": selectors.unsaved_positions(
                request.GET.get("unsaved", ""), count=len(attempt.layout)
            ),
        },
    )


@never_cache
@login_required
@require_GET
def payload(request, pk: int):
    """The whole attempt for the page to deliver offline (exams.selectors.attempt_payload)."""
    attempt = selectors.own_attempt(user=request.user, pk=pk)
    now = timezone.now()
    if not attempt.is_in_progress:
        return _with_clock(JsonResponse({"state": attempt.state}, status=409), attempt, now)
    return _with_clock(JsonResponse(selectors.attempt_payload(attempt=attempt)), attempt, now)


@never_cache
@login_required
@require_GET
def state(request, pk: int):
    """The heartbeat: the server's time, the deadline and the attempt's state, and with
    `?answers=1` the answers stored, so that a stale tab catches up with another one."""
    attempt = get_object_or_404(
        Attempt.objects.only("id", "candidate_id", "state", "deadline", "layout"),
        pk=pk,
        candidate_id=request.user.pk,
    )
    now = timezone.now()
    if attempt.is_in_progress and not attempt.accepts_writes(
        now, grace_seconds=services.save_grace_seconds()
    ):
        services.attempt_time_up(attempt=attempt, now=now)
        attempt.refresh_from_db(fields=["state"])
    deadline = attempt.deadline
    body = {
        "state": attempt.state,
        "deadline": int(deadline.timestamp() * 1000) if deadline else None,
    }
    if attempt.is_in_progress and request.GET.get("answers") == "1":
        body["answers"] = selectors.attempt_answers(attempt=attempt)
    if not attempt.is_in_progress:
        body["result"] = reverse("exams:result", args=[pk])
    return _with_clock(JsonResponse(body), attempt, now)


# The worker's script, made once per process: it names the static files it keeps, whose
# URLs (hashed in production) are fixed for the life of the process.
_SW_SCRIPT: str | None = None
_SW_ASSETS = (
    "css/app.css",
    "css/exam.css",
    "js/exam.js",
    "js/exam-tools.js",
    "js/codebook.js",
    "img/favicon.svg",
)


@require_GET
def service_worker(request):
    """The exam pages' service worker, from our own origin (a script, not a page: no login;
    it holds no data, only the rules for keeping an attempt's pages for offline use)."""
    global _SW_SCRIPT
    if _SW_SCRIPT is None:
        assets = [static(path) for path in _SW_ASSETS]
        # htmx, as base.html's {% htmx_script %} includes it (a debug helper too when DEBUG).
        assets += re.findall(r'src="([^"]+)"', str(htmx_script()))
        _SW_SCRIPT = render_to_string(
            "exams/sw.js",
            {"assets_json": json.dumps(assets), "version": _sw_version(assets)},
        )
    response = HttpResponse(_SW_SCRIPT, content_type="text/javascript; charset=utf-8")
    # Its scope is the attempt pages below /exams/, under the script's own path.
    response["Service-Worker-Allowed"] = reverse("exams:home")
    response["Cache-Control"] = "no-cache"
    return response


def _sw_version(assets: list[str]) -> str:
    return hashlib.sha256("\n".join(assets).encode()).hexdigest()[:12]
