"""Reads for cohorts: what a candidate may sit, and the figures of the dashboards.

Figures follow three rules everywhere:
- only exam attempts count (practice never does), and only finished ones (in progress
  is not yet a sitting);
- score figures use only attempts that have a score row with a scaled score;
- a candidate's first attempt is their earliest scored exam attempt, their best attempt
  the highest scaled score; pass rates are over the candidates with a scored attempt.

Every page costs a fixed number of queries whatever the cohort's size: the per-cohort
figures are one SQL statement (window functions and CTEs, portable between SQLite and
PostgreSQL), the per-candidate lists one query each plus Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.core.cache import cache
from django.db import connection
from django.db.models import F, FloatField, Func, Q, Sum
from django.utils import timezone

from cohorts.models import Assignment, Cohort, Membership, ReviewPolicy
from exams.models import Attempt, AttemptMode, AttemptState, CandidateProfile, ExamForm
from questionbank.models import Domain
from scoring.models import AttemptResult

PASS_SCORE = 300
SCALE_MIN, SCALE_MAX = 100, 400
BIN_WIDTH = 20
# How long the all-candidates domain baseline may be reused: it scans every scored
# attempt, and one more cohort's results move it by a hair.
BASELINE_CACHE_SECONDS = 300


# --- What a candidate may sit (called by exam delivery) --------------------------------
def forms_available_to(*, user, now: dt.datetime | None = None):
    """Published exam forms the user may open now: assigned to one of their cohorts with
    an open window, or made available to everyone by an instructor."""
    now = now or timezone.now()
    if not user.is_authenticated:
        return ExamForm.objects.none()
    assigned = Assignment.objects.for_candidate(user).open_at(now).values("form_id")
    return (
        ExamForm.objects.exams()
        .published()
        .filter(Q(available_to_all=True) | Q(pk__in=assigned))
        .order_by("name")
    )


@dataclass(frozen=True)
class AssignmentTerms:
    """The limits under which a candidate sits a form, from their cohort's assignment.

    `assignment_id` is None for a form open to everyone with no assignment of theirs: no
    window, no attempt limit, and answer review as the form says.
    """

    form_id: int
    assignment_id: int | None
    cohort_id: int | None
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    max_attempts: int | None
    attempts_used: int
    review_policy: str

    def is_open(self, now: dt.datetime) -> bool:
        if self.opens_at is not None and now < self.opens_at:
            return False
        return self.closes_at is None or now < self.closes_at

    @property
    def attempts_left(self) -> int | None:
        if self.max_attempts is None:
            return None
        return max(0, self.max_attempts - self.attempts_used)

    def refusal(self, now: dt.datetime) -> str | None:
        """Why a new attempt may not start now, or None if it may."""
        local = timezone.localtime
        if self.opens_at is not None and now < self.opens_at:
            return f"This exam opens on {local(self.opens_at):%d %b %Y at %H:%M}."
        if self.closes_at is not None and now >= self.closes_at:
            return f"This exam closed on {local(self.closes_at):%d %b %Y at %H:%M}."
        if self.attempts_left == 0:
            plural = "attempt" if self.max_attempts == 1 else "attempts"
            return f"You have used your {self.max_attempts} {plural} at this exam."
        return None

    def review_allowed(self, *, attempt: Attempt, now: dt.datetime) -> bool:
        """May the candidate see keys and rationales of this finished attempt?"""
        if attempt.state == AttemptState.IN_PROGRESS:
            return False
        if self.review_policy == ReviewPolicy.AFTER_SUBMISSION:
            return True
        if self.review_policy == ReviewPolicy.AFTER_CLOSE:
            return self.closes_at is not None and now >= self.closes_at
        return False


def _preference(assignment: Assignment, now: dt.datetime):
    # Of several cohorts assigning the same form, the most generous terms apply: an open
    # window first, then the most attempts, then the latest close.
    unlimited = assignment.max_attempts is None
    closes = assignment.closes_at or dt.datetime.max.replace(tzinfo=dt.UTC)
    return (assignment.is_open(now), unlimited, assignment.max_attempts or 0, closes)


def assignment_for(*, user, form: ExamForm, now: dt.datetime | None = None):
    """The terms under which `user` sits `form`, or None if it is not theirs to sit.

    Two queries: the user's assignments of the form, and their exam attempts on it.
    """
    now = now or timezone.now()
    if not user.is_authenticated:
        return None
    assignments = list(Assignment.objects.for_candidate(user).filter(form_id=form.pk))
    used = Attempt.objects.exams().filter(candidate_id=user.pk, form_id=form.pk).count()
    if assignments:
        best = max(assignments, key=lambda a: _preference(a, now))
        return AssignmentTerms(
            form_id=form.pk,
            assignment_id=best.pk,
            cohort_id=best.cohort_id,
            opens_at=best.opens_at,
            closes_at=best.closes_at,
            max_attempts=best.max_attempts,
            attempts_used=used,
            review_policy=best.review_policy,
        )
    if form.available_to_all and form.is_published:
        return AssignmentTerms(
            form_id=form.pk,
            assignment_id=None,
            cohort_id=None,
            opens_at=None,
            closes_at=None,
            max_attempts=None,
            attempts_used=used,
            review_policy=ReviewPolicy.AFTER_SUBMISSION if form.allow_review else ReviewPolicy.NONE,
        )
    return None


def attempt_review_allowed(*, attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """Answer review for a finished exam attempt, by its assignment's policy.

    Falls back to the form's own allow_review when no assignment applies any more.
    """
    now = now or timezone.now()
    if attempt.state == AttemptState.IN_PROGRESS:
        return False
    terms = assignment_for(user=attempt.candidate, form=attempt.form, now=now)
    if terms is None:
        return bool(attempt.form.allow_review)
    return terms.review_allowed(attempt=attempt, now=now)


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

    The ORM cannot aggregate over a window function, and "first attempt" is a window
    (row_number per cohort and candidate), so this one is written out. Scored attempts
    sort first in the window, so row 1 is the first scored attempt whenever one exists.
    The median averages the one or two middle rows, which works on SQLite too.
    """
    membership = Membership._meta.db_table
    attempt = Attempt._meta.db_table
    result = AttemptResult._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    placeholders = ", ".join(["%s"] * len(cohort_ids)) or "NULL"
    params: list = list(cohort_ids)
    where = ["a.mode = %s", "a.state <> %s"]
    where_params: list = [AttemptMode.EXAM.value, AttemptState.IN_PROGRESS.value]
    if filters.form_id:
        where.append("a.form_id = %s")
        where_params.append(filters.form_id)
    if filters.start:
        where.append("a.started_at >= %s")
        where_params.append(adapt(filters.start))
    if filters.end:
        where.append("a.started_at < %s")
        where_params.append(adapt(filters.end))
    sql = f"""
WITH member AS (
    SELECT cohort_id, user_id FROM {membership} WHERE cohort_id IN ({placeholders})
),
att AS (
    SELECT m.cohort_id, a.candidate_id, r.scaled_score, r.passed,
           ROW_NUMBER() OVER (
               PARTITION BY m.cohort_id, a.candidate_id
               ORDER BY CASE WHEN r.scaled_score IS NULL THEN 1 ELSE 0 END,
                        a.started_at, a.id
           ) AS nth
    FROM member m
    JOIN {attempt} a ON a.candidate_id = m.user_id
    LEFT JOIN {result} r ON r.attempt_id = a.id
    WHERE {" AND ".join(where)}
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
    cohorts = list(Cohort.objects.visible_to(user).order_by("-start_date", "name"))
    figures = cohort_figures(cohort_ids=[c.pk for c in cohorts])
    return [CohortRow(c, figures[c.pk]) for c in cohorts]


# --- Cohort page ---------------------------------------------------------------------
@dataclass
class Readiness:
    user_id: int
    name: str
    email: str
    joined_at: dt.datetime
    attempts: int = 0
    scores: list[int] = field(default_factory=list)  # scaled, in order of sitting
    latest_probability: float | None = None
    last_sat: dt.datetime | None = None

    @property
    def latest(self) -> int | None:
        return self.scores[-1] if self.scores else None

    @property
    def best(self) -> int | None:
        return max(self.scores) if self.scores else None

    @property
    def trend(self) -> int | None:
        """Change from the previous scored attempt to the latest."""
        return self.scores[-1] - self.scores[-2] if len(self.scores) >= 2 else None

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
        return STATUS_LABELS[self.status]


STATUS_ORDER = {"needs-help": 0, "borderline": 1, "not-started": 2, "ready": 3}
STATUS_LABELS = {
    "needs-help": "Needs help",
    "borderline": "Borderline",
    "not-started": "No exam yet",
    "ready": "Ready",
}


def _readiness_key(r: Readiness):
    # Within a group the weakest first: lowest probability, then lowest latest score.
    probability = r.latest_probability if r.latest_probability is not None else 2.0
    return (STATUS_ORDER[r.status], probability, r.latest or 0, r.name.lower())


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


def _bins(scores: list[int]) -> list[Bin]:
    counts = [0] * ((SCALE_MAX - SCALE_MIN) // BIN_WIDTH)
    for score in scores:
        index = min(max(score - SCALE_MIN, 0) // BIN_WIDTH, len(counts) - 1)
        counts[index] += 1
    bins = []
    for i, count in enumerate(counts):
        low = SCALE_MIN + i * BIN_WIDTH
        high = low + BIN_WIDTH - 1 if i < len(counts) - 1 else SCALE_MAX
        bins.append(Bin(low, high, count))
    return bins


def _periods(rows) -> list[Period]:
    by_month: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    tz = timezone.get_current_timezone()  # once: localtime() per row costs a context lookup
    for started_at, passed in rows:
        month = started_at.astimezone(tz).date().replace(day=1)
        by_month[month][0] += 1
        by_month[month][1] += 1 if passed else 0
    return [Period(m, n, p) for m, (n, p) in sorted(by_month.items())]


class JsonNumber(Func):
    """A number inside a JSON column by object keys: ("1", "correct") -> doc["1"]["correct"].

    Django's key transforms read a numeric key such as "1" as an array index on SQLite,
    and domain results are keyed by domain number, so the path is spelled out here.
    """

    output_field = FloatField()

    def __init__(self, field: str, *path: str):
        super().__init__(F(field))
        self.path = [str(p) for p in path]

    def as_sql(self, compiler, connection, **extra):
        lhs, params = compiler.compile(self.source_expressions[0])
        path = "$" + "".join(f'."{p}"' for p in self.path)
        return f"CAST(json_extract({lhs}, %s) AS REAL)", [*params, path]

    def as_postgresql(self, compiler, connection, **extra):
        lhs, params = compiler.compile(self.source_expressions[0])
        return f"CAST(({lhs} #>> %s::text[]) AS double precision)", [*params, self.path]


def _domain_sums(queryset, numbers: list[int]) -> dict[str, float | None]:
    sums = {}
    for n in numbers:
        sums[f"c{n}"] = Sum(JsonNumber("domain_results", n, "correct"))
        sums[f"t{n}"] = Sum(JsonNumber("domain_results", n, "total"))
    return queryset.aggregate(**sums) if sums else {}


def _domain_percent(sums, n: int) -> tuple[float | None, int]:
    correct, total = sums.get(f"c{n}"), sums.get(f"t{n}")
    if not total:
        return None, 0
    return 100.0 * (correct or 0) / total, int(total)


def scored_results(filters: Filters = NO_FILTERS):
    """Score rows of finished exam attempts with a scaled score, filtered."""
    return AttemptResult.objects.filter(
        filters.q("attempt__"),
        attempt__mode=AttemptMode.EXAM,
        scaled_score__isnull=False,
    ).exclude(attempt__state=AttemptState.IN_PROGRESS)


def domain_baseline(*, filters: Filters, numbers: list[int]) -> dict[str, float | None]:
    """Domain sums over all candidates' scored exam attempts (cached a few minutes)."""
    key = f"cohorts:baseline:v1:{filters.form_id}:{filters.date_from}:{filters.date_to}"
    sums = cache.get(key)
    if sums is None:
        sums = _domain_sums(scored_results(filters), numbers)
        cache.set(key, sums, BASELINE_CACHE_SECONDS)
    return sums


def cohort_page(*, cohort: Cohort, filters: Filters = NO_FILTERS) -> CohortPage:
    """Everything the cohort page shows, in a fixed number of queries."""
    figures = cohort_figures(cohort_ids=[cohort.pk], filters=filters)[cohort.pk]
    members = list(
        Membership.objects.filter(cohort=cohort).values_list(
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__username",
            "user__email",
            "joined_at",
        )
    )
    readiness = {
        uid: Readiness(uid, _display_name(first, last, username), email, joined)
        for uid, first, last, username, email, joined in members
    }
    rows = (
        Attempt.objects.exams()
        .finished()
        .filter(filters.q(), candidate__cohort_memberships__cohort=cohort)
        .order_by("candidate_id", "started_at", "pk")
        .values_list(
            "candidate_id", "started_at", "score__scaled_score", "score__passed",
            "score__pass_probability",
        )
    )  # fmt: skip
    scores: list[int] = []
    timeline = []
    for uid, started_at, scaled, passed, probability in rows:
        entry = readiness[uid]
        entry.attempts += 1
        entry.last_sat = started_at
        if scaled is None:
            continue
        entry.scores.append(scaled)
        entry.latest_probability = probability
        scores.append(scaled)
        timeline.append((started_at, passed))
    domains = list(Domain.objects.order_by("number").values_list("number", "name"))
    numbers = [n for n, _ in domains]
    cohort_sums = _domain_sums(
        scored_results(filters).filter(attempt__candidate__cohort_memberships__cohort=cohort),
        numbers,
    )
    all_sums = domain_baseline(filters=filters, numbers=numbers)
    domain_rows = []
    for number, name in domains:
        percent, items = _domain_percent(cohort_sums, number)
        all_percent, _ = _domain_percent(all_sums, number)
        domain_rows.append(DomainRow(number, name, percent, items, all_percent))
    return CohortPage(
        cohort=cohort,
        filters=filters,
        figures=figures,
        bins=_bins(scores),
        periods=_periods(timeline),
        domains=domain_rows,
        readiness=sorted(readiness.values(), key=_readiness_key),
    )


def cohort_forms(*, cohort: Cohort) -> list[ExamForm]:
    """Forms to filter the cohort page by: assigned to it, or sat by its members."""
    sat = (
        Attempt.objects.exams()
        .filter(candidate__cohort_memberships__cohort=cohort)
        .values("form_id")
    )
    return list(
        ExamForm.objects.exams()
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
    """A member's exam attempts and domain results in order of sitting; None if not a member."""
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
        Attempt.objects.filter(candidate_id=user_id)
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
    profile = CandidateProfile.objects.filter(user_id=user_id).first()
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


def cohort_members(*, cohort: Cohort) -> list[MemberLine]:
    rows = (
        Membership.objects.filter(cohort=cohort)
        .order_by("user__last_name", "user__first_name", "user__username")
        .values_list(
            "user_id", "user__first_name", "user__last_name", "user__username", "user__email",
            "joined_at", "source", "user__exam_profile__time_multiplier",
            "user__exam_profile__note",
        )
    )  # fmt: skip
    return [
        MemberLine(uid, _display_name(f, last, u), u, e, j, s, tm, note or "")
        for uid, f, last, u, e, j, s, tm, note in rows
    ]


def cohort_assignments(*, cohort: Cohort):
    return list(cohort.assignments.select_related("form").order_by("opens_at", "pk"))


def assignable_forms():
    return ExamForm.objects.exams().published().order_by("name")
