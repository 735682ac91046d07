"""Item analysis runs: classical statistics, Rasch calibration and anchored pretest calibration.

Pretest promotion is in itemanalysis.promotion and balanced assembly in
itemanalysis.balanced. A thin layer over the pure core (psychometrics: analysis,
calibration, flags): it reads the responses of finished EXAM attempts (practice never
counts), calls the core, and stores what it returns with the time and the number of responses.

Three analyses, each an AnalysisRun whose progress the admin shows:
- classical: per form, p, point-biserial, item-rest, D and option rates by upper/lower 27%
  for every item (pretest items against the operational score, which is what they are
  meant to predict), and the form's mean, sd, KR-20, SEM, score distribution and the items
  that lower KR-20 most, over the operational (scored) items;
- rasch: a CML calibration of the OPERATIONAL item versions from every exam attempt (an
  incomplete design: each attempt answered one form, forms share items), stored in
  ItemCalibration. The bank scale is kept from one run to the next by mean-mean linking:
  the new difficulties are shifted so that the items calibrated before keep their mean
  (the first run, with nothing calibrated yet, puts the mean at 0);
- pretest_anchor: CML of the PRETEST items with the calibrated operational items fixed as
  anchors, so pretest difficulties land on the bank scale (ItemCalibration, "anchored").

Idempotent: rows carry the fingerprint of their input data, and a run on unchanged data
replaces the rows stored from that data instead of adding to them. Concurrency: a run is
claimed by a conditional UPDATE to "running", and a partial unique index allows one running
run per kind, so a second worker's claim fails and that run is marked skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import time
from collections.abc import Callable

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.lifecycle import log_event
from itemanalysis.models import (
    AnalysisKind,
    AnalysisRun,
    FormStatistic,
    ItemStatistic,
    RunStatus,
)
from itemanalysis.selectors import (
    BankResponses,
    FormResponses,
    Pooled,
    analysed_forms,
    bank_responses,
    form_responses,
)
from psychometrics import flags
from psychometrics.analysis import criterion_analysis, item_analysis
from psychometrics.calibration import calibrate
from psychometrics.linking import DEFAULT_DRIFT_THRESHOLD, FormCalibration, link_forms
from questionbank.models import ItemStatus, ItemVersion
from scoring.models import BaseForm, ItemCalibration
from scoring.selectors import calibrated_difficulties
from scoring.services import forms_reequate, item_calibrations_store

logger = logging.getLogger(__name__)

# A run still "running" after this long lost its worker; it no longer blocks new runs.
STALE_AFTER = dt.timedelta(hours=6)
ANCHORED = "anchored"
# How many items that hurt reliability a form's statistics keep.
HURTING_KEPT = 10
# An anchor displaced by more than this (logits) after linking is drifting.
DRIFT_THRESHOLD = DEFAULT_DRIFT_THRESHOLD

Progress = Callable[[int, str], None]


class SharedBank:
    """Every analysed form's responses, read by the first run that needs them and reused by
    the runs after it (analysis_nightly: the classical, Rasch and pretest runs all read the
    same matrices). A run given the matrices already read still reports reading each form,
    as it would on its own."""

    def __init__(self) -> None:
        self._bank: BankResponses | None = None

    def get(self, report: Callable[[int, int], None]) -> BankResponses:
        if self._bank is None:
            self._bank = bank_responses(progress=report)
        else:
            total = len(self._bank.forms)
            for done in range(1, total + 1):
                report(done, total)
        return self._bank


def flag_rules() -> dict:
    return flags.thresholds(getattr(settings, "CCS_ITEM_FLAGS", None))


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _rates(rates: dict | None) -> dict:
    return {str(k): round(float(v), 6) for k, v in (rates or {}).items()}


# --- Rows ---------------------------------------------------------------------------------
def _row(*, version_id: int, is_pretest: bool, n_responses: int, key: str = "", **values) -> dict:
    """A statistic row's fields, with the flags its values break under the current rules."""
    row = {
        "item_version_id": version_id,
        "is_pretest": is_pretest,
        "n_responses": int(n_responses),
        "key": key,
        "p": _num(values.get("p")),
        "point_biserial": _num(values.get("point_biserial")),
        "item_rest": _num(values.get("item_rest")),
        "discrimination_index": _num(values.get("discrimination_index")),
        "option_rates_all": _rates(values.get("option_rates_all")),
        "option_rates_upper": _rates(values.get("option_rates_upper")),
        "option_rates_lower": _rates(values.get("option_rates_lower")),
        "difficulty": _num(values.get("difficulty")),
        "se": _num(values.get("se")),
        "infit": _num(values.get("infit")),
        "outfit": _num(values.get("outfit")),
    }
    flags = statistic_flags(row)
    row["flags"] = [f.as_dict() for f in flags]
    row["flag_codes"] = "".join(f",{f.code}" for f in flags) + ("," if flags else "")
    row["flag_count"] = len(flags)
    return row


def statistic_flags(values) -> list[flags.Flag]:
    """Flags of a row (dict or ItemStatistic) under the current settings."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    key = get("key") or ""
    upper, lower = get("option_rates_upper") or {}, get("option_rates_lower") or {}
    if "+" in key or any("+" in label for label in upper):
        # Multiple response: judge each distractor option, not each combination.
        upper, lower = flags.per_option(upper), flags.per_option(lower)
        key = key.split("+")
    return flags.item_flags(
        n_responses=get("n_responses"),
        p=get("p"),
        item_rest=get("item_rest"),
        option_rates_upper=upper,
        option_rates_lower=lower,
        key=key,
        infit=get("infit"),
        outfit=get("outfit"),
        rules=flag_rules(),
    )


# --- Classical statistics of one form --------------------------------------------------------
def form_classical(data: FormResponses) -> tuple[dict | None, list[dict]]:
    """(form statistic fields or None, item rows) for one form's matrix."""
    if data.n == 0:
        return None, []
    op = data.operational
    total = data.operational_total
    rows: list[dict] = []
    form_fields = None
    if op:
        choices = np.empty((data.n, len(op)), dtype=object)
        for index, j in enumerate(op):
            choices[:, index] = data.choices(j)
        result = item_analysis(
            data.scores[:, op], choices=choices, keys=[data.columns[j].key_label for j in op]
        )
        for index, j in enumerate(op):
            column = data.columns[j]
            rows.append(
                _row(
                    version_id=column.version_id,
                    is_pretest=False,
                    n_responses=data.n,
                    key=column.key_label,
                    p=result.p[index],
                    point_biserial=result.point_biserial[index],
                    item_rest=result.item_rest[index],
                    discrimination_index=result.discrimination_index[index],
                    option_rates_all=result.option_rates[index],
                    option_rates_upper=result.option_rates_upper[index],
                    option_rates_lower=result.option_rates_lower[index],
                )
            )
        counts = np.bincount(np.rint(total).astype(int), minlength=len(op) + 1)
        hurting = []
        for index in result.items_hurting_reliability()[:HURTING_KEPT]:
            column = data.columns[op[index]]
            hurting.append(
                {
                    "item_version": column.version_id,
                    "key": column.item_key,
                    "position": column.position,
                    "kr20_if_deleted": round(float(result.kr20_if_deleted[index]), 6),
                    "gain": round(float(result.kr20_if_deleted[index] - result.kr20), 6),
                    "p": _num(result.p[index]),
                    "item_rest": _num(result.item_rest[index]),
                }
            )
        form_fields = {
            "n_attempts": data.n,
            "n_items": len(op),
            "mean": _num(result.mean),
            "sd": _num(result.sd),
            "kr20": _num(result.kr20),
            "sem": _num(result.sem),
            "score_distribution": {"max": len(op), "counts": [int(c) for c in counts]},
            "items_hurting_reliability": hurting,
        }
    for j in data.pretest:
        column = data.columns[j]
        stats = criterion_analysis(
            data.scores[:, j],
            total,
            data.operational_proportion,
            choices=data.choices(j),
            key=column.key_label,
        )
        rows.append(
            _row(
                version_id=column.version_id,
                is_pretest=True,
                n_responses=data.n,
                key=column.key_label,
                **stats,
            )
        )
    return form_fields, rows


def _pooled_row(pooled: Pooled, *, is_pretest: bool, **rasch) -> dict:
    stats = criterion_analysis(
        pooled.scores,
        pooled.rest,
        pooled.group_score,
        choices=pooled.choices,
        key=pooled.key_label,
    )
    return _row(
        version_id=pooled.version_id,
        is_pretest=is_pretest,
        n_responses=len(pooled.scores),
        key=pooled.key_label,
        **stats,
        **rasch,
    )


def _fingerprint(*parts) -> str:
    digest = hashlib.sha1()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


# --- Runs -----------------------------------------------------------------------------------
def _progress(run_id: int) -> Progress:
    def report(percent: int, message: str) -> None:
        AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            progress=max(0, min(99, int(percent))), message=message
        )

    return report


def _claim(run_id: int, now: dt.datetime) -> bool:
    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is None or run.status != RunStatus.QUEUED:
        return False  # done, running elsewhere, or delivered twice by the broker
    AnalysisRun.objects.filter(
        kind=run.kind, status=RunStatus.RUNNING, started_at__lt=now - STALE_AFTER
    ).update(
        status=RunStatus.FAILED,
        finished_at=now,
        message="Abandoned: its worker stopped before finishing.",
    )
    try:
        with transaction.atomic():
            claimed = AnalysisRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
                status=RunStatus.RUNNING, started_at=now, progress=1, message="Started."
            )
    except IntegrityError:
        other = (
            AnalysisRun.objects.filter(kind=run.kind, status=RunStatus.RUNNING)
            .values_list("pk", flat=True)
            .first()
        )
        AnalysisRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.SKIPPED,
            finished_at=now,
            progress=100,
            message=f"Skipped: run #{other} of the same analysis was already running; "
            "its results are the current ones.",
        )
        return False
    return bool(claimed)


def analysis_run_execute(*, run_id: int, shared: SharedBank | None = None) -> AnalysisRun:
    """Run a queued analysis to the end (the Celery task's body). Safe to call twice.

    `shared`: the responses already read by an earlier run of the same batch."""
    now = timezone.now()
    if not _claim(run_id, now):
        return AnalysisRun.objects.get(pk=run_id)
    run = AnalysisRun.objects.select_related("form").get(pk=run_id)
    progress = _progress(run_id)
    runner = RUNNERS[run.kind]
    started = time.perf_counter()
    try:
        summary = runner(run, progress) if shared is None else runner(run, progress, shared)
    except Exception as exc:  # recorded on the run for the instructor, and logged
        logger.exception("item analysis run %s failed", run_id)
        log_event(
            "analysis.run",
            run_id=run_id,
            kind=run.kind,
            outcome="failed",
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        AnalysisRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            message=f"Failed: {exc}",
        )
    else:
        AnalysisRun.objects.filter(pk=run_id).update(
            status=RunStatus.DONE,
            progress=100,
            finished_at=timezone.now(),
            message=summary.pop("message"),
            summary=summary,
        )
        log_event(
            "analysis.run",
            run_id=run_id,
            kind=run.kind,
            form_id=run.form_id,
            outcome="done",
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
    return AnalysisRun.objects.get(pk=run_id)


# A queued run older than this lost its message (the broker restarted, or was down when
# it was requested): the beat runs it instead.
RESUME_AFTER = dt.timedelta(minutes=2)


def analysis_runs_resume(*, now: dt.datetime | None = None) -> list[AnalysisRun]:
    """Run every analysis still queued RESUME_AFTER after it was requested."""
    now = now or timezone.now()
    stale = AnalysisRun.objects.filter(
        status=RunStatus.QUEUED, created_at__lt=now - RESUME_AFTER
    ).order_by("created_at")
    return [analysis_run_execute(run_id=run_id) for run_id in stale.values_list("pk", flat=True)]


def analysis_nightly() -> list[AnalysisRun]:
    """The scheduler's runs, in order: the pretest calibration needs the fresh anchors.
    The responses are read once, by the first run, for all three."""
    runs = []
    shared = SharedBank()
    for kind in (AnalysisKind.CLASSICAL, AnalysisKind.RASCH, AnalysisKind.PRETEST):
        run = AnalysisRun.objects.create(kind=kind)
        runs.append(analysis_run_execute(run_id=run.pk, shared=shared))
    return runs


def _locked_run(run: AnalysisRun) -> AnalysisRun:
    """Inside the storing transaction: the run, still ours (not declared abandoned)."""
    locked = AnalysisRun.objects.select_for_update().get(pk=run.pk)
    if locked.status != RunStatus.RUNNING:
        raise RuntimeError(f"run #{run.pk} is no longer running ({locked.status}); not stored")
    return locked


def _store_items(
    run: AnalysisRun,
    *,
    kind: str,
    form_id: int | None,
    fingerprint: str,
    rows: list[dict],
    now: dt.datetime,
) -> int:
    """Replace the rows computed earlier from the same data, then add these; returns how
    many were replaced."""
    replaced, _ = ItemStatistic.objects.filter(
        kind=kind, form_id=form_id, fingerprint=fingerprint
    ).delete()
    ItemStatistic.objects.bulk_create(
        ItemStatistic(
            run_id=run.pk,
            kind=kind,
            form_id=form_id,
            fingerprint=fingerprint,
            computed_at=now,
            **row,
        )
        for row in rows
    )
    return replaced


def _run_classical(run: AnalysisRun, progress: Progress, shared: SharedBank | None = None) -> dict:
    def report(number: int, total: int) -> None:
        progress(5 + 85 * number // max(total, 1), f"Form {number} of {total}")

    computed = []
    if shared is not None and not run.form_id:
        for data in shared.get(report).forms:
            computed.append((data, *form_classical(data)))
    else:
        form_ids = (
            [run.form_id]
            if run.form_id
            else list(analysed_forms().order_by("pk").values_list("pk", flat=True))
        )
        for number, form_id in enumerate(form_ids, start=1):
            data = form_responses(form_id=form_id)
            computed.append((data, *form_classical(data)))
            report(number, len(form_ids))
    now = timezone.now()
    forms, replaced, items = [], 0, 0
    with transaction.atomic():
        _locked_run(run)
        for data, form_fields, rows in computed:
            if data.n == 0:
                forms.append({"form": data.form_name, "attempts": 0})
                continue
            fingerprint = data.fingerprint()
            replaced += _store_items(
                run,
                kind=AnalysisKind.CLASSICAL,
                form_id=data.form_id,
                fingerprint=fingerprint,
                rows=rows,
                now=now,
            )
            items += len(rows)
            if form_fields is not None:
                FormStatistic.objects.filter(form_id=data.form_id, fingerprint=fingerprint).delete()
                FormStatistic.objects.create(
                    run_id=run.pk,
                    form_id=data.form_id,
                    fingerprint=fingerprint,
                    computed_at=now,
                    **form_fields,
                )
            forms.append(
                {
                    "form": data.form_name,
                    "attempts": data.n,
                    "kr20": form_fields and form_fields["kr20"],
                }
            )
    analysed = sum(1 for f in forms if f["attempts"])
    return {
        "message": f"Classical statistics of {analysed} form(s), {items} item rows"
        + (
            f" (replacing {replaced} computed earlier from the same responses)."
            if replaced
            else "."
        ),
        "forms": forms,
        "items": items,
        "replaced": replaced,
    }


def _open_bank(
    progress: Progress, shared: SharedBank | None, candidates
) -> tuple[BankResponses, set[int], list[int]]:
    """A calibration's start: every form's responses, the item versions they present, and
    those of `candidates` (an ItemVersion queryset) among them, in id order."""

    def report(done: int, total: int) -> None:
        progress(5 + 45 * done // max(total, 1), f"Read form {done} of {total}")

    bank = bank_responses(progress=report) if shared is None else shared.get(report)
    present = bank.version_ids()
    versions = sorted(candidates.filter(pk__in=present).values_list("pk", flat=True))
    return bank, present, versions


def _store_calibration(
    run: AnalysisRun,
    bank: BankResponses,
    versions: list[int],
    *,
    is_pretest: bool,
    difficulties,
    se,
    infit,
    outfit,
    estimable,
    kind: str,
    method: str,
    fingerprint: str,
) -> tuple[int, list[tuple[int, float, float | None, int]]]:
    """Store a calibration's item statistics and the estimable items' difficulties."""
    rows, calibrated = [], []
    for j, version_id in enumerate(versions):
        pooled = bank.pooled(version_id)
        rows.append(
            _pooled_row(
                pooled,
                is_pretest=is_pretest,
                difficulty=difficulties[j],
                se=se[j],
                infit=infit[j],
                outfit=outfit[j],
            )
        )
        if estimable[j]:
            calibrated.append((version_id, float(difficulties[j]), _num(se[j]), len(pooled.scores)))
    now = timezone.now()
    with transaction.atomic():
        _locked_run(run)
        replaced = _store_items(
            run, kind=kind, form_id=None, fingerprint=fingerprint, rows=rows, now=now
        )
        item_calibrations_store(calibrated, method, now)
    return replaced, calibrated


def _forms_in_linking_order(bank: BankResponses) -> list[FormResponses]:
    """Forms with attempts, the blueprints' base forms first: the base form sets the scale
    when nothing is calibrated yet, and the others are linked to it."""
    base_ids = set(BaseForm.objects.values_list("form_id", flat=True))
    forms = [f for f in bank.forms if f.n]
    return sorted(forms, key=lambda f: (f.form_id not in base_ids, f.form_id))


def _run_rasch(run: AnalysisRun, progress: Progress, shared: SharedBank | None = None) -> dict:
    """Calibrate each form's operational items on its own (CML), then chain the forms onto
    the bank scale through their common items with psychometrics.linking.link_forms: the
    items calibrated before carry the scale from one run to the next (the first run, with
    nothing calibrated, takes the base form's own scale, centred at 0); each form's
    drifting anchors are reported and left out of its link; forms that share too few
    items with the scale are reported as not connected and their items stay uncalibrated.
    Separate calibrations are what make drift visible: calibrated together, an anchor
    that behaves differently on two forms would just get an average difficulty."""
    bank, _, versions = _open_bank(progress, shared, ItemVersion.objects.operational())
    if not versions:
        return {"message": "No operational items have exam responses yet; nothing calibrated."}
    operational = set(versions)
    forms = _forms_in_linking_order(bank)
    names = {f.form_id: f.form_name for f in forms}
    item_key = {c.version_id: c.item_key for f in forms for c in f.columns}
    fitted: dict[int, tuple] = {}  # form id -> (calibration, its version ids)
    calibrations, failed = [], []
    for number, data in enumerate(forms, start=1):
        progress(50 + 25 * number // len(forms), f"Calibrating form {number} of {len(forms)}")
        cols = [j for j in data.operational if data.columns[j].version_id in operational]
        form_versions = [data.columns[j].version_id for j in cols]
        # Rasch calibrates right/wrong: partial credit counts as right only when full.
        x = (data.scores[:, cols] >= 1.0).astype(float)
        try:
            calibration = calibrate(x, method="cml")
        except ValueError as exc:
            failed.append({"form_id": data.form_id, "form": data.form_name, "reason": str(exc)})
            continue
        fitted[data.form_id] = (calibration, form_versions)
        calibrations.append(
            FormCalibration(
                key=data.form_id,
                items=form_versions,
                difficulties=np.where(calibration.estimable, calibration.difficulties, np.nan),
            )
        )
    prior = calibrated_difficulties(versions)
    linked = link_forms(calibrations, reference=prior, drift_threshold=DRIFT_THRESHOLD)

    b, se, infit, outfit = (np.full(len(versions), np.nan) for _ in range(4))
    estimable = np.zeros(len(versions), bool)
    for j, version_id in enumerate(versions):
        if version_id not in linked.difficulties:
            continue
        calibration, form_versions = fitted[linked.placed_by[version_id]]
        k = form_versions.index(version_id)
        b[j] = linked.difficulties[version_id]
        se[j], infit[j], outfit[j] = calibration.se[k], calibration.infit[k], calibration.outfit[k]
        estimable[j] = True
    progress(80, "Item statistics")
    replaced, calibrated = _store_calibration(
        run,
        bank,
        versions,
        is_pretest=False,
        difficulties=b,
        se=se,
        infit=infit,
        outfit=outfit,
        estimable=estimable,
        kind=AnalysisKind.RASCH,
        method="cml",
        fingerprint=_fingerprint("rasch", versions, bank.matrix(versions)),
    )
    links = [
        {
            "form_id": link.key,
            "form": names[link.key],
            "anchors": len(link.anchors),
            "kept": len(link.kept),
            "shift": round(link.shift, 6),
            "linking_error": _num(link.linking_error),
            "stopped_at_floor": link.stopped_at_floor,
            "drifting": [
                {"version_id": v, "key": item_key.get(v, str(v)), "displacement": round(d, 4)}
                for v, d in link.dropped
            ],
        }
        for link in linked.links
    ]
    unlinked = [
        {"form_id": key, "form": names[key], "anchors": anchors} for key, anchors in linked.unlinked
    ]
    rescore = settings.CCS_RESCORE_AFTER_CALIBRATION
    reequated = [
        c.form.name
        for c in forms_reequate(
            reason=f"New calibration (analysis run #{run.pk})",
            by=run.requested_by,
            form_ids=[f.form_id for f in forms],
            rescore=rescore,
        )
    ]
    skipped = len(versions) - len(calibrated)
    return {
        "message": _rasch_message(
            calibrated=len(calibrated),
            attempts=sum(f.n for f in forms),
            origin=names.get(linked.origin),
            links=links,
            unlinked=unlinked,
            failed=failed,
            reequated=reequated,
            rescored=rescore,
        ),
        "items": len(versions),
        "calibrated": len(calibrated),
        "not_calibrated": skipped,
        "attempts": sum(f.n for f in forms),
        "origin": names.get(linked.origin),
        "linking_items": sum(1 for v in versions if v in prior),
        "links": links,
        "unlinked": unlinked,
        "failed": failed,
        "reequated": reequated,
        "rescored": rescore and bool(reequated),
        "drift_threshold": DRIFT_THRESHOLD,
        "replaced": replaced,
    }


def _rasch_message(
    *, calibrated, attempts, origin, links, unlinked, failed, reequated, rescored=True
) -> str:
    parts = [f"Calibrated {calibrated} operational items from {attempts} exam attempts"]
    if origin:
        parts.append(f"the scale set by {origin}")
    for link in links:
        text = f"{link['form']} linked through {link['kept']} of {link['anchors']} anchors"
        if link["drifting"]:
            keys = ", ".join(f"{d['key']} ({d['displacement']:+.2f})" for d in link["drifting"])
            text += f"; drifting anchors left out of the link: {keys}"
        parts.append(text)
    for form in unlinked:
        parts.append(
            f"{form['form']} is not connected: it shares {form['anchors']} calibrated "
            "item(s) with the forms on the scale and linking needs at least 2, so its "
            "other items were not calibrated (build forms with a common anchor block)"
        )
    for form in failed:
        parts.append(f"{form['form']} could not be calibrated: {form['reason']}")
    if reequated and rescored:
        parts.append("re-equated (their attempts are rescored): " + ", ".join(reequated))
    elif reequated:
        parts.append(
            "re-equated (the new tables score attempts from now on; results already issued "
            "stand, as CCS_RESCORE_AFTER_CALIBRATION is off): " + ", ".join(reequated)
        )
    return "; ".join(parts) + "."


def _run_pretest(run: AnalysisRun, progress: Progress, shared: SharedBank | None = None) -> dict:
    bank, present, pretest = _open_bank(progress, shared, ItemVersion.objects.pretest())
    if not pretest:
        return {"message": "No pretest items have exam responses yet; nothing calibrated."}
    anchor_values = dict(
        ItemCalibration.objects.filter(
            item_version__status=ItemStatus.OPERATIONAL, item_version_id__in=present
        ).values_list("item_version_id", "difficulty")
    )
    anchors = sorted(anchor_values)
    versions = anchors + pretest
    x = bank.matrix(versions)
    seen_anchor = ~np.isnan(x[:, : len(anchors)]).all(axis=1)
    seen_pretest = ~np.isnan(x[:, len(anchors) :]).all(axis=1)
    x = x[seen_anchor & seen_pretest]
    free = len(anchors) + np.arange(len(pretest))
    reached = ~np.isnan(x[:, free]).all(axis=0) if len(x) else np.zeros(len(pretest), bool)
    difficulties = np.full(len(pretest), np.nan)
    se, infit, outfit = (np.full(len(pretest), np.nan) for _ in range(3))
    estimable = np.zeros(len(pretest), bool)
    if anchors and reached.any():
        # Anchors nobody in these attempts saw carry no information; leave them out.
        used = np.flatnonzero(~np.isnan(x[:, : len(anchors)]).all(axis=0))
        keep = np.concatenate([used, free[reached]])
        progress(
            55,
            f"Calibrating {int(reached.sum())} pretest items against {len(anchors)} anchors (CML)",
        )
        calibration = calibrate(
            x[:, keep],
            method="cml",
            anchors={j: anchor_values[anchors[a]] for j, a in enumerate(used)},
        )
        idx = np.flatnonzero(reached)
        part = slice(len(used), None)
        difficulties[idx] = calibration.difficulties[part]
        se[idx] = calibration.se[part]
        infit[idx] = calibration.infit[part]
        outfit[idx] = calibration.outfit[part]
        estimable[idx] = calibration.estimable[part]
    progress(80, "Item statistics")
    replaced, calibrated = _store_calibration(
        run,
        bank,
        pretest,
        is_pretest=True,
        difficulties=difficulties,
        se=se,
        infit=infit,
        outfit=outfit,
        estimable=estimable,
        kind=AnalysisKind.PRETEST,
        method=ANCHORED,
        fingerprint=_fingerprint("pretest", versions, [anchor_values[v] for v in anchors], x),
    )
    unreached = int((~reached).sum())
    message = f"Calibrated {len(calibrated)} of {len(pretest)} pretest items"
    if anchors:
        message += f" on the bank scale ({len(anchors)} operational items as anchors)"
    else:
        message += (
            ": no operational item is calibrated yet, so there are no anchors; "
            "run the Rasch calibration first"
        )
    if anchors and unreached:
        message += f"; {unreached} appear on no form with a calibrated operational item"
    return {
        "message": message + ".",
        "pretest_items": len(pretest),
        "calibrated": len(calibrated),
        "anchors": len(anchors),
        "attempts": int(len(x)),
        "replaced": replaced,
    }


# Each runner is called as runner(run, progress), or runner(run, progress, shared).
RUNNERS: dict[str, Callable[..., dict]] = {
    AnalysisKind.CLASSICAL: _run_classical,
    AnalysisKind.RASCH: _run_rasch,
    AnalysisKind.PRETEST: _run_pretest,
}
