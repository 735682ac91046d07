"""Pretest promotion: a calibrated pretest item that passes the flag rules becomes operational."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from itemanalysis.models import (
    AnalysisKind,
    ItemStatistic,
    PretestPromotion,
)
from itemanalysis.selectors import (
    item_calibration,
    item_latest_statistic,
)
from itemanalysis.services import (
    ANCHORED,
    flag_rules,
    statistic_flags,
)
from psychometrics import flags
from questionbank.models import ItemStatus, ItemVersion
from questionbank.services import item_version_transition
from scoring.models import ItemCalibration

logger = logging.getLogger(__name__)

_READ = object()  # "not given: read it"


def pretest_promotion_problems(
    *, version: ItemVersion, statistic=_READ, calibration=_READ
) -> list[str]:
    """Every reason the version cannot be promoted now (empty: it can).

    `statistic` (its latest statistic of the anchored calibration, or None) and
    `calibration` (its ItemCalibration, or None) are read unless the caller has them."""
    return _promotion_check(version, statistic=statistic, calibration=calibration)[0]


def _promotion_check(
    version: ItemVersion, *, statistic=_READ, calibration=_READ
) -> tuple[list[str], ItemStatistic | None, ItemCalibration | None]:
    """(every reason it cannot be promoted, the statistic and calibration judged)."""
    if statistic is _READ:
        statistic = item_latest_statistic(version=version, kind=AnalysisKind.PRETEST)
    if calibration is _READ:
        calibration = item_calibration(version=version)
    problems = []
    rules = flag_rules()
    if version.status != ItemStatus.PRETEST:
        problems.append(f"It is {ItemStatus(version.status).label.lower()}, not a pretest item.")
    if statistic is None:
        problems.append(
            "It has no statistics from the anchored calibration of pretest items yet; "
            "run that analysis first."
        )
    else:
        if statistic.n_responses < rules["min_responses"]:
            problems.append(
                f"Too few responses: {statistic.n_responses}, at least "
                f"{rules['min_responses']} are required."
            )
        for flag in flags.blocking(statistic_flags(statistic), rules):
            if flag.code != flags.TOO_FEW_RESPONSES:
                problems.append(f"{flags.LABELS.get(flag.code, flag.code)}: {flag.message}")
    if calibration is None or calibration.method != ANCHORED:
        problems.append(
            "It has no calibrated difficulty on the bank scale from the anchored calibration."
        )
    return problems, statistic, calibration


@transaction.atomic
def pretest_promote(*, version: ItemVersion, by, note: str = "") -> PretestPromotion:
    """Make a clean, calibrated pretest item operational, carrying its difficulty.

    Refused with ValidationError listing every reason otherwise; every promotion is
    recorded with the statistics it was decided on.
    """
    if by is None or not (
        by.has_perm("itemanalysis.add_pretestpromotion")
        and by.has_perm("questionbank.activate_itemversion")
    ):
        raise PermissionDenied("You do not have permission to promote pretest items.")
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    problems, statistic, calibration = _promotion_check(version)
    if problems:
        raise ValidationError(problems)
    item_version_transition(
        version=version,
        to_status=ItemStatus.OPERATIONAL,
        by=by,
        note=note
        or f"Promoted from pretest: b = {calibration.difficulty:.3f} on the bank scale, "
        f"{statistic.n_responses} responses.",
    )
    snapshot = {
        name: getattr(statistic, name)
        for name in (
            "n_responses",
            "p",
            "point_biserial",
            "item_rest",
            "discrimination_index",
            "difficulty",
            "se",
            "infit",
            "outfit",
            "key",
            "option_rates_all",
            "option_rates_upper",
            "option_rates_lower",
            "flags",
        )
    }
    snapshot.update(statistic_id=statistic.pk, computed_at=statistic.computed_at.isoformat())
    return PretestPromotion.objects.create(
        item_version=version,
        by=by,
        difficulty=calibration.difficulty,
        se=calibration.se,
        n_responses=statistic.n_responses,
        statistics=snapshot,
        note=note,
    )
