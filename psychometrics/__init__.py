"""The psychometric core: pure Python and NumPy/SciPy, no Django and no project app.

Item scoring (`items`), the reporting scale and conversion tables (`scale`), Rasch ability
and true-score equating (`rasch`), calibration (`calibration`), classical item analysis
(`analysis`), attempt results (`results`), flag rules (`flags`), SVG charts (`charts`),
anchor linking (`linking`), differential item functioning (`dif`) and measurement
precision: test information, conditional SEM, probability of passing and classification
indices (`precision`). The apps above read the database, call these functions and store
what they return; see docs/architecture.md.
"""

from psychometrics.calibration import Calibration, calibrate
from psychometrics.dif import dif_mantel_haenszel
from psychometrics.linking import link_forms, link_rasch
from psychometrics.precision import (
    classification_indices,
    conditional_sem,
    probability_of_passing,
    test_information,
)

__all__ = [
    "Calibration",
    "calibrate",
    "classification_indices",
    "conditional_sem",
    "dif_mantel_haenszel",
    "link_forms",
    "link_rasch",
    "probability_of_passing",
    "test_information",
]
