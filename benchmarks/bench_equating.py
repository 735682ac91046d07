"""Timings for the scoring core at CCS size (97 scored items).

Run from the project root: ``python -m benchmarks.bench_equating``. ``run()`` returns
milliseconds per call, so a ``make bench`` target or a test can compare them against a budget.
"""

from __future__ import annotations

import timeit

import numpy as np

from psychometrics.rasch import equated_conversion, estimate_theta
from psychometrics.scale import conversion_table

N_ITEMS = 97


def run(repeat: int = 5, number: int = 20) -> dict[str, float]:
    """Best-of-``repeat`` milliseconds per call for each operation."""
    rng = np.random.default_rng(2024)
    base = rng.normal(0.0, 1.0, N_ITEMS)
    form = base + rng.normal(0.1, 0.3, N_ITEMS)
    responses = (rng.random(N_ITEMS) < 0.65).astype(float)
    cut = 0.62 * N_ITEMS

    cases = {
        "conversion_table": lambda: conversion_table(N_ITEMS, cut),
        "equated_conversion": lambda: equated_conversion(form, base, cut),
        "estimate_theta_mle": lambda: estimate_theta(responses, base, method="mle"),
        "estimate_theta_wle": lambda: estimate_theta(responses, base, method="wle"),
        "estimate_theta_eap": lambda: estimate_theta(responses, base, method="eap"),
    }
    return {
        name: min(timeit.repeat(fn, repeat=repeat, number=number)) / number * 1e3
        for name, fn in cases.items()
    }


def main() -> None:
    """Print each figure beside the baseline measured in the same run: building a plain
    Angoff conversion table, the cheapest thing a form's publication does."""
    timings = run()
    baseline = timings["conversion_table"]
    print(f"scoring core at {N_ITEMS} scored items (baseline: conversion_table)")
    for name, ms in timings.items():
        print(f"  {name:22s} {ms:8.3f} ms   {ms / baseline:7.1f}x baseline")


if __name__ == "__main__":
    main()
