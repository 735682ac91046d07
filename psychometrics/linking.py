"""Mean-mean linking of two Rasch calibrations through common items, with drift screening.

``link_rasch(b_ref, b_new, *, drift_threshold=0.3, min_kept=None) -> Linking``

``b_ref[i]`` and ``b_new[i]`` are the difficulties of anchor (common) item ``i`` on the
reference scale and in the new calibration. A Rasch calibration fixes its origin arbitrarily
(CML centres the difficulties at 0), so two calibrations of the same items differ by a
translation only, and one constant puts the new calibration on the reference scale:

    shift = mean over the kept anchors of (b_ref - b_new)           (mean-mean linking)

Add ``shift`` to every difficulty and ability of the new calibration; on the kept anchors
``b_new + shift`` then equals ``b_ref`` on average.

Drift screening
---------------
An anchor whose difficulty really changed between the calibrations (an exposed item, an
edited stem) would pull the shift with it. Its *displacement* after linking is
``d_i = b_new_i + shift - b_ref_i``. The anchor with the largest ``|d_i|`` is dropped when
``|d_i| > drift_threshold`` (strictly), the shift is recomputed from the remaining anchors,
and so on until no kept anchor exceeds the threshold. Anchors are dropped one at a time
because one drifting anchor displaces every other anchor by ``drift / n``: dropping all
anchors above the threshold at once would also drop sound anchors that only looked
displaced. When two anchors tie for the largest ``|d|`` the one with the lower index is
dropped first, so the result never depends on anything but the input.

Floor: at least ``min_kept`` anchors are always kept (default ``max(2, ceil(n / 2))``).
Two is the absolute minimum: with two anchors their displacements are equal and opposite,
so nothing says which of them moved, and one anchor has zero displacement by construction.
Keeping at least half by default follows from what mean-mean linking assumes: the anchors
that did not move define the scale, which makes sense only while they are the majority;
when more than half of the anchors seem to drift, it is more likely that the calibrations
differ in some other way (a different model fit, a wrong item matching) than that most of
the anchor set changed, and a person should look. The screening then stops with
``stopped_at_floor`` True; the anchors still above the threshold stay in ``kept`` and can
be seen in ``displacements``. The floor also bounds a weakness of screening around a mean:
when many anchors drift the same way, the shift moves so far that sound anchors can look
more displaced than mildly drifting ones and be dropped first.

Linking error
-------------
``linking_error`` is the standard error of the shift as a mean over the kept anchors:
``sd(d_kept, ddof=1) / sqrt(n_kept)`` (the usual anchor-sampling link error, as in Wright
and Stone 1979 and the PISA link error). It treats the kept anchors as a sample of
possible anchors; it does not add the calibration standard errors of the difficulties,
which the displacements already reflect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_DRIFT_THRESHOLD = 0.3  # logits; the usual displacement flag for Rasch anchors


@dataclass(frozen=True)
class Linking:
    """Result of ``link_rasch``. Indices refer to positions in the anchor vectors."""

    shift: float  # add to the new calibration to put it on the reference scale
    kept: tuple[int, ...]  # anchors the final shift was computed from, ascending
    dropped: tuple[int, ...]  # anchors dropped as drifting, in the order they were dropped
    displacements: np.ndarray  # b_new + shift - b_ref for every anchor (read-only)
    linking_error: float  # standard error of the shift (see the module docstring)
    drift_threshold: float
    min_kept: int
    stopped_at_floor: bool  # True when anchors above the threshold remain because of min_kept

    def on_reference_scale(self, values):
        """``values`` (difficulties or abilities of the new calibration) plus the shift."""
        return np.asarray(values, dtype=float) + self.shift


def link_rasch(b_ref, b_new, *, drift_threshold=DEFAULT_DRIFT_THRESHOLD, min_kept=None) -> Linking:
    """Link a new Rasch calibration to a reference one; see the module docstring."""
    ref = _anchor_vector(b_ref, "b_ref")
    new = _anchor_vector(b_new, "b_new")
    if ref.size != new.size:
        raise ValueError(
            f"b_ref and b_new must have one value per anchor: got {ref.size} and {new.size}"
        )
    n = ref.size
    if n < 2:
        raise ValueError(f"linking needs at least 2 anchors, got {n}")
    threshold = float(drift_threshold)
    if not threshold > 0:  # also refuses NaN
        raise ValueError(f"drift_threshold must be positive, got {drift_threshold!r}")
    floor = max(2, math.ceil(n / 2)) if min_kept is None else _min_kept(min_kept, n)

    gap = ref - new  # what each anchor alone says the shift is
    kept = np.ones(n, dtype=bool)
    dropped: list[int] = []
    while True:
        shift = float(gap[kept].mean())
        size = np.where(kept, np.abs(shift - gap), -np.inf)
        worst = int(np.argmax(size))  # argmax takes the first maximum: the lowest index
        if not size[worst] > threshold:
            stopped_at_floor = False
            break
        if kept.sum() <= floor:
            stopped_at_floor = True
            break
        kept[worst] = False
        dropped.append(worst)

    displacements = shift - gap
    displacements.setflags(write=False)
    return Linking(
        shift=shift,
        kept=tuple(int(i) for i in np.flatnonzero(kept)),
        dropped=tuple(dropped),
        displacements=displacements,
        linking_error=float(displacements[kept].std(ddof=1) / math.sqrt(kept.sum())),
        drift_threshold=threshold,
        min_kept=floor,
        stopped_at_floor=stopped_at_floor,
    )


def _anchor_vector(values, name: str) -> np.ndarray:
    try:
        b = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers") from exc
    if b.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {b.shape}")
    if not np.all(np.isfinite(b)):
        bad = int(np.flatnonzero(~np.isfinite(b))[0])
        raise ValueError(f"{name} must be finite; anchor {bad} is {b[bad]}")
    return b


def _min_kept(value, n: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"min_kept must be an integer, got {value!r}")
    if not 2 <= value <= n:
        raise ValueError(
            f"min_kept must lie between 2 and the number of anchors ({n}), got {value}"
        )
    return int(value)
