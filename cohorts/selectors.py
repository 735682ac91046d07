"""Reads for cohorts: what a candidate may sit, and the figures of the dashboards.

Figures follow three rules everywhere:
- only exam attempts count (practice never does), and only finished ones (in progress
  is not yet a sitting);
- score figures use only attempts that have a score row with a scaled score;
- a candidate's first attempt is their earliest scored exam attempt, their best attempt
  the highest scaled score; pass rates are over the candidates with a scored attempt.

Every page costs a fixed number of queries whatever the cohort's size. Each dashboard
rests on one aggregate statement (CTEs and window functions, portable between SQLite and
PostgreSQL): the list on cohort_figures_sql (the figures of many cohorts), a cohort page
on cohort_page_sql (its figures, readiness list, histogram, trend and domain sums read in
one pass over the cohort's attempts). Python only shapes what they return.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from cohorts.models import Accommodation, Cohort, Membership
from exams.models import Attempt, AttemptMode, AttemptState, ExamForm
from questionbank.models import Domain
from scoring.models import AttemptResult, DomainScore
from scoring.selectors import pass_chances

PASS_SCORE = 300
SCALE_MIN, SCALE_MAX = 100, 400
BIN_WIDTH = 20
# How long the all-candidates domain baseline may be reused: it scans every scored
# attempt, and one more cohort's results move it by a hair.
BASELINE_CACHE_SECONDS = 300


# The joining rule: a cohort sees a member's attempts from the moment they joined it,
# never earlier ones. An existing account can be added by e-mail, and its history with
# another program (or on its own) is not this program's to read or count.
# The program rule: of those, only attempts sat under the cohort's own program's
# assignments, or under none (a form open to everyone): a candidate in two programs sits
# each one's exams, and neither reads the other's.


# --- Filters --------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    form_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def start(self) -> dt.datetime | None:
        if self.date_from is None:
            return None
        return timezone.make_aware(dt.datetime.combine(self.date_from, dt.time.min))

    @property
    def end(self) -> dt.datetime | None:
        """Exclusive: the midnight after date_to."""
        if self.date_to is None:
            return None
        return timezone.make_aware(
            dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min)
        )

    def q(self, prefix: str = "") -> Q:
        """The filters as a Q over Attempt (`prefix` e.g. "attempt__" from a result)."""
        q = Q()
        if self.form_id:
            q &= Q(**{f"{prefix}form_id": self.form_id})
        if self.start:
            q &= Q(**{f"{prefix}started_at__gte": self.start})
        if self.end:
            q &= Q(**{f"{prefix}started_at__lt": self.end})
        return q

    def attempt_where(self, alias: str) -> tuple[str, list]:
        """SQL for the attempts that count (finished exam attempts), filtered, on the
        attempt table named `alias`: the condition and its parameters."""
        adapt = connection.ops.adapt_datetimefield_value
        where = [f"{alias}.mode = %s", f"{alias}.state <> %s"]
        params: list = [AttemptMode.EXAM.value, AttemptState.IN_PROGRESS.value]
        if self.form_id:
            where.append(f"{alias}.form_id = %s")
            params.append(self.form_id)
        if self.start:
            where.append(f"{alias}.started_at >= %s")
            params.append(adapt(self.start))
        if self.end:
            where.append(f"{alias}.started_at < %s")
            params.append(adapt(self.end))
        return " AND ".join(where), params

    @property
    def active(self) -> bool:
        return bool(self.form_id or self.date_from or self.date_to)


NO_FILTERS = Filters()


# --- Per-cohort figures: one statement ------------------------------------------------
@dataclass(frozen=True)
class CohortFigures:
    candidates: int = 0
    sat: int = 0  # candidates with a finished exam attempt
    attempts: int = 0  # finished exam attempts
    scored_candidates: int = 0
    first_passed: int = 0
    best_passed: int = 0
    scored_attempts: int = 0
    mean_scaled: float | None = None
    median_scaled: float | None = None

    @property
    def first_pass_rate(self) -> float | None:
        """Share of candidates with a scored attempt whose first one passed (0..1)."""
        if not self.scored_candidates:
            return None
        return self.first_passed / self.scored_candidates

    @property
    def best_pass_rate(self) -> float | None:
        if not self.scored_candidates:
            return None
        return self.best_passed / self.scored_candidates


def cohort_figures_sql(*, cohort_ids: list[int], filters: Filters = NO_FILTERS):
    """The SQL and parameters of the figures of the cohort list (also timed by the bench).

    A member's attempts count from the moment they joined (the joining rule).

    The ORM cannot aggregate over a window function, and "first attempt" is a window
    (row_number per cohort and candidate), so this one is written out. Scored attempts
    sort first in the window, so row 1 is the first scored attempt whenever one exists.
    The median averages the one or two middle rows, which works on SQLite too.
    """
    membership = Membership._meta.db_table
    cohort = Cohort._meta.db_table
    attempt = Attempt._meta.db_table
    result = AttemptResult._meta.db_table
    placeholders = ", ".join(["%s"] * len(cohort_ids)) or "NULL"
    params: list = list(cohort_ids)
    where, where_params = filters.attempt_where("a")
    sql = f"""
WITH member AS (
    SELECT m.cohort_id, m.user_id, m.joined_at, c.program_id FROM {membership} m
    JOIN {cohort} c ON c.id = m.cohort_id
    WHERE m.cohort_id IN ({placeholders})
),
att AS (
    SELECT m.cohort_id, a.candidate_id, r.scaled_score, r.passed,
           ROW_NUMBER() OVER (
               PARTITION BY m.cohort_id, a.candidate_id
               ORDER BY CASE WHEN r.scaled_score IS NULL THEN 1 ELSE 0 END,
                        a.started_at, a.id
           ) AS nth
    FROM member m
    JOIN {attempt} a ON a.candidate_id = m.user_id AND a.started_at >= m.joined_at
        AND (a.program_id IS NULL OR a.program_id = m.program_id)
    LEFT JOIN {result} r ON r.attempt_id = a.id
    WHERE {where}
),
per_candidate AS (
    SELECT cohort_id, candidate_id, COUNT(*) AS attempts,
           COUNT(scaled_score) AS scored,
           MAX(CASE WHEN nth = 1 AND scaled_score IS NOT NULL AND passed THEN 1 ELSE 0 END)
               AS first_passed,
           MAX(CASE WHEN scaled_score IS NOT NULL AND passed THEN 1 ELSE 0 END) AS best_passed
    FROM att GROUP BY cohort_id, candidate_id
),
per_cohort AS (
    SELECT cohort_id, COUNT(*) AS sat, SUM(attempts) AS attempts,
           SUM(CASE WHEN scored > 0 THEN 1 ELSE 0 END) AS scored_candidates,
           SUM(first_passed) AS first_passed, SUM(best_passed) AS best_passed
    FROM per_candidate GROUP BY cohort_id
),
ranked AS (
    SELECT cohort_id, scaled_score,
           ROW_NUMBER() OVER (PARTITION BY cohort_id ORDER BY scaled_score) AS rn,
           COUNT(*) OVER (PARTITION BY cohort_id) AS n
    FROM att WHERE scaled_score IS NOT NULL
),
scores AS (
    SELECT cohort_id, COUNT(*) AS scored_attempts, AVG(scaled_score * 1.0) AS mean_scaled,
           AVG(CASE WHEN rn = (n + 1) / 2 OR rn = (n + 2) / 2 THEN scaled_score * 1.0 END)
               AS median_scaled
    FROM ranked GROUP BY cohort_id
),
sizes AS (SELECT cohort_id, COUNT(*) AS candidates FROM member GROUP BY cohort_id)
SELECT s.cohort_id, s.candidates, pc.sat, pc.attempts, pc.scored_candidates,
       pc.first_passed, pc.best_passed, sc.scored_attempts, sc.mean_scaled, sc.median_scaled
FROM sizes s
LEFT JOIN per_cohort pc ON pc.cohort_id = s.cohort_id
LEFT JOIN scores sc ON sc.cohort_id = s.cohort_id
"""
    return sql, params + where_params


def cohort_figures(
    *, cohort_ids: list[int], filters: Filters = NO_FILTERS
) -> dict[int, CohortFigures]:
    """Figures of each cohort (one query); a cohort without members gets zeros."""
    figures = {pk: CohortFigures() for pk in cohort_ids}
    if not cohort_ids:
        return figures
    sql, params = cohort_figures_sql(cohort_ids=cohort_ids, filters=filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            (pk, candidates, sat, attempts, scored_c, first, best, scored_a, mean, median) = row
            figures[pk] = CohortFigures(
                candidates=candidates or 0,
                sat=sat or 0,
                attempts=int(attempts or 0),
                scored_candidates=int(scored_c or 0),
                first_passed=int(first or 0),
                best_passed=int(best or 0),
                scored_attempts=scored_a or 0,
                mean_scaled=float(mean) if mean is not None else None,
                median_scaled=float(median) if median is not None else None,
            )
    return figures


@dataclass(frozen=True)
class CohortRow:
    cohort: Cohort
    figures: CohortFigures


def cohort_list(*, user) -> list[CohortRow]:
    """The cohorts the user may read, each with its figures: two queries."""
    cohorts = list(
        Cohort.objects.visible_to(user).select_related("program").order_by("-start_date", "name")
    )
    figures = cohort_figures(cohort_ids=[c.pk for c in cohorts])
    return [CohortRow(c, figures[c.pk]) for c in cohorts]


# --- Cohort page ---------------------------------------------------------------------
@dataclass
class Readiness:
    user_id: int
    name: str
    email: str
    attempts: int = 0  # finished exam attempts
    latest: int | None = None  # scaled score of the latest scored attempt
    previous: int | None = None  # of the scored attempt before it
    best: int | None = None
    latest_probability: float | None = None
    last_sat: dt.date | None = None  # the local day of the latest exam attempt
    filtered: bool = False  # the figures are of the page's filters (form, dates)
    # P(passing a new form) from the latest ability estimate (scoring.selectors.pass_chances)
    new_form_probability: float | None = None

    @property
    def trend(self) -> int | None:
        """Change from the previous scored attempt to the latest."""
        if self.latest is None or self.previous is None:
            return None
        return self.latest - self.previous

    @cached_property
    def status(self) -> str:
        """needs-help, borderline, not-started or ready (the readiness list's order)."""
        if self.latest is None:
            return "not-started"
        if self.latest_probability is not None:
            p = self.latest_probability
            return "needs-help" if p < 0.5 else "borderline" if p < 0.8 else "ready"
        if self.latest < PASS_SCORE - 10:
            return "needs-help"
        return "borderline" if self.latest < PASS_SCORE + 20 else "ready"

    @property
    def status_label(self) -> str:
        if self.filtered and self.status == "not-started":
            return "No exam matching the filters"  # they may well have sat others
        return STATUS_LABELS[self.status]


STATUS_ORDER = {"needs-help": 0, "borderline": 1, "not-started": 2, "ready": 3}
STATUS_LABELS = {
    "needs-help": "Needs help",
    "borderline": "Borderline",
    "not-started": "No exam yet",
    "ready": "Ready",
}


def _readiness_key(r: Readiness):
    # Within a group the weakest first by the latest scaled score, which every scored
    # candidate has (a probability of passing only comes with calibrated items, so
    # ordering by it would put everyone without one after everyone with one).
    probability = r.latest_probability if r.latest_probability is not None else 2.0
    return (STATUS_ORDER[r.status], r.latest or 0, probability, r.name.lower())


@dataclass(frozen=True)
class Bin:
    low: int
    high: int  # inclusive
    count: int

    @property
    def passing(self) -> bool:
        return self.low >= PASS_SCORE

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}"


@dataclass(frozen=True)
class Period:
    month: dt.date
    attempts: int
    passed: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class DomainRow:
    number: int
    name: str
    cohort_percent: float | None
    cohort_items: int
    all_percent: float | None

    @property
    def difference(self) -> float | None:
        if self.cohort_percent is None or self.all_percent is None:
            return None
        return self.cohort_percent - self.all_percent

    @property
    def shown_difference(self) -> int | None:
        """The difference of the two whole percentages the page shows, so that the three
        columns add up (84% and 82% differ by 2, although 84.45 - 81.71 rounds to 3)."""
        if self.cohort_percent is None or self.all_percent is None:
            return None
        return int(f"{self.cohort_percent:.0f}") - int(f"{self.all_percent:.0f}")


@dataclass
class CohortPage:
    cohort: Cohort
    filters: Filters
    figures: CohortFigures
    bins: list[Bin]
    periods: list[Period]
    domains: list[DomainRow]
    readiness: list[Readiness]


def _display_name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def _bins(distribution: dict[int, int]) -> list[Bin]:
    """20-point bins of the scaled scores ({score: attempts})."""
    counts = [0] * ((SCALE_MAX - SCALE_MIN) // BIN_WIDTH)
    for score, n in distribution.items():
        index = min(max(score - SCALE_MIN, 0) // BIN_WIDTH, len(counts) - 1)
        counts[index] += n
    bins = []
    for i, count in enumerate(counts):
        low = SCALE_MIN + i * BIN_WIDTH
        high = low + BIN_WIDTH - 1 if i < len(counts) - 1 else SCALE_MAX
        bins.append(Bin(low, high, count))
    return bins


def _median(distribution: dict[int, int]) -> float | None:
    """The median of the scores counted in {score: attempts}."""
    total = sum(distribution.values())
    if not total:
        return None
    lower, upper = (total - 1) // 2, total // 2  # 0-based ranks of the middle one or two
    seen, low_value = 0, None
    for score in sorted(distribution):
        seen += distribution[score]
        if low_value is None and seen > lower:
            low_value = score
        if seen > upper:
            return (low_value + score) / 2
    return None  # not reached: the ranks are below the total


def _periods(days: list[tuple[dt.date, int, int]]) -> list[Period]:
    """Monthly scored attempts and passes from daily ones."""
    by_month: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for day, attempts, passed in days:
        month = day.replace(day=1)
        by_month[month][0] += attempts
        by_month[month][1] += passed
    return [Period(m, n, p) for m, (n, p) in sorted(by_month.items())]


def _domain_sums(results, numbers: list[int]) -> dict[int, tuple[float, int]]:
    """(points earned, items) per domain over the given score rows: one grouped query."""
    rows = (
        DomainScore.objects.filter(result__in=results, domain__in=numbers)
        .order_by()
        .values("domain")
        .annotate(earned=Sum("score"), items=Sum("items"))
        .values_list("domain", "earned", "items")
    )
    return {domain: (float(earned or 0), int(items or 0)) for domain, earned, items in rows}


def _domain_percent(sums: dict[int, tuple[float, int]], n: int) -> tuple[float | None, int]:
    earned, items = sums.get(n, (0.0, 0))
    if not items:
        return None, 0
    return 100.0 * earned / items, items


def scored_results(filters: Filters = NO_FILTERS):
    """Score rows of finished exam attempts with a scaled score, filtered."""
    return AttemptResult.objects.filter(
        filters.q("attempt__"),
        attempt__mode=AttemptMode.EXAM,
        scaled_score__isnull=False,
    ).exclude(attempt__state=AttemptState.IN_PROGRESS)


def domain_baseline(*, filters: Filters, numbers: list[int]) -> dict[int, tuple[float, int]]:
    """Domain sums over all candidates' scored exam attempts (cached a few minutes)."""
    key = f"cohorts:baseline:v2:{filters.form_id}:{filters.date_from}:{filters.date_to}"
    sums = cache.get(key)
    if sums is None:
        sums = _domain_sums(scored_results(filters), numbers)
        cache.set(key, sums, BASELINE_CACHE_SECONDS)
    return sums


def cohort_page_sql(*, cohort_id: int, filters: Filters = NO_FILTERS) -> tuple[str, list]:
    """The one statement the cohort page rests on (also timed by the bench).

    It reads the cohort's finished exam attempts once (`att`: each member's since they
    joined, by the joining rule) and returns rows of four
    kinds, told apart by the first column, in the columns (kind, k, day, n1..n6, x):
    - "c", one per member: k user id, day of their latest attempt, n1 attempts, n2 latest
      scaled score, n3 the scaled score before it, n4 best, n5 1 if their first scored
      attempt passed, n6 1 if any passed, x probability of passing of the latest;
    - "s", one per scaled score: k score, n1 attempts with it;
    - "p", one per day with scored attempts: day, n1 scored attempts, n2 passed;
    - "d", one per domain: k domain number, n1 items, x points earned.
    Days are local (the current time zone). Scored attempts sort first in both windows,
    so `nth` 1 is the first scored attempt and `back` 1 and 2 the latest two scored.
    """
    attempt = Attempt._meta.db_table
    result = AttemptResult._meta.db_table
    day_sql, day_params = connection.ops.datetime_cast_date_sql(
        "a.started_at", [], timezone.get_current_timezone_name()
    )
    where, where_params = filters.attempt_where("a")
    passed = "CASE WHEN passed THEN 1 ELSE 0 END"
    sql = f"""
WITH member AS (
    SELECT m.user_id, m.joined_at, c.program_id FROM {Membership._meta.db_table} m
    JOIN {Cohort._meta.db_table} c ON c.id = m.cohort_id
    WHERE m.cohort_id = %s
),
att AS (
    SELECT a.id, a.candidate_id, {day_sql} AS day, r.id AS result_id,
           r.scaled_score AS scaled, r.passed, r.pass_probability AS probability,
           ROW_NUMBER() OVER (
               PARTITION BY a.candidate_id
               ORDER BY CASE WHEN r.scaled_score IS NULL THEN 1 ELSE 0 END, a.started_at, a.id
           ) AS nth,
           ROW_NUMBER() OVER (
               PARTITION BY a.candidate_id
               ORDER BY CASE WHEN r.scaled_score IS NULL THEN 1 ELSE 0 END,
                        a.started_at DESC, a.id DESC
           ) AS back
    FROM member mj
    JOIN {attempt} a ON a.candidate_id = mj.user_id AND a.started_at >= mj.joined_at
        AND (a.program_id IS NULL OR a.program_id = mj.program_id)
    LEFT JOIN {result} r ON r.attempt_id = a.id
    WHERE {where}
)
SELECT 'c' AS kind, m.user_id AS k, MAX(att.day) AS day, COUNT(att.id) AS n1,
       MAX(CASE WHEN att.back = 1 THEN att.scaled END) AS n2,
       MAX(CASE WHEN att.back = 2 THEN att.scaled END) AS n3,
       MAX(att.scaled) AS n4,
       MAX(CASE WHEN att.nth = 1 AND att.scaled IS NOT NULL AND att.passed THEN 1 ELSE 0 END)
           AS n5,
       MAX(CASE WHEN att.scaled IS NOT NULL AND att.passed THEN 1 ELSE 0 END) AS n6,
       MAX(CASE WHEN att.back = 1 THEN att.probability END) AS x
FROM member m LEFT JOIN att ON att.candidate_id = m.user_id
GROUP BY m.user_id
UNION ALL
SELECT 's', scaled, NULL, COUNT(*), NULL, NULL, NULL, NULL, NULL, NULL
FROM att WHERE scaled IS NOT NULL GROUP BY scaled
UNION ALL
SELECT 'p', NULL, day, COUNT(*), SUM({passed}), NULL, NULL, NULL, NULL, NULL
FROM att WHERE scaled IS NOT NULL GROUP BY day
UNION ALL
SELECT 'd', d.domain, NULL, SUM(d.items), NULL, NULL, NULL, NULL, NULL, SUM(d.score)
FROM att JOIN {DomainScore._meta.db_table} d ON d.result_id = att.result_id
WHERE att.scaled IS NOT NULL GROUP BY d.domain
"""
    return sql, [cohort_id, *day_params, *where_params]


def _as_date(value) -> dt.date | None:
    # PostgreSQL returns dates; SQLite the ISO text of one.
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def cohort_page(*, cohort: Cohort, filters: Filters = NO_FILTERS) -> CohortPage:
    """Everything the cohort page shows: one statement for the figures (cohort_page_sql),
    one for the members' names, two small ones for domains and their baseline."""
    sql, params = cohort_page_sql(cohort_id=cohort.pk, filters=filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = {
        uid: (_display_name(first, last, username), email)
        for uid, first, last, username, email in Membership.objects.filter(
            cohort=cohort
        ).values_list(
            "user_id", "user__first_name", "user__last_name", "user__username", "user__email"
        )
    }
    readiness: list[Readiness] = []
    distribution: dict[int, int] = {}
    days: list[tuple[dt.date, int, int]] = []
    cohort_sums: dict[int, tuple[float, int]] = {}
    first_passed = best_passed = 0
    for kind, k, day, n1, n2, n3, n4, n5, n6, x in rows:
        if kind == "c":
            name, email = names.get(k, (str(k), ""))  # joined since the first statement
            readiness.append(
                Readiness(
                    k, name, email, attempts=n1, latest=n2, previous=n3, best=n4,
                    latest_probability=x, last_sat=_as_date(day), filtered=filters.active,
                )
            )  # fmt: skip
            first_passed += n5
            best_passed += n6
        elif kind == "s":
            distribution[k] = n1
        elif kind == "p":
            days.append((_as_date(day), n1, n2))
        else:
            cohort_sums[k] = (float(x or 0), int(n1 or 0))
    chances = pass_chances(candidate_ids=[r.user_id for r in readiness])
    for r in readiness:
        chance = chances.get(r.user_id)
        r.new_form_probability = None if chance is None else chance.probability
    scored_attempts = sum(distribution.values())
    figures = CohortFigures(
        candidates=len(readiness),
        sat=sum(1 for r in readiness if r.attempts),
        attempts=sum(r.attempts for r in readiness),
        scored_candidates=sum(1 for r in readiness if r.best is not None),
        first_passed=first_passed,
        best_passed=best_passed,
        scored_attempts=scored_attempts,
        mean_scaled=(
            sum(score * n for score, n in distribution.items()) / scored_attempts
            if scored_attempts
            else None
        ),
        median_scaled=_median(distribution),
    )
    domains = list(Domain.objects.order_by("number").values_list("number", "name"))
    all_sums = domain_baseline(filters=filters, numbers=[n for n, _ in domains])
    domain_rows = []
    for number, name in domains:
        percent, items = _domain_percent(cohort_sums, number)
        all_percent, _ = _domain_percent(all_sums, number)
        domain_rows.append(DomainRow(number, name, percent, items, all_percent))
    return CohortPage(
        cohort=cohort,
        filters=filters,
        figures=figures,
        bins=_bins(distribution),
        periods=_periods(days),
        domains=domain_rows,
        readiness=sorted(readiness, key=_readiness_key),
    )


def cohort_forms(*, cohort: Cohort) -> list[ExamForm]:
    """Forms to filter the cohort page by: assigned to it, or sat by its members."""
    sat = (
        Attempt.objects.exams()
        .filter(
            Exists(
                Membership.objects.filter(
                    cohort=cohort,
                    user_id=OuterRef("candidate_id"),
                    joined_at__lte=OuterRef("started_at"),
                )
            )
        )
        .filter(Q(program__isnull=True) | Q(program_id=cohort.program_id))
        .values("form_id")
    )
    return list(
        ExamForm.objects.exams()
        .shared_or_of(cohort.program_id)
        .filter(Q(pk__in=cohort.assignments.values("form_id")) | Q(pk__in=sat))
        .order_by("name")
        .only("pk", "name")
    )


# --- Candidate drill-down -------------------------------------------------------------
@dataclass(frozen=True)
class AttemptLine:
    attempt_id: int
    form_name: str
    started_at: dt.datetime
    submitted_at: dt.datetime | None
    state: str
    scaled: int | None
    passed: bool | None
    probability: float | None
    domain_percent: dict[int, float | None]


@dataclass
class CandidatePage:
    cohort: Cohort
    candidate: object
    membership: Membership
    attempts: list[AttemptLine]
    domains: list[tuple[int, str]]
    practice_count: int
    time_multiplier: object
    note: str


def candidate_page(*, cohort: Cohort, user_id: int) -> CandidatePage | None:
    """A member's exam attempts since joining (the joining rule) and their domain results,
    in order of sitting; None if not a member."""
    membership = (
        Membership.objects.filter(cohort=cohort, user_id=user_id).select_related("user").first()
    )
    if membership is None:
        return None
    candidate = membership.user
    domains = list(Domain.objects.order_by("number").values_list("number", "name"))
    attempts = []
    practice = 0
    for a in (
        _attempts_since_joining(membership)
        .select_related("form", "score")
        .order_by("started_at", "pk")
    ):
        if a.mode != AttemptMode.EXAM:
            practice += 1
            continue
        score = getattr(a, "score", None)
        results = (score.domain_results or {}) if score else {}
        attempts.append(
            AttemptLine(
                attempt_id=a.pk,
                form_name=a.form.name,
                started_at=a.started_at,
                submitted_at=a.submitted_at,
                state=a.get_state_display(),
                scaled=score.scaled_score if score else None,
                passed=score.passed if score else None,
                probability=score.pass_probability if score else None,
                domain_percent={n: (results.get(str(n)) or {}).get("percent") for n, _ in domains},
            )
        )
    # The accommodation of this cohort's program only: another program's is not ours to see.
    profile = Accommodation.objects.filter(program_id=cohort.program_id, user_id=user_id).first()
    return CandidatePage(
        cohort=cohort,
        candidate=candidate,
        membership=membership,
        attempts=attempts,
        domains=domains,
        practice_count=practice,
        time_multiplier=profile.time_multiplier if profile else None,
        note=profile.note if profile else "",
    )


# --- Members page ---------------------------------------------------------------------
@dataclass(frozen=True)
class MemberLine:
    user_id: int
    name: str
    username: str
    email: str
    joined_at: dt.datetime
    source: str
    time_multiplier: object
    note: str
    awaiting_password: bool  # enrolled by a manager and never signed in


MEMBERS_PER_PAGE = 100


def cohort_members(*, cohort: Cohort, search: str = "", page: object = 1):
    """One page of the cohort's members by name (two queries: count and page).

    `search` matches names, usernames and e-mail addresses. An out-of-range page number
    gives the last page.
    """
    rows = Membership.objects.filter(cohort=cohort)
    search = search.strip()
    if search:
        rows = rows.filter(
            Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
            | Q(user__username__icontains=search)
            | Q(user__email__icontains=search)
        )
    accommodation = Accommodation.objects.filter(
        program_id=cohort.program_id, user_id=OuterRef("user_id")
    )
    rows = rows.annotate(
        _multiplier=Subquery(accommodation.values("time_multiplier")[:1]),
        _note=Subquery(accommodation.values("note")[:1]),
    )
    rows = rows.order_by("user__last_name", "user__first_name", "user__username").values_list(
        "user_id", "user__first_name", "user__last_name", "user__username", "user__email",
        "joined_at", "source", "_multiplier", "_note", "user__password", "user__last_login",
    )  # fmt: skip
    members = Paginator(rows, MEMBERS_PER_PAGE).get_page(page)
    members.object_list = [
        MemberLine(
            uid, _display_name(f, last, u), u, e, j, s, tm, note or "",
            awaiting_password=password.startswith(UNUSABLE_PASSWORD_PREFIX) and seen is None,
        )
        for uid, f, last, u, e, j, s, tm, note, password, seen in members.object_list
    ]  # fmt: skip
    return members


def _attempts_since_joining(membership: Membership):
    """The member's attempts (exam and practice) that the cohort sees: the joining rule."""
    return Attempt.objects.filter(
        candidate_id=membership.user_id, started_at__gte=membership.joined_at
    ).filter(Q(program__isnull=True) | Q(program__cohorts=membership.cohort_id))


def member_exam_attempts(*, membership: Membership) -> int:
    """How many exam attempts a member made since joining (told before they leave)."""
    return _attempts_since_joining(membership).exams().count()


def cohort_assignments(*, cohort: Cohort):
    return list(cohort.assignments.select_related("form").order_by("opens_at", "pk"))


def assignable_forms(*, program_id: int | None = None):
    """Published exam forms a cohort of `program_id` may be assigned: shared forms and the
    program's own."""
    return (
        ExamForm.objects.exams().published().offerable().shared_or_of(program_id).order_by("name")
    )
