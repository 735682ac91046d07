"""The candidate's score report and exam history: thin views over scoring.selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.dateformat import format as date_format
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from exams.selectors import answer_review, own_attempt
from psychometrics import charts
from scoring import selectors
from scoring.adaptive import ScoringCalibrations
from scoring.report_pdf import attempt_report_pdf_response


def _history_context(user) -> dict:
    rows = selectors.exam_history(user=user)
    scored = [r for r in rows if r.result is not None and r.result.scaled_score is not None]
    points = [
        charts.TrendPoint(
            label=r.attempt.form.name,
            when=date_format(r.when, "M j, Y"),
            scaled=r.result.scaled_score,
            passed=bool(r.result.passed),
        )
        for r in scored
    ]
    # The chart's text is escaped by charts.trend_chart itself.
    chart = mark_safe(charts.trend_chart(points)) if points else None  # noqa: S308
    chance = selectors.pass_chances(candidate_ids=[user.pk]).get(user.pk)
    return {"history": rows, "trend_chart": chart, "pass_chance": chance}


@login_required
@require_GET
def report(request, pk: int):
    attempt = own_attempt(user=request.user, pk=pk)
    if attempt.is_in_progress:
        return redirect("exams:attempt", pk)
    report = selectors.attempt_report(attempt=attempt)
    domain_chart = None
    if report.domains:
        bars = [
            charts.DomainBar(d.number, d.name, d.percent, d.expected, d.band)
            for d in report.domains
        ]
        domain_chart = mark_safe(charts.domain_chart(bars, margin=report.margin))  # noqa: S308
    context = {
        "report": report,
        "attempt": attempt,
        "domain_chart": domain_chart,
        "review": None
        if report.review_items is None
        else answer_review(items=report.review_items, params=request.GET),
    }
    result = report.result
    if report.is_practice and result is not None and result.theta is not None:
        # Adaptive practice (every item calibrated): the ability read on the exam's scale.
        context["predicted"] = ScoringCalibrations().predicted_score(
            theta=result.theta, se=result.theta_se
        )
    if not report.is_practice:
        context.update(_history_context(request.user))
    return render(request, "scoring/report.html", context)


@login_required
@require_GET
def report_pdf(request, pk: int):
    attempt = own_attempt(user=request.user, pk=pk)
    if attempt.is_in_progress:
        return redirect("exams:attempt", pk)
    return attempt_report_pdf_response(attempt=attempt)


@login_required
@require_GET
def history(request):
    return render(request, "scoring/history.html", _history_context(request.user))
