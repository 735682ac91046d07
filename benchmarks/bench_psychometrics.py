"""Benchmark: Mantel-Haenszel DIF and anchor linking at production scale.

Simulates 100,000 candidates x 400 items under the Rasch model (fixed seed, float32, 5% of
the cells not presented) with a focal group of 30% (impact -0.3 logits) and uniform DIF
planted on 20 items, then:

- times ``dif_mantel_haenszel`` on the whole matrix (time; peak traced memory from a
  separate run, so that tracing does not slow the timed one; tracemalloc counts numpy's
  allocations, not the 153 MiB input that exists before it starts), and the same
  statistics item by item with statsmodels' ``StratifiedTable`` on the same 2x2xK tables
  (built per item with ``np.bincount``) for all 400 items: time ratio and the largest
  absolute differences in alpha and chi-square;
- times ``link_rasch`` on the 400 items as anchors: a reference calibration and a new one
  on a scale shifted by 0.37 logits, each with the calibration error that 100,000
  candidates leave (1 / sqrt(item information over the candidates who saw the item)), and
  12 anchors drifting by 0.4 to 1.2 logits; beside it the unscreened mean-mean shift, and
  a worst case in which 199 of 400 anchors drift (199 drop-and-relink rounds).

Run: ``python -m benchmarks.bench_psychometrics`` (or ``python -m benchmarks psychometrics``).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
from scipy.special import expit

from psychometrics.dif import dif_mantel_haenszel
from psychometrics.linking import link_rasch

SEED = 20240611
N_PERSONS = 100_000
N_ITEMS = 400
MISSING = 0.05
FOCAL_SHARE = 0.3
IMPACT = -0.3
N_DIF_ITEMS = 20
SHIFT = 0.37
N_DRIFTING = 12
ROWS = 10_000  # rows simulated at once, to keep the float64 temporaries small


def simulate(rng: np.random.Generator):
    b = rng.normal(0.0, 1.0, N_ITEMS)
    focal = rng.random(N_PERSONS) < FOCAL_SHARE
    theta = rng.normal(0.0, 1.0, N_PERSONS) + IMPACT * focal
    dif_items = rng.choice(N_ITEMS, N_DIF_ITEMS, replace=False)
    dif_shift = np.zeros(N_ITEMS)
    dif_shift[dif_items] = rng.choice([-1.0, -0.6, 0.6, 1.0], N_DIF_ITEMS)
    x = np.empty((N_PERSONS, N_ITEMS), dtype=np.float32)
    information = np.zeros(N_ITEMS)  # item information summed over the persons who saw it
    for first in range(0, N_PERSONS, ROWS):
        rows = slice(first, first + ROWS)
        p = expit(theta[rows, None] - b - focal[rows, None] * dif_shift)
        block = (rng.random(p.shape) < p).astype(np.float32)
        hidden = rng.random(p.shape) < MISSING
        block[hidden] = np.nan
        x[rows] = block
        information += np.where(hidden, 0.0, p * (1.0 - p)).sum(axis=0)
    return x, focal, b, dif_shift, 1.0 / np.sqrt(information)


def timed(label, fn, *, memory=True, repeat=1):
    """Best of ``repeat`` untraced runs; then, if memory, one more under tracemalloc."""
    elapsed = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        elapsed = min(elapsed, time.perf_counter() - start)
    if elapsed < 1e-3:
        line = f"{label}: {elapsed * 1e6:.1f} us"
    elif elapsed < 0.1:
        line = f"{label}: {elapsed * 1e3:.1f} ms"
    else:
        line = f"{label}: {elapsed:.2f} s"
    if memory:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        line += f", peak traced memory {peak / 2**20:.0f} MiB"
    print(line)
    return result, elapsed


def statsmodels_dif(x, focal):
    """Per item alpha, chi-square and |sum A - sum E(A)|, via statsmodels' StratifiedTable."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    _, stratum = np.unique(np.nansum(x, axis=1, dtype=np.float64), return_inverse=True)
    n_strata = int(stratum.max()) + 1
    group = focal.astype(np.int64)
    out = np.empty((x.shape[1], 3))
    for j in range(x.shape[1]):
        column = x[:, j]
        seen = ~np.isnan(column)
        cell = stratum[seen] * 4 + group[seen] * 2 + (column[seen] == 0)
        counts = np.bincount(cell, minlength=4 * n_strata).reshape(n_strata, 2, 2)
        counts = counts[counts.sum(axis=(1, 2)) >= 2]  # its variance divides by T - 1
        tables = counts.transpose(1, 2, 0).astype(float)
        table = StratifiedTable(tables)
        n = tables.sum(axis=(0, 1))
        gap = np.sum(tables[0, 0] - tables[0].sum(axis=0) * tables[:, 0].sum(axis=0) / n)
        out[j] = table.oddsratio_pooled, table.test_null_odds(correction=True).statistic, abs(gap)
    return out


def tally(categories) -> str:
    names, counts = np.unique(categories, return_counts=True)
    return ", ".join(f"{n} {c}" for n, c in zip(names, counts, strict=True))


def bench_dif(x, focal, dif_shift) -> None:
    results, t_ours = timed(
        "dif_mantel_haenszel(100,000 x 400)", lambda: dif_mantel_haenszel(x, focal)
    )
    alpha = np.array([r.alpha for r in results])
    chi2 = np.array([r.chi2 for r in results])
    categories = np.array([r.category for r in results])
    planted = dif_shift != 0
    print(
        f"  planted DIF on {planted.sum()} items: categories {tally(categories[planted])}; "
        f"other items: {tally(categories[~planted])}"
    )
    big = np.abs(dif_shift) == 1.0
    delta = np.array([r.delta for r in results])
    print(
        f"  1-logit DIF items: mean delta {np.mean(delta[big] / -np.sign(dif_shift[big])):.2f} "
        f"in the planted direction (2.35 x 1 logit = 2.35)"
    )

    try:
        import statsmodels  # noqa: F401
    except ImportError:
        print("statsmodels is not installed: skipping the comparison with StratifiedTable")
        return
    reference, t_statsmodels = timed(
        "statsmodels StratifiedTable, item by item (all 400 items)",
        lambda: statsmodels_dif(x, focal),
        memory=False,
    )
    compared = reference[:, 2] >= 0.5  # below that our continuity correction is limited
    print(
        f"  time statsmodels / ours = {t_statsmodels / t_ours:.1f}; largest |difference|: "
        f"alpha {np.max(np.abs(alpha - reference[:, 0])):.2e}, chi2 "
        f"{np.max(np.abs(chi2[compared] - reference[compared, 1])):.2e} over "
        f"{compared.sum()} items ({(~compared).sum()} with |sum A - sum E(A)| < 0.5, where "
        f"statsmodels applies the full continuity correction and ours stops at 0)"
    )


def bench_linking(rng: np.random.Generator, b, se) -> None:
    b_ref = b + rng.normal(0.0, 1.0, N_ITEMS) * se
    b_new = b - SHIFT + rng.normal(0.0, 1.0, N_ITEMS) * se
    drifting = rng.choice(N_ITEMS, N_DRIFTING, replace=False)
    b_new[drifting] += rng.choice([-1, 1], N_DRIFTING) * rng.uniform(0.4, 1.2, N_DRIFTING)
    print(f"linking: calibration SE per item {se.min():.4f}..{se.max():.4f} logits")

    link, t_link = timed(
        f"link_rasch(400 anchors, {N_DRIFTING} drifting)",
        lambda: link_rasch(b_ref, b_new),
        memory=False,
        repeat=50,
    )
    plain, t_plain = timed(
        "  baseline: unscreened mean-mean shift",
        lambda: float(np.mean(b_ref - b_new)),
        memory=False,
        repeat=50,
    )
    print(
        f"  time link_rasch / unscreened = {t_link / t_plain:.0f}; dropped exactly the planted "
        f"anchors: {sorted(link.dropped) == sorted(drifting.tolist())}; shift error "
        f"{link.shift - SHIFT:+.4f} (linking error {link.linking_error:.4f}) vs unscreened "
        f"{plain - SHIFT:+.4f}"
    )

    worst_new = b_new.copy()
    many = rng.choice(N_ITEMS, N_ITEMS // 2 - 1, replace=False)
    worst_new[many] = b[many] - SHIFT + rng.uniform(0.5, 3.0, many.size)
    worst, _ = timed(
        f"link_rasch(400 anchors, {many.size} drifting)",
        lambda: link_rasch(b_ref, worst_new),
        memory=False,
        repeat=5,
    )
    # When nearly half the anchors drift the same way the mean moves so far that sound
    # anchors can look worse than mildly drifting ones: the floor is what stops this.
    truly = len(set(worst.dropped) & set(many.tolist()))
    print(
        f"  dropped {len(worst.dropped)} ({truly} of them drifting), stopped at the floor: "
        f"{worst.stopped_at_floor}"
    )


def main() -> None:
    rng = np.random.default_rng(SEED)
    start = time.perf_counter()
    x, focal, b, dif_shift, se = simulate(rng)
    print(
        f"{N_PERSONS:,} candidates x {N_ITEMS} items (float32, {MISSING:.0%} not presented), "
        f"focal group {focal.mean():.1%}; simulated in {time.perf_counter() - start:.1f} s"
    )
    bench_dif(x, focal, dif_shift)
    bench_linking(rng, b, se)


if __name__ == "__main__":
    main()
