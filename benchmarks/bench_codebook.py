"""Code-book search over the full ICD-10-CM (FY2026, ~98,500 rows).

    python -m benchmarks.bench_codebook            (under a minute after the first load)

Loads the ICD-10-CM that simple-icd-10-cm ships into its own database (once; a re-run
finds it loaded), then times `code_search` by code prefix and by words, each query
repeated, and prints the median and 95th percentile in milliseconds, and their ratio to a
baseline measured in the same run: fetching one code by primary key through the ORM.
Target: every search's median well under 100 ms (p95 is shown; on a shared machine
it mostly measures the neighbours).

Environment: BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/helper_codebook_bench)
for PostgreSQL; without it, an SQLite file (BENCH_SQLITE_PATH, default
/tmp/ccs_bench_codebook.sqlite3). BENCH_REPEAT (default 30).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

TARGET_SECONDS = 0.1
PREFIX_QUERIES = ["A41", "A41.9", "S72.001", "E11.6", "I5", "T84.5"]
WORD_QUERIES = [
    "sepsis",
    "pneumonia",
    "acute kidney failure",
    "heart failure diastolic chronic",
    "fracture neck femur right",
    "diabetes hyperglycemia",
    "pneum",
]


def setup_django() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = os.environ.get(
            "BENCH_SQLITE_PATH", "/tmp/ccs_bench_codebook.sqlite3"
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccs_sim.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault(
        "SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    )
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    import django

    django.setup()


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm: statement caches, the code-set lookup
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> int:
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from codebook.loaders import icd10cm
    from codebook.models import Code
    from codebook.selectors import code_search
    from codebook.services import codeset_load

    repeat = int(os.environ.get("BENCH_REPEAT", "30"))
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    call_command("migrate", verbosity=0)
    tabular, _list, fingerprint = icd10cm.bundled_files()
    started = time.perf_counter()
    result = codeset_load(
        system="cm",
        year=2026,
        source=f"simple-icd-10-cm (CMS {tabular.name})",
        fingerprint=fingerprint,
        build=icd10cm.bundled_records,
    )
    print(f"load: {result} in {time.perf_counter() - started:.1f} s")

    some = Code.objects.filter(code_set__system="cm", code_set__year=2026, code="A419").first()
    base_median, base_p95 = timed(lambda: list(Code.objects.filter(pk=some.pk)), repeat)
    print(
        f"baseline (one Code by primary key): median {base_median * 1000:.2f} ms, "
        f"p95 {base_p95 * 1000:.2f} ms"
    )
    print(f"{'query':38} {'kind':6} {'hits':>4} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
    worst = 0.0
    for kind, queries in (("prefix", PREFIX_QUERIES), ("words", WORD_QUERIES)):
        for query in queries:
            hits = len(code_search(query=query, year=2026))
            median, p95 = timed(lambda q=query: code_search(query=q, year=2026), repeat)
            worst = max(worst, median)
            print(
                f"{query!r:38} {kind:6} {hits:>4} {median * 1000:>10.2f} {p95 * 1000:>8.2f} "
                f"{median / base_median:>11.1f}"
            )
    verdict = "PASS" if worst < TARGET_SECONDS else "FAIL"
    print(
        f"{verdict}: slowest search median {worst * 1000:.1f} ms "
        f"(target < {TARGET_SECONDS * 1000:.0f} ms)"
    )
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
