"""What a case's correct coding means: the MS-DRG it groups to (codebook groups codes)."""

from __future__ import annotations

from codebook.services import DrgResult, coding_drg
from questionbank.models import Case


def case_drg(case: Case) -> DrgResult | None:
    """The MS-DRG an inpatient case's correct coding groups to, or None if it has none."""
    if getattr(case, "setting", "") != "inpatient":
        return None
    return coding_drg(case.coding or {}, year=case.code_set_year)
