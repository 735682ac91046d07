"""What adaptive practice (exams.adaptive, below this app) needs from scoring: calibrated
difficulties, where a candidate starts, and an ability read on the exam's scale. Registered
from ScoringConfig.ready()."""

from __future__ import annotations

import math

import numpy as np

from psychometrics.rasch import expected_score
from psychometrics.results import interpolate
from scoring.models import BaseForm, ScaleConversion
from scoring.selectors import (
    calibrated_difficulties,
    exam_results,
    operational_items,
    standard_ability,
)


class ScoringCalibrations:
    def difficulties(self, version_ids) -> dict[int, float]:
        return calibrated_difficulties(list(version_ids))

    def start(self, *, user) -> tuple[float, dict[int, float]]:
        """The latest exam ability (else the standard: where a pass/fail question is
        most informative) and the latest exam's proportion correct per domain."""
        latest = (
            exam_results()
            .filter(attempt__candidate=user)
            .order_by("-attempt__started_at", "-attempt_id")
            .values_list("theta", "domain_results", "attempt__form__blueprint_id")
            .first()
        )
        proportions: dict[int, float] = {}
        theta = None
        blueprint_id = None
        if latest is not None:
            theta, domains, blueprint_id = latest
            proportions = {int(k): v["percent"] / 100 for k, v in (domains or {}).items()}
        if theta is None or not math.isfinite(theta):
            theta = standard_ability(blueprint_id=blueprint_id) or self._any_standard() or 0.0
        return float(theta), proportions

    def _any_standard(self) -> float | None:
        for blueprint_id in BaseForm.objects.order_by("pk").values_list("blueprint_id", flat=True):
            value = standard_ability(blueprint_id=blueprint_id)
            if value is not None:
                return value
        return None

    def predicted_score(self, *, theta: float, se: float) -> tuple[int, int, int] | None:
        """The ability read on the first calibrated base form's table, with theta +/- se."""
        for base in BaseForm.objects.select_related("form").order_by("pk"):
            table = (
                ScaleConversion.objects.filter(form=base.form)
                .values_list("table", flat=True)
                .first()
            )
            items = operational_items(base.form)
            b = calibrated_difficulties([v for v, _ in items])
            if table is None or not items or len(b) < len(items):
                continue
            d = np.array([b[v] for v, _ in items])
            spread = se if math.isfinite(se) else 3.0
            return tuple(
                interpolate(table, expected_score(t, d))
                for t in (theta, theta - spread, theta + spread)
            )
        return None
