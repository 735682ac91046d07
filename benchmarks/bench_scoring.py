"""Scoring at CCS size: one 107-item attempt end to end, and a conversion table by equating.

Run from the project root: ``python -m benchmarks.bench_scoring``. Uses the configured
database (SQLite by default, PostgreSQL with DATABASE_URL) through a throwaway test
database that is created and destroyed here, so no real data is touched.

Each figure is printed as an absolute time and as a ratio to a baseline measured in the
same run on the same machine, so that runs on different machines can be compared:

- ``attempt_score``: the service on a fresh, finished 107-item attempt (97 operational
  items, 10 pretest) of a calibrated form: item scores, raw, scaled lookup, domain bands,
  WLE ability and its precision, and the writes. Baseline: a single-row ORM read of the
  attempt.
- ``equated_conversion``: a 97-item conversion table by IRT true-score equating (pure).
  Baseline: ``conversion_table`` for the same length and cut (piecewise linear).
"""

from __future__ import annotations

import os
import statistics
import time
import timeit

import numpy as np

# The default CCS blueprint (docs/architecture.md): 97 scored items by domain, plus 10 pretest.
COUNTS = {1: 55, 2: 14, 3: 10, 4: 10, 5: 8}
PRETEST = 10
N_ATTEMPTS = 25


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccs_sim.settings")
    import django

    django.setup()
    from django.conf import settings

    # DEBUG keeps every query in memory and slows the ORM a little; production runs without.
    settings.DEBUG = False


def _ms(seconds: float) -> float:
    return seconds * 1e3


def bench_attempt_score(n_attempts: int = N_ATTEMPTS) -> dict[str, float]:
    from django.contrib.auth import get_user_model

    from exams.models import Attempt
    from scoring import services
    from tests.factories import (
        calibrate,
        draft_form,
        finished_attempt,
        judges,
        operational_versions,
        publish,
        rate,
    )

    rng = np.random.default_rng(2024)
    form = draft_form(COUNTS, pretest=PRETEST, name="Bench form")
    versions = operational_versions(form)
    rate(versions, rating=0.62, judges_=judges(3))
    calibrate(versions, rng.normal(0.0, 1.0, len(versions)))
    form = publish(form)
    candidate = get_user_model().objects.create_user(username="bench-candidate")
    attempts = [
        finished_attempt(form, candidate, correct=lambda fi: bool(rng.random() < 0.65))
        for _ in range(n_attempts)
    ]

    # Warm-up: import paths, prepared statements, the form's cached rows.
    Attempt.objects.get(pk=attempts[0].pk)

    baseline = []
    for _ in range(200):
        start = time.perf_counter()
        Attempt.objects.get(pk=attempts[0].pk)
        baseline.append(time.perf_counter() - start)

    timings = []
    for attempt in attempts:
        start = time.perf_counter()
        result = services.attempt_score(attempt_id=attempt.pk)
        timings.append(time.perf_counter() - start)
        assert result.max_raw == sum(COUNTS.values()) and result.theta is not None
    start = time.perf_counter()
    services.attempt_score(attempt_id=attempts[0].pk)  # already scored: one read
    again = time.perf_counter() - start

    base = statistics.mean(baseline)
    return {
        "attempt_score_mean_ms": _ms(statistics.mean(timings)),
        "attempt_score_p50_ms": _ms(statistics.median(timings)),
        "attempt_score_max_ms": _ms(max(timings)),
        "attempt_score_again_ms": _ms(again),
        "orm_read_mean_ms": _ms(base),
        "ratio": statistics.mean(timings) / base,
    }


def bench_equating(repeat: int = 5, number: int = 50) -> dict[str, float]:
    from psychometrics.rasch import equated_conversion
    from psychometrics.scale import conversion_table

    n = sum(COUNTS.values())
    rng = np.random.default_rng(7)
    base = rng.normal(0.0, 1.0, n)
    form = base + rng.normal(0.1, 0.3, n)
    cut = 0.62 * n

    def best(fn) -> float:
        return min(timeit.repeat(fn, repeat=repeat, number=number)) / number

    equating = best(lambda: equated_conversion(form, base, cut))
    linear = best(lambda: conversion_table(n, cut))
    return {
        "equated_conversion_ms": _ms(equating),
        "conversion_table_ms": _ms(linear),
        "ratio": equating / linear,
    }


def run(n_attempts: int = N_ATTEMPTS) -> dict[str, dict[str, float]]:
    """All figures, in milliseconds (and ratios), measured on a throwaway test database."""
    _django()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        scoring = bench_attempt_score(n_attempts)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return {"attempt_score": scoring, "equating": bench_equating(), "vendor": connection.vendor}


def main() -> None:
    figures = run()
    s, e = figures["attempt_score"], figures["equating"]
    print(f"Scoring benchmarks ({figures['vendor']}, {N_ATTEMPTS} attempts of 107 items)")
    print(
        f"  attempt_score        mean {s['attempt_score_mean_ms']:8.2f} ms   "
        f"p50 {s['attempt_score_p50_ms']:8.2f} ms   max {s['attempt_score_max_ms']:8.2f} ms"
    )
    print(
        f"    baseline: single-row ORM read {s['orm_read_mean_ms']:8.3f} ms   "
        f"ratio {s['ratio']:6.1f}x"
    )
    print(f"    already scored (idempotent re-call) {s['attempt_score_again_ms']:8.3f} ms")
    print(f"  equated_conversion   {e['equated_conversion_ms']:8.3f} ms  (97 items, pure)")
    print(
        f"    baseline: conversion_table {e['conversion_table_ms']:8.3f} ms   "
        f"ratio {e['ratio']:6.1f}x"
    )


if __name__ == "__main__":
    main()
