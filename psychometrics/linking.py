"""Mean-mean linking of two Rasch calibrations through common items, with drift screening.

``link_rasch(b_ref, b_new, *, drift_threshold=0.3, min_kept=None) -> Linking``
``link_forms(calibrations, *, reference=None, drift_threshold=0.3) -> LinkedForms``
(forms calibrated one by one, chained onto one scale through their common items; see its
docstring)

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
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

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


# --- Chaining separately calibrated forms onto one scale ------------------------------------
@dataclass(frozen=True)
class FormCalibration:
    """One form's own calibration: its items and their difficulties (NaN: not estimable)."""

    key: Hashable
    items: Sequence[Hashable]
    difficulties: Sequence[float]


@dataclass(frozen=True)
class FormLink:
    """How one form was put on the common scale."""

    key: Hashable
    anchors: tuple  # items it shared with the scale when it was linked
    kept: tuple  # anchors the shift was computed from
    dropped: tuple  # (item, displacement) of anchors left out as drifting, in drop order
    shift: float
    linking_error: float
    stopped_at_floor: bool
    displacements: dict  # item -> displacement of every anchor after linking


@dataclass(frozen=True)
class LinkedForms:
    """Result of ``link_forms``."""

    difficulties: dict  # item -> difficulty on the common scale
    placed_by: dict  # item -> key of the form whose calibration gave its value
    links: list[FormLink] = field(default_factory=list)  # in placement order
    origin: Hashable | None = None  # the form that set the scale (None: the reference did)
    unlinked: list[tuple[Hashable, int]] = field(default_factory=list)  # (form, anchors)


def link_forms(
    calibrations: Sequence[FormCalibration],
    *,
    reference: Mapping | None = None,
    drift_threshold: float = DEFAULT_DRIFT_THRESHOLD,
    min_anchors: int = 2,
) -> LinkedForms:
    """Put separately calibrated forms on one scale, each linked by ``link_rasch``.

    ``reference`` holds difficulties already on the scale (the bank's earlier
    calibration); without one, the first form sets the scale as calibrated (shift 0).
    Forms are then placed one at a time: the first form, in the order given, that shares
    at least ``min_anchors`` estimable items with the scale (the reference and the forms
    already placed) is linked through those anchors, its drifting anchors screened out of
    the shift, and its other items join the scale at their difficulty plus the shift.
    Placing repeats until no form qualifies; the rest are ``unlinked`` (they share too few
    items with the scale: a design that is not connected).

    An item keeps the value of the first form that placed it: an anchor linked again
    later, drifting or not, does not move, so the scale never depends on the order in
    which later forms arrive. Items of the reference that a placed form presented take
    that form's fresh value (the new data), since the reference only carries the scale.
    """
    ref = {} if reference is None else {k: float(v) for k, v in reference.items()}
    pending = []
    for calibration in calibrations:
        b = np.asarray(calibration.difficulties, dtype=float)
        if b.shape != (len(calibration.items),):
            raise ValueError(f"form {calibration.key!r}: one difficulty per item is needed")
        estimable = {
            item: float(value)
            for item, value in zip(calibration.items, b, strict=True)
            if np.isfinite(value)
        }
        pending.append((calibration.key, estimable))
    placed: dict = {}
    placed_by: dict = {}
    links: list[FormLink] = []
    origin = None

    def scale_value(item):
        return placed[item] if item in placed else ref.get(item)

    def place(key, values: dict, shift: float) -> None:
        for item, value in values.items():
            if item not in placed:
                placed[item] = value + shift
                placed_by[item] = key

    if not ref and pending:
        key, values = pending.pop(0)
        origin = key
        place(key, values, 0.0)
    while True:
        chosen = None
        for index, (key, values) in enumerate(pending):
            anchors = [item for item in values if scale_value(item) is not None]
            if len(anchors) >= min_anchors:
                chosen = index, key, values, anchors
                break
        if chosen is None:
            break
        index, key, values, anchors = chosen
        pending.pop(index)
        linking = link_rasch(
            [scale_value(item) for item in anchors],
            [values[item] for item in anchors],
            drift_threshold=drift_threshold,
        )
        links.append(
            FormLink(
                key=key,
                anchors=tuple(anchors),
                kept=tuple(anchors[i] for i in linking.kept),
                dropped=tuple(
                    (anchors[i], float(linking.displacements[i])) for i in linking.dropped
                ),
                shift=linking.shift,
                linking_error=linking.linking_error,
                stopped_at_floor=linking.stopped_at_floor,
                displacements={
                    item: float(d) for item, d in zip(anchors, linking.displacements, strict=True)
                },
            )
        )
        place(key, values, linking.shift)
    unlinked = [
        (key, sum(1 for item in values if scale_value(item) is not None)) for key, values in pending
    ]
    return LinkedForms(
        difficulties=placed, placed_by=placed_by, links=links, origin=origin, unlinked=unlinked
    )
