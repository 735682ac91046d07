"""The score report as a PDF, rendered on the server from a print template (WeasyPrint).

The same content as the HTML report (scoring.selectors.attempt_report): the scaled score,
pass or fail, the score range and the probability of passing where the result has them,
the domain results, and the answer review where the review policy allows it. Who may
download it is decided by the views that call `attempt_report_pdf_response`: the candidate
for their own attempt (scoring.views) and cohort staff for their members
(cohorts.views), so this module knows no access rule.

WeasyPrint never goes to the network: its URL fetcher serves only our static files, read
from disk through the static-files finders; anything else is refused.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcherResponse

from exams.models import Attempt
from exams.selectors import answer_review
from psychometrics import charts
from scoring import selectors

# The document's base URL: a host that resolves nowhere, so a relative link can only ever
# mean one of our static files.
BASE_URL = "https://report.invalid/"


class RefusedFetch(ValueError):
    """A URL the report may not load (WeasyPrint skips it with a warning)."""


def static_fetcher(url: str, *args, **kwargs) -> URLFetcherResponse:
    """Serve `{BASE_URL}{STATIC_URL}...` from the static files on disk; refuse the rest."""
    prefix = BASE_URL + settings.STATIC_URL.lstrip("/")
    if not url.startswith(prefix):
        raise RefusedFetch(f"the score report loads only its own static files, not {url}")
    relative = unquote(urlsplit(url).path[len(urlsplit(prefix).path) :])
    path = finders.find(relative) if relative and ".." not in relative.split("/") else None
    if not path:
        raise RefusedFetch(f"no static file {relative!r}")
    with open(path, "rb") as file:
        body = file.read()
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})


# WeasyPrint styles an inline SVG only from a <style> inside it, not from the page's
# stylesheets: the colours of report.css's chart rules, without its CSS variables.
CHART_STYLE = (
    "<style>text{font-size:13px;fill:#1d2433}.tick{font-size:11px;fill:#5b6475}"
    ".gridline{stroke:#d6dbe4;stroke-width:1}.passing-line{stroke:#1d2433;stroke-dasharray:5 4}"
    ".track{fill:#eef0f4}.standard-zone{fill:#d9d2b8;fill-opacity:.55}.bar{fill:#1f5fbf}"
    ".band-below .bar{fill:#b3261e}.band-near .bar{fill:#a15c00}.band-above .bar{fill:#1c7c3c}"
    ".expected{stroke:#1d2433;stroke-width:2}.domain-value{font-weight:600}</style>"
)


def _domain_chart(report: selectors.Report):
    if not report.domains:
        return None
    bars = [
        charts.DomainBar(d.number, d.name, d.percent, d.expected, d.band) for d in report.domains
    ]
    svg = charts.domain_chart(bars, margin=report.margin)
    opening = svg.index(">", svg.index("<svg")) + 1
    # The chart's text is escaped by charts.domain_chart itself.
    return mark_safe(svg[:opening] + CHART_STYLE + svg[opening:])  # noqa: S308


def attempt_report_pdf(*, attempt: Attempt) -> bytes:
    """The PDF of a finished attempt's score report."""
    report = selectors.attempt_report(attempt=attempt)
    html = render_to_string(
        "scoring/report_print.html",
        {
            "report": report,
            "attempt": attempt,
            "domain_chart": _domain_chart(report),
            # Every reviewed item, open: a printed review has no filter.
            "review": None
            if report.review_items is None
            else answer_review(items=report.review_items, params={}),
        },
    )
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=static_fetcher)
    return document.write_pdf()


def attempt_report_pdf_response(*, attempt: Attempt) -> HttpResponse:
    response = HttpResponse(attempt_report_pdf(attempt=attempt), content_type="application/pdf")
    day = (attempt.submitted_at or attempt.started_at).strftime("%Y-%m-%d")
    kind = "practice" if attempt.mode != "exam" else "exam"
    name = f"ccs-score-report-{kind}-{attempt.pk}-{day}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
