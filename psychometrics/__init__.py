"""The psychometric core: pure Python and NumPy/SciPy, no Django and no project app.

Item scoring (`items`), the reporting scale and conversion tables (`scale`), Rasch ability
and true-score equating (`rasch`), calibration (`calibration`), classical item analysis
(`analysis`), attempt results (`results`), flag rules (`flags`) and SVG charts (`charts`).
The apps above read the database, call these functions and store what they return; see
docs/architecture.md.
"""

from psychometrics.calibration import Calibration, calibrate

__all__ = ["Calibration", "calibrate"]
