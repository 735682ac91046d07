"""CSV exports of the dashboards: the tables each export holds, and one safe writer."""

from __future__ import annotations

import csv
import datetime as dt

from django.http import HttpResponse
from django.utils import timezone

from cohorts import selectors

EXPORT_TABLES = ("summary", "readiness", "distribution", "trend", "domains")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    text = str(value)
    # A cell starting with these runs as a formula in a spreadsheet (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return response


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:40] or "cohort"


def cohort_list_table(rows: list[selectors.CohortRow]) -> tuple[list[str], list[list]]:
    header = [
        "cohort", "program", "start", "end", "candidates", "sat_an_exam", "exam_attempts",
        "first_attempt_pass_rate", "best_attempt_pass_rate", "mean_scaled", "median_scaled",
    ]  # fmt: skip
    return header, [
        [
            r.cohort.name,
            r.cohort.program,
            r.cohort.start_date,
            r.cohort.end_date,
            r.figures.candidates,
            r.figures.sat,
            r.figures.attempts,
            r.figures.first_pass_rate,
            r.figures.best_pass_rate,
            r.figures.mean_scaled,
            r.figures.median_scaled,
        ]  # fmt: skip
        for r in rows
    ]


def cohort_page_table(
    page: selectors.CohortPage, filters: selectors.Filters, table: str
) -> tuple[list[str], list]:
    """One of EXPORT_TABLES of a cohort page, as the page shows it under `filters`."""
    if table == "summary":
        f = page.figures
        return ["figure", "value"], [
            ("candidates", f.candidates),
            ("sat_an_exam", f.sat),
            ("exam_attempts", f.attempts),
            ("scored_attempts", f.scored_attempts),
            ("first_attempt_pass_rate", f.first_pass_rate),
            ("best_attempt_pass_rate", f.best_pass_rate),
            ("mean_scaled", f.mean_scaled),
            ("median_scaled", f.median_scaled),
            ("filter_form_id", filters.form_id),
            ("filter_from", filters.date_from),
            ("filter_to", filters.date_to),
        ]
    if table == "readiness":
        header = [
            "candidate", "email", "status", "exam_attempts", "latest_scaled", "best_scaled",
            "trend", "pass_probability", "new_form_pass_probability", "last_sat",
        ]  # fmt: skip
        return header, [
            [
                r.name,
                r.email,
                r.status_label,
                r.attempts,
                r.latest,
                r.best,
                r.trend,
                r.latest_probability,
                r.new_form_probability,
                r.last_sat,
            ]  # fmt: skip
            for r in page.readiness
        ]
    if table == "distribution":
        return ["scaled_from", "scaled_to", "attempts"], [
            [b.low, b.high, b.count] for b in page.bins
        ]
    if table == "trend":
        return ["month", "scored_attempts", "passed", "pass_rate"], [
            [f"{p.month:%Y-%m}", p.attempts, p.passed, p.pass_rate] for p in page.periods
        ]
    if table == "domains":
        return ["domain", "name", "cohort_percent", "all_candidates_percent", "difference"], [
            [d.number, d.name, d.cohort_percent, d.all_percent, d.difference] for d in page.domains
        ]
    raise ValueError(f"no export table {table!r}")


def candidate_table(page: selectors.CandidatePage) -> tuple[list[str], list[list]]:
    header = ["attempt", "form", "started", "submitted", "state", "scaled", "passed",
              "pass_probability"] + [f"domain_{n}_percent" for n, _ in page.domains]  # fmt: skip
    return header, [
        [
            a.attempt_id,
            a.form_name,
            a.started_at,
            a.submitted_at,
            a.state,
            a.scaled,
            a.passed,
            a.probability,
        ]
        + [a.domain_percent.get(n) for n, _ in page.domains]  # fmt: skip
        for a in page.attempts
    ]
