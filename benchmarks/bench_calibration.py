"""Benchmark: Rasch calibration and classical item analysis at production scale.

Simulates a bank of 400 items and 100,000 candidates, each sitting one of four 107-item
forms that share items, then times ``calibrate(method="cml")`` (time and peak traced
memory; tracemalloc counts numpy's allocations, and the memory run is separate so that
tracing does not slow the timed one) and ``item_analysis`` on a 10,000 x 107 form. If the
``girth`` package is importable, also compares ``method="mml"`` and ``"jml"`` with its
``rasch_mml``/``rasch_jml`` on the complete data of one form (about 25,000 x 107; girth's
JML alone takes minutes). Run: ``python -m benchmarks.bench_calibration``.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from psychometrics.analysis import item_analysis
from psychometrics.calibration import calibrate

SEED = 20240601
N_ITEMS = 400
N_PERSONS = 100_000
N_FORMS = 4
FORM_LENGTH = 107
COMMON = 8  # items on all four forms
CHAINED = 4  # items on two consecutive forms (form f and f + 1, cyclically)
# 4 * 97 unique + 8 common + 4 chained = 400 items; per form 97 + 8 + 2 = 107.
UNIQUE = (N_ITEMS - COMMON - CHAINED) // N_FORMS


def simulate_forms(rng: np.random.Generator):
    """Responses (float32, NaN = not presented), true difficulties, forms, form per person."""
    b_true = rng.normal(0.0, 1.0, N_ITEMS)
    order = rng.permutation(N_ITEMS)
    common = order[:COMMON]
    chained = order[COMMON : COMMON + CHAINED]
    unique = order[COMMON + CHAINED :].reshape(N_FORMS, UNIQUE)
    forms = [
        np.concatenate([common, unique[f], chained[[f, (f - 1) % N_FORMS]]]) for f in range(N_FORMS)
    ]
    assert all(len(f) == FORM_LENGTH for f in forms)
    theta = rng.normal(0.2, 1.0, N_PERSONS)
    form_of = rng.integers(0, N_FORMS, N_PERSONS)
    x = np.full((N_PERSONS, N_ITEMS), np.nan, dtype=np.float32)
    for f, items in enumerate(forms):
        who = np.flatnonzero(form_of == f)
        p = 1.0 / (1.0 + np.exp(-(theta[who, None] - b_true[None, items])))
        x[np.ix_(who, items)] = (rng.random(p.shape) < p).astype(np.float32)
    return x, b_true, forms, form_of


def timed(label, fn, *, memory=True):
    """Time fn() untraced; then, if memory, run it again under tracemalloc for the peak."""
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    line = f"{label}: {elapsed:.2f} s"
    if memory:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        line += f", peak traced memory {peak / 2**20:.0f} MiB"
    print(line)
    return result, elapsed


def main() -> None:
    rng = np.random.default_rng(SEED)
    x, b_true, forms, form_of = simulate_forms(rng)
    seen = ~np.isnan(x)
    print(
        f"{N_PERSONS:,} candidates x {N_ITEMS} items, {N_FORMS} forms of "
        f"{FORM_LENGTH} items; items per person {seen.sum(1).min()}..{seen.sum(1).max()}, "
        f"every item seen by >= {seen.sum(0).min():,} candidates"
    )
    del seen

    cal, _ = timed("calibrate(method='cml')", lambda: calibrate(x, method="cml"))
    est = cal.estimable
    err = cal.difficulties[est] - (b_true[est] - b_true[est].mean())
    print(
        f"  iterations {cal.iterations}, converged {cal.converged}, estimable "
        f"{est.sum()}/{N_ITEMS}; RMSE vs truth {np.sqrt(np.mean(err**2)):.4f}, "
        f"corr {np.corrcoef(cal.difficulties[est], b_true[est])[0, 1]:.5f}"
    )

    form0 = forms[0]
    who0 = np.flatnonzero(form_of == 0)[:10_000]
    one_form = x[np.ix_(who0, form0)].astype(float)
    timed("item_analysis(10,000 x 107)", lambda: item_analysis(one_form))
    options = np.array(["A", "B", "C", "D"])
    choices = np.where(one_form == 1, "A", options[rng.integers(1, 4, one_form.shape)])
    timed(
        "item_analysis(10,000 x 107, with option choices)",
        lambda: item_analysis(one_form, choices=choices, keys=["A"] * FORM_LENGTH),
    )

    try:
        import girth
    except ImportError:
        print("girth is not installed: skipping the comparison with girth's rasch_jml/mml")
        return
    complete = x[np.ix_(np.flatnonzero(form_of == 0), form0)].astype(int)
    print(f"comparison with girth on the complete data of form 1 ({complete.shape[0]:,} x 107):")
    for ours_method, girth_fn in (("mml", girth.rasch_mml), ("jml", girth.rasch_jml)):
        ours, t_ours = timed(
            f"  calibrate(method={ours_method!r})",
            lambda m=ours_method: calibrate(complete, method=m),
            memory=False,
        )
        theirs, t_theirs = timed(
            f"  girth.{girth_fn.__name__}", lambda f=girth_fn: f(complete.T), memory=False
        )
        g = np.asarray(theirs["Difficulty"] if isinstance(theirs, dict) else theirs, float)
        b = ours.difficulties
        if ours_method == "jml":
            # girth's JML has no (L - 1) / L correction and its own origin: compare shapes.
            g = g - g.mean()
            b = b * FORM_LENGTH / (FORM_LENGTH - 1)
        print(
            f"    time girth / ours = {t_theirs / t_ours:.1f}; largest |difference| "
            f"{np.abs(g - b).max():.4f} logits"
        )


if __name__ == "__main__":
    main()
