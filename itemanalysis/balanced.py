"""Balanced assembly: forms whose calibrated difficulty stays close to the base form's."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction

from exams.models import Blueprint, ExamForm
from exams.services import form_assemble
from scoring.selectors import blueprint_base_form, calibrated_difficulties, operational_items

logger = logging.getLogger(__name__)


@dataclass
class DifficultyReport:
    form: str
    base_form: str
    n_items: int
    mean: float | None
    sd: float | None
    base_mean: float | None
    base_sd: float | None
    mean_tolerance: float
    sd_tolerance: float
    uncalibrated: list[str] = field(default_factory=list)
    base_uncalibrated: list[str] = field(default_factory=list)

    @property
    def mean_difference(self) -> float | None:
        if self.mean is None or self.base_mean is None:
            return None
        return self.mean - self.base_mean

    @property
    def sd_difference(self) -> float | None:
        if self.sd is None or self.base_sd is None:
            return None
        return self.sd - self.base_sd

    @property
    def problems(self) -> list[str]:
        out = []
        if self.uncalibrated:
            out.append(
                f"{len(self.uncalibrated)} operational item(s) of {self.form} have no calibrated "
                f"difficulty: {', '.join(self.uncalibrated[:10])}"
            )
        if self.base_uncalibrated:
            out.append(
                f"{len(self.base_uncalibrated)} operational item(s) of the base form "
                f"{self.base_form} have no calibrated difficulty: "
                f"{', '.join(self.base_uncalibrated[:10])}"
            )
        dm, ds = self.mean_difference, self.sd_difference
        if dm is not None and abs(dm) > self.mean_tolerance:
            out.append(
                f"Mean difficulty {self.mean:.3f} differs from the base form's "
                f"{self.base_mean:.3f} by {dm:+.3f} logits (allowed ±{self.mean_tolerance})"
            )
        if ds is not None and abs(ds) > self.sd_tolerance:
            out.append(
                f"Spread (sd) of difficulties {self.sd:.3f} differs from the base form's "
                f"{self.base_sd:.3f} by {ds:+.3f} logits (allowed ±{self.sd_tolerance})"
            )
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def distance(self) -> float:
        """How far outside the bounds, in multiples of the tolerances (≤ 1: inside)."""
        dm, ds = self.mean_difference, self.sd_difference
        if dm is None or ds is None:
            return math.inf
        return max(abs(dm) / self.mean_tolerance, abs(ds) / self.sd_tolerance)

    def __str__(self) -> str:
        if self.ok:
            return (
                f"{self.form} is balanced against {self.base_form}: mean {self.mean:.3f} "
                f"(base {self.base_mean:.3f}), sd {self.sd:.3f} (base {self.base_sd:.3f})."
            )
        return (
            f"{self.form} is not balanced against {self.base_form}: "
            + "; ".join(self.problems)
            + "."
        )


@dataclass(frozen=True)
class _Difficulties:
    """The calibrated difficulties of a form's operational items, and the keys of those
    without one."""

    form: str
    b: list[float]
    missing: list[str]


def _difficulties(form: ExamForm) -> _Difficulties:
    items = operational_items(form)
    calibrated = calibrated_difficulties([v for v, _ in items])
    return _Difficulties(
        form=form.name,
        b=[calibrated[v] for v, _ in items if v in calibrated],
        missing=[key for v, key in items if v not in calibrated],
    )


def form_difficulty_check(
    *,
    form: ExamForm,
    base_form: ExamForm | None = None,
    mean_tolerance: float = 0.15,
    sd_tolerance: float = 0.15,
) -> DifficultyReport:
    """Compare the calibrated difficulties of a form's operational items with its base
    form's: the mean and the spread (population sd) must each be within the tolerance
    (logits). `base_form` defaults to the blueprint's base form."""
    if base_form is None:
        base_form = blueprint_base_form(form.blueprint_id)
    if base_form is None:
        raise ValidationError(f"{form} has no base form to be balanced against.")
    return _difficulty_report(
        _difficulties(form),
        _difficulties(base_form),
        mean_tolerance=mean_tolerance,
        sd_tolerance=sd_tolerance,
    )


def _difficulty_report(
    form: _Difficulties, base: _Difficulties, *, mean_tolerance: float, sd_tolerance: float
) -> DifficultyReport:
    return DifficultyReport(
        form=form.form,
        base_form=base.form,
        n_items=len(form.b) + len(form.missing),
        mean=float(np.mean(form.b)) if form.b else None,
        sd=float(np.std(form.b)) if form.b else None,
        base_mean=float(np.mean(base.b)) if base.b else None,
        base_sd=float(np.std(base.b)) if base.b else None,
        mean_tolerance=mean_tolerance,
        sd_tolerance=sd_tolerance,
        uncalibrated=form.missing,
        base_uncalibrated=base.missing,
    )


@dataclass
class BalancedAssembly:
    form: ExamForm
    report: DifficultyReport
    seed: int
    tries: int
    balanced: bool

    @property
    def message(self) -> str:
        if self.balanced:
            return f"Seed {self.seed} (try {self.tries}): {self.report}"
        return (
            f"No seed in {self.tries} tries gave a form within the bounds; kept the closest, "
            f"seed {self.seed}, as a draft for you to review. {self.report}"
        )


class _Discard(Exception):
    def __init__(self, report: DifficultyReport):
        self.report = report


def form_assemble_balanced(
    *,
    blueprint: Blueprint,
    seed: int,
    name: str,
    by=None,
    base_form: ExamForm | None = None,
    tries: int = 50,
    mean_tolerance: float = 0.15,
    sd_tolerance: float = 0.15,
) -> BalancedAssembly:
    """Assemble with seeds seed, seed + 1, ... until the form's difficulties are within
    the bounds of the base form's; if none is, keep the closest (balanced False)."""
    if base_form is None:
        base_form = blueprint_base_form(blueprint.pk)
        if base_form is None:
            raise ValidationError(f"The blueprint {blueprint} has no base form to balance against.")
    base = _difficulties(base_form)
    if base.missing:
        raise ValidationError(
            f"{len(base.missing)} operational item(s) of the base form {base_form} have no "
            f"calibrated difficulty ({', '.join(base.missing[:10])}); run the Rasch calibration."
        )
    if tries < 1:
        raise ValueError("tries must be at least 1")

    def check(form: ExamForm) -> DifficultyReport:
        return _difficulty_report(
            _difficulties(form), base, mean_tolerance=mean_tolerance, sd_tolerance=sd_tolerance
        )

    best: tuple[float, int] | None = None
    for number in range(tries):
        current = seed + number
        try:
            with transaction.atomic():
                form = form_assemble(blueprint=blueprint, seed=current, name=name, by=by)
                report = check(form)
                if report.ok:
                    return BalancedAssembly(form, report, current, number + 1, True)
                raise _Discard(report)
        except _Discard as discarded:
            if best is None or discarded.report.distance < best[0]:
                best = (discarded.report.distance, current)
    form = form_assemble(blueprint=blueprint, seed=best[1], name=name, by=by)
    return BalancedAssembly(form, check(form), best[1], tries, False)
