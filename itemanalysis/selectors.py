"""Reads for item analysis: the response matrices it is computed from, and what it stored.

The matrices come from EXAM attempts that are finished (submitted or expired); practice
attempts never count. A candidate who did not answer an item got it wrong: the item was
presented. Each attempt is one row ("person"); a candidate who sat two forms is two rows.
"""

from __future__ import annotations

import hashlib
import string
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from exams.models import Attempt, ExamForm, FormItem, Response
from itemanalysis.models import (
    AnalysisKind,
    AnalysisRun,
    FormStatistic,
    ItemReviewFlag,
    ItemStatistic,
    RunStatus,
)
from psychometrics import charts
from psychometrics.dif import dif_mantel_haenszel
from psychometrics.flags import per_option
from psychometrics.items import score_item
from psychometrics.precision import classification_indices, precision_curve
from psychometrics.rasch import theta_for_expected_score
from questionbank.models import ItemVersion, Option
from scoring.models import AttemptResult, ItemCalibration, ScaleConversion


def analysed_forms():
    """Exam forms that have at least one finished exam attempt."""
    return ExamForm.objects.exams().filter(
        pk__in=Attempt.objects.exams().finished().values("form_id")
    )


# --- Response matrices -------------------------------------------------------------------
@dataclass
class Column:
    """One item of a form, with what scoring it and labelling choices needs."""

    form_item_id: int
    version_id: int
    item_key: str
    position: int
    is_pretest: bool
    kind: str
    partial: bool
    keys: frozenset[int]
    letters: dict[int, str]  # option id → letter (by authoring position)
    key_label: str
    # Distinct selections seen, as labels ("B", "A+C"); code i + 1 in FormResponses.codes.
    labels: list[str] = field(default_factory=list)
    _codes: dict[str, int] = field(default_factory=dict)

    def code_for(self, label: str) -> int:
        code = self._codes.get(label)
        if code is None:
            self.labels.append(label)
            code = self._codes[label] = len(self.labels)
        return code

    def label_of(self, selection) -> str:
        return "+".join(sorted(self.letters.get(o, "?") for o in set(selection)))


@dataclass
class FormResponses:
    """One form's finished exam attempts × its items."""

    form_id: int
    form_name: str
    columns: list[Column]
    attempt_ids: list[int]
    scores: np.ndarray  # attempts × items, 0..1 (unanswered = 0)
    codes: np.ndarray  # attempts × items, 0 = no answer, else 1 + index into column.labels

    @property
    def n(self) -> int:
        return len(self.attempt_ids)

    @cached_property
    def operational(self) -> list[int]:
        return [j for j, c in enumerate(self.columns) if not c.is_pretest]

    @cached_property
    def pretest(self) -> list[int]:
        return [j for j, c in enumerate(self.columns) if c.is_pretest]

    @cached_property
    def operational_total(self) -> np.ndarray:
        """Each attempt's raw score on the operational items (do not modify: shared)."""
        op = self.operational
        return self.scores[:, op].sum(axis=1) if op else np.zeros(self.n)

    @cached_property
    def operational_proportion(self) -> np.ndarray:
        """Each attempt's proportion correct on the operational items (shared too)."""
        return self.operational_total / max(len(self.operational), 1)

    def choices(self, j: int) -> np.ndarray:
        """The labels chosen on item j (None where unanswered), as an object array."""
        lookup = np.array([None, *self.columns[j].labels], dtype=object)
        return lookup[self.codes[:, j]]

    def fingerprint(self) -> str:
        digest = hashlib.sha1(f"form:{self.form_id}".encode())
        digest.update(np.asarray(self.attempt_ids, dtype=np.int64).tobytes())
        digest.update(np.asarray([c.version_id for c in self.columns], dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(self.scores).tobytes())
        for j in range(len(self.columns)):
            digest.update("|".join(str(v) for v in self.choices(j)).encode())
        return digest.hexdigest()


def _columns(form_id: int) -> list[Column]:
    rows = list(
        FormItem.objects.filter(form_id=form_id)
        .order_by("position")
        .values_list(
            "pk",
            "position",
            "is_pretest",
            "item_version_id",
            "item_version__item__key",
            "item_version__kind",
            "item_version__partial_credit",
        )
    )
    keys: dict[int, set[int]] = defaultdict(set)
    letters: dict[int, dict[int, str]] = defaultdict(dict)
    for version_id, pk, position, is_key in Option.objects.filter(
        version_id__in=[r[3] for r in rows]
    ).values_list("version_id", "pk", "position", "is_key"):
        letters[version_id][pk] = string.ascii_uppercase[position]
        if is_key:
            keys[version_id].add(pk)
    columns = []
    for pk, position, is_pretest, version_id, key, kind, partial in rows:
        column = Column(
            form_item_id=pk,
            version_id=version_id,
            item_key=key,
            position=position,
            is_pretest=is_pretest,
            kind=kind,
            partial=partial,
            keys=frozenset(keys[version_id]),
            letters=letters[version_id],
            key_label="",
        )
        column.key_label = column.label_of(column.keys)
        columns.append(column)
    return columns


def form_responses(*, form_id: int) -> FormResponses:
    """The scored matrix of a form's finished exam attempts (one query per table)."""
    form_name = ExamForm.objects.values_list("name", flat=True).get(pk=form_id)
    columns = _columns(form_id)
    col_of = {c.form_item_id: j for j, c in enumerate(columns)}
    # An attempt without a single stored answer tells nothing about any item (a blank
    # submission, or a result generated without its answers): as rows of zeros it would
    # make every item look harder and inflate reliability.
    attempts = (
        Attempt.objects.exams()
        .finished()
        .filter(form_id=form_id)
        .filter(Exists(Response.objects.filter(attempt_id=OuterRef("pk"))))
    )
    attempt_ids = list(attempts.order_by("pk").values_list("pk", flat=True))
    row_of = {a: i for i, a in enumerate(attempt_ids)}
    scores = np.zeros((len(attempt_ids), len(columns)))
    codes = np.zeros((len(attempt_ids), len(columns)), dtype=np.uint16)
    seen: dict[tuple, tuple[float, int]] = {}
    responses = (
        Response.objects.filter(attempt__in=attempts)
        .order_by("attempt_id", "form_item_id")
        .values_list("attempt_id", "form_item_id", "selection")
    )
    for attempt_id, form_item_id, selection in responses.iterator(chunk_size=10_000):
        i, j = row_of.get(attempt_id), col_of.get(form_item_id)
        if i is None or j is None or not selection:
            continue
        memo = (j, tuple(sorted(selection)))
        hit = seen.get(memo)
        if hit is None:
            column = columns[j]
            score = (
                score_item(column.kind, column.keys, selection, partial=column.partial)
                if column.keys
                else 0.0
            )
            hit = seen[memo] = (score, column.code_for(column.label_of(selection)))
        scores[i, j], codes[i, j] = hit
    return FormResponses(
        form_id=form_id,
        form_name=form_name,
        columns=columns,
        attempt_ids=attempt_ids,
        scores=scores,
        codes=codes,
    )


@dataclass
class Pooled:
    """One item version's responses over every form that presented it."""

    version_id: int
    key_label: str
    scores: np.ndarray
    rest: np.ndarray  # operational total without the item (pretest: the operational total)
    group_score: np.ndarray  # proportion correct on the form's operational items
    choices: np.ndarray


@dataclass
class BankResponses:
    """Every analysed form's matrix, and views across forms by item version."""

    forms: list[FormResponses]

    @property
    def n(self) -> int:
        return sum(f.n for f in self.forms)

    def version_ids(self) -> set[int]:
        return {c.version_id for f in self.forms if f.n for c in f.columns}

    def matrix(self, version_ids: list[int]) -> np.ndarray:
        """Attempts × versions (NaN = not presented), the forms' rows in order."""
        col = {v: j for j, v in enumerate(version_ids)}
        x = np.full((self.n, len(version_ids)), np.nan)
        start = 0
        for form in self.forms:
            rows = slice(start, start + form.n)
            for j, column in enumerate(form.columns):
                target = col.get(column.version_id)
                if target is not None:
                    x[rows, target] = form.scores[:, j]
            start += form.n
        return x

    @cached_property
    def _presentations(self) -> dict[int, list[tuple[FormResponses, int]]]:
        """Item version → (form, column) of each form with attempts that presented it."""
        found: dict[int, list[tuple[FormResponses, int]]] = defaultdict(list)
        for form in self.forms:
            if form.n:
                for j, column in enumerate(form.columns):
                    found[column.version_id].append((form, j))
        return found

    def pooled(self, version_id: int) -> Pooled | None:
        parts = []
        for form, j in self._presentations.get(version_id, ()):
            column = form.columns[j]
            total = form.operational_total
            x = form.scores[:, j]
            rest = total if column.is_pretest else total - x
            parts.append((column, x, rest, form.operational_proportion, form.choices(j)))
        if not parts:
            return None
        return Pooled(
            version_id=version_id,
            key_label=parts[0][0].key_label,
            scores=np.concatenate([p[1] for p in parts]),
            rest=np.concatenate([p[2] for p in parts]),
            group_score=np.concatenate([p[3] for p in parts]),
            choices=np.concatenate([p[4] for p in parts]),
        )


def bank_responses(*, progress=None) -> BankResponses:
    forms = list(analysed_forms().order_by("pk").values_list("pk", flat=True))
    loaded = []
    for number, form_id in enumerate(forms, start=1):
        loaded.append(form_responses(form_id=form_id))
        if progress:
            progress(number, len(forms))
    return BankResponses(forms=loaded)


# --- What was stored ----------------------------------------------------------------------
def _latest_statistic_rows():
    """Bank-wide rows first (they pool every form), then the newest."""
    return ItemStatistic.objects.filter(item_version=OuterRef("pk")).latest_first()


def item_versions_with_statistics(queryset):
    """Annotate item versions with their latest statistics, in the same query.

    `_stat_p`, `_stat_item_rest`, `_stat_flag_count`, `_stat_flag_codes` (",a,b,"),
    `_stat_n` and `_difficulty` (the calibrated difficulty on the bank scale).
    """
    latest = _latest_statistic_rows()
    return queryset.annotate(
        _stat_p=Subquery(latest.values("p")[:1]),
        _stat_item_rest=Subquery(latest.values("item_rest")[:1]),
        _stat_flag_count=Subquery(latest.values("flag_count")[:1]),
        _stat_flag_codes=Subquery(latest.values("flag_codes")[:1]),
        _stat_n=Subquery(latest.values("n_responses")[:1]),
        _difficulty=F("calibration__difficulty"),
    )


def item_versions_with_review_flags(queryset, *, user):
    """Annotate item versions with `_review_open`: how many open review flags the user's
    programs raised on each (0 for none), in the same query."""
    open_flags = (
        ItemReviewFlag.objects.visible_to(user)
        .open()
        .filter(item_version=OuterRef("pk"))
        .order_by()
        .values("item_version")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return queryset.annotate(_review_open=Coalesce(Subquery(open_flags), 0))


def item_statistics_history(*, version: ItemVersion) -> list[ItemStatistic]:
    return list(
        ItemStatistic.objects.filter(item_version=version)
        .select_related("form", "run")
        .order_by("-computed_at", "-id")
    )


def item_latest_statistic(*, version: ItemVersion, kind: str | None = None):
    rows = ItemStatistic.objects.filter(item_version=version)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.select_related("form").latest_first().first()


def latest_of(statistics: list[ItemStatistic], *, kind: str | None = None):
    """What item_latest_statistic returns, picked from rows already read (e.g. the
    item's history): bank-wide rows first, then by form, the newest first."""
    rows = [s for s in statistics if not kind or s.kind == kind]
    rows.sort(key=lambda s: (s.computed_at, s.pk), reverse=True)
    rows.sort(key=lambda s: (s.form_id is not None, s.form_id or 0))  # stable
    return rows[0] if rows else None


def item_calibration(*, version: ItemVersion) -> ItemCalibration | None:
    return ItemCalibration.objects.filter(item_version=version).first()


@dataclass(frozen=True)
class DistractorRow:
    label: str
    text: str
    is_key: bool
    upper: float | None
    lower: float | None
    all: float | None
    flagged: bool  # a distractor chosen more by the upper group than the lower


def distractor_table(*, version: ItemVersion, statistic: ItemStatistic | None) -> list:
    """Option × upper / lower / all rates, the key marked; options nobody chose show 0.

    For a multiple-response item the stored rates are per selection ("A+C"); each option's
    rate here is the share of candidates whose selection included it.
    """
    if statistic is None:
        return []
    stored = [
        statistic.option_rates_upper or {},
        statistic.option_rates_lower or {},
        statistic.option_rates_all or {},
    ]
    texts = {o.letter: o.text for o in version.options.order_by("position")}
    if version.kind == "single":
        rates = [dict(group) for group in stored]
        keys = {statistic.key}
    else:
        per_letter = [per_option(group) for group in stored]
        rates = [{letter: group.get(letter, 0) for letter in texts} for group in per_letter]
        keys = set(statistic.key.split("+"))
    labels = list(texts) + sorted(set(rates[2]) - set(texts))
    rows = []
    for label in labels:
        upper, lower, every = (group.get(label, 0.0) for group in rates)
        is_key = label in keys
        rows.append(
            DistractorRow(
                label=label,
                text=texts.get(label, ""),
                is_key=is_key,
                upper=upper,
                lower=lower,
                all=every,
                flagged=not is_key and upper > lower,
            )
        )
    return rows


# --- The form report ----------------------------------------------------------------------
@dataclass
class FormReport:
    form: ExamForm
    statistic: FormStatistic | None
    bins: list[charts.HistogramBin]
    svg: str
    hurting: list[dict]
    flagged_items: list[ItemStatistic]
    linking: dict | None = None  # how the latest Rasch run put the form on the bank scale
    precision: FormPrecision | None = None


@dataclass(frozen=True)
class FormPrecision:
    """A calibrated form's measurement precision: the pass/fail decision's classification
    accuracy and consistency over its scored attempts, and information along the scale."""

    theta_cut: float | None
    indices: object | None  # psychometrics.precision.ClassificationIndices, or None
    n_results: int  # scored exam attempts with an ability estimate
    curve: list  # psychometrics.precision.PrecisionPoint
    svg: str
    missing: str = ""  # why there is nothing to show


def form_precision(*, form: ExamForm) -> FormPrecision:
    """Classification indices at the passing score (Rudner, from the attempts' ability and
    its standard error, against the ability at the form's cut) and the information chart.
    Needs a conversion table and every operational item calibrated."""
    conversion = ScaleConversion.objects.filter(form=form).first()
    versions = list(
        FormItem.objects.filter(form=form, is_pretest=False)
        .order_by("position")
        .values_list("item_version_id", flat=True)
    )
    b = dict(
        ItemCalibration.objects.filter(item_version_id__in=versions).values_list(
            "item_version_id", "difficulty"
        )
    )
    empty = {"theta_cut": None, "indices": None, "n_results": 0, "curve": [], "svg": ""}
    if conversion is None:
        return FormPrecision(**empty, missing="the form has no conversion table")
    if not versions or len(b) < len(versions):
        return FormPrecision(
            **empty,
            missing=f"{len(versions) - len(b)} of its {len(versions)} operational items "
            "have no calibrated difficulty yet (run the Rasch calibration)",
        )
    difficulties = np.array([b[v] for v in versions])
    theta_cut = float(theta_for_expected_score(conversion.cut, difficulties))
    rows = np.array(
        AttemptResult.objects.filter(
            attempt__form=form,
            attempt__mode="exam",
            theta__isnull=False,
            theta_se__isnull=False,
        ).values_list("theta", "theta_se"),
        dtype=float,
    ).reshape(-1, 2)
    rows = rows[np.isfinite(rows).all(axis=1)]
    indices = classification_indices(rows[:, 0], rows[:, 1], theta_cut) if len(rows) else None
    curve = precision_curve(difficulties, conversion.table)
    return FormPrecision(
        theta_cut=theta_cut,
        indices=indices,
        n_results=len(rows),
        curve=curve,
        svg=charts.information_chart(curve),
    )


def form_linking(*, form: ExamForm) -> dict | None:
    """The form's place in the latest finished Rasch run: {"run", "status", "link"}, where
    status is "origin" (it set the scale), "linked" (with the link and its drifting
    anchors) or "unlinked" (not connected); None when no run has seen the form."""
    for run in AnalysisRun.objects.filter(kind=AnalysisKind.RASCH, status=RunStatus.DONE)[:5]:
        summary = run.summary or {}
        for link in summary.get("links", []):
            if link.get("form_id") == form.pk:
                return {"run": run, "status": "linked", "link": link}
        for link in summary.get("unlinked", []):
            if link.get("form_id") == form.pk:
                return {"run": run, "status": "unlinked", "link": link}
        if summary.get("origin") == form.name:
            return {"run": run, "status": "origin", "link": None}
    return None


def form_latest_statistic(*, form: ExamForm) -> FormStatistic | None:
    return FormStatistic.objects.filter(form=form).order_by("-computed_at", "-id").first()


def form_report(*, form: ExamForm) -> FormReport:
    statistic = form_latest_statistic(form=form)
    linking = form_linking(form=form)
    if statistic is None:
        return FormReport(
            form=form,
            statistic=None,
            bins=[],
            svg="",
            hurting=[],
            flagged_items=[],
            linking=linking,
            precision=form_precision(form=form),
        )
    bins = charts.histogram_bins(statistic.score_distribution)
    svg = charts.histogram_svg(
        bins, title=f"Raw score distribution of {form.name} ({statistic.n_attempts} attempts)"
    )
    flagged = list(
        ItemStatistic.objects.filter(run_id=statistic.run_id, form=form, flag_count__gt=0)
        .select_related("item_version__item")
        .order_by("-flag_count", "item_version__item__key")
    )
    return FormReport(
        form=form,
        statistic=statistic,
        bins=bins,
        svg=svg,
        hurting=list(statistic.items_hurting_reliability or []),
        flagged_items=flagged,
        linking=linking,
        precision=form_precision(form=form),
    )


# --- Differential item functioning ------------------------------------------------------------
# Below this many attempts in a group the MH statistics are too noisy to act on; the page
# still shows them, with a warning.
DIF_MIN_GROUP = 100
_CATEGORY_ORDER = {"C": 0, "B": 1, "A": 2}


@dataclass(frozen=True)
class DifRow:
    version_id: int
    key: str
    position: int
    category: str  # ETS A, B or C
    delta: float | None  # MH D-DIF; negative: harder for the focal group
    se_delta: float | None
    chi2: float | None
    p: float | None
    n_reference: int
    n_focal: int
    right_reference: int  # how many of each group answered it right
    right_focal: int
    n_strata: int

    @property
    def review(self) -> bool:
        return self.category == "C"

    @property
    def favours(self) -> str:
        if self.delta is None or self.category == "A":
            return ""
        return "reference" if self.delta < 0 else "focal"


@dataclass(frozen=True)
class DifReport:
    form: ExamForm
    reference: str
    focal: str
    n_reference: int
    n_focal: int
    n_both: int  # attempts in both groups, left out
    rows: list[DifRow]
    min_group: int = DIF_MIN_GROUP

    @property
    def flagged(self) -> list[DifRow]:
        return [r for r in self.rows if r.review]

    @property
    def small(self) -> bool:
        return min(self.n_reference, self.n_focal) < self.min_group


def form_dif(*, form: ExamForm, split) -> DifReport:
    """Mantel-Haenszel DIF of the form's operational items between the split's groups, over
    its finished exam attempts with answers; attempts in both groups are left out. Persons
    are matched on their operational raw score (psychometrics.dif). Rows are sorted C, B,
    A, the largest |delta| first within a category."""
    data = form_responses(form_id=form.pk)
    candidates = dict(
        Attempt.objects.filter(pk__in=data.attempt_ids).values_list("pk", "candidate_id")
    )
    in_ref = np.array(
        [split.reference.holds(attempt_id=a, candidate_id=candidates[a]) for a in data.attempt_ids],
        dtype=bool,
    )
    in_foc = np.array(
        [split.focal.holds(attempt_id=a, candidate_id=candidates[a]) for a in data.attempt_ids],
        dtype=bool,
    )
    both = in_ref & in_foc
    keep = (in_ref | in_foc) & ~both
    focal = in_foc[keep]
    op = data.operational
    rows: list[DifRow] = []
    if op and focal.any() and (~focal).any():
        x = (data.scores[keep][:, op] >= 1.0).astype(float)
        for stat, j in zip(dif_mantel_haenszel(x, focal), op, strict=True):
            column = data.columns[j]
            item = x[:, op.index(j)]
            rows.append(
                DifRow(
                    version_id=column.version_id,
                    key=column.item_key,
                    position=column.position,
                    category=stat.category,
                    delta=_finite(stat.delta),
                    se_delta=_finite(stat.se_delta),
                    chi2=_finite(stat.chi2),
                    p=_finite(stat.p),
                    n_reference=stat.n_reference,
                    n_focal=stat.n_focal,
                    right_reference=int(item[~focal].sum()),
                    right_focal=int(item[focal].sum()),
                    n_strata=stat.n_strata,
                )
            )
    rows.sort(key=lambda r: (_CATEGORY_ORDER[r.category], -abs(r.delta or 0.0), r.position))
    return DifReport(
        form=form,
        reference=split.reference.label,
        focal=split.focal.label,
        n_reference=int((keep & in_ref).sum()),
        n_focal=int((keep & in_foc).sum()),
        n_both=int(both.sum()),
        rows=rows,
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
