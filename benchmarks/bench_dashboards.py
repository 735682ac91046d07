"""The program managers' dashboards on generated data, on PostgreSQL.

Run from the project root with DATABASE_URL pointing at a PostgreSQL server:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ccs python -m benchmarks.bench_dashboards
    ... --full    # the issue's sizes: 50 cohorts, 20 000 candidates, 100 000 attempts
    ... --keepdb  # keep (and reuse) the benchmark database between runs

Data go into a separate database (the test database of DATABASE_URL, "test_<name>"),
never into DATABASE_URL's own. For the cohort list and the largest cohort's page it
prints the server time (Django test client, signed in, median of --repeat runs) beside
the time of the single SQL aggregate the page rests on (the list: every cohort's figures,
cohort_figures_sql; a cohort page: its figures, readiness, histogram, trend and domain
sums, cohort_page_sql), and their ratio (target: ≤ 3),
and beside the time of all the page's SQL run on its own. It then checks that the
number of queries of a cohort page does not depend on the number of candidates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

SMALL = {"cohorts": 10, "candidates": 4000, "attempts": 20000}
FULL = {"cohorts": 50, "candidates": 20000, "attempts": 100000}
TARGET_RATIO = 3.0


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm: connection, caches, plans
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def _run_sql(sql: str, params) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.fetchall()


def _page_sql(client, url: str) -> list[str]:
    """The SELECT statements a page ran, as executable SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
    ]


def _page_queries(client, url: str) -> int:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def _generate(sizes: dict, stdout) -> None:
    from ccs_sim import demo as demo_data

    started = time.perf_counter()
    demo_data.generate(**sizes, seed=2026, tag="bench", stdout=stdout)
    print(f"generated in {time.perf_counter() - started:.1f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_dashboards", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cohorts", type=int, default=SMALL["cohorts"])
    parser.add_argument("--candidates", type=int, default=SMALL["candidates"])
    parser.add_argument("--attempts", type=int, default=SMALL["attempts"])
    parser.add_argument(
        "--full", action="store_true", help="50 cohorts, 20 000 candidates, 100 000 attempts"
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--keepdb", action="store_true", help="keep the benchmark database and reuse its data"
    )
    args = parser.parse_args(argv)
    sizes = dict(FULL) if args.full else {k: getattr(args, k) for k in SMALL}

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print(
            "bench_dashboards: set DATABASE_URL=postgres://... (the benchmark runs on PostgreSQL)"
        )
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccs_sim.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from cohorts import selectors
    from cohorts.models import Cohort

    setup_test_environment(debug=False)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    try:
        manager = get_user_model().objects.filter(username="gen-bench-manager").first()
        if manager is None:
            print(
                f"generating {sizes['cohorts']} cohorts, {sizes['candidates']} candidates, "
                f"{sizes['attempts']} exam attempts ..."
            )
            _generate(sizes, sys.stdout)
            manager = get_user_model().objects.get(username="gen-bench-manager")
        else:
            print("reusing the data of the kept benchmark database")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        cohorts = list(Cohort.objects.managed_by(manager))
        ids = [c.pk for c in cohorts]
        sizes_by_cohort = {c.pk: c.memberships.count() for c in cohorts}
        largest = max(ids, key=sizes_by_cohort.get)
        smallest = min(ids, key=sizes_by_cohort.get)
        from exams.models import Attempt

        print(
            f"data: {len(ids)} cohorts, {sum(sizes_by_cohort.values())} candidates, "
            f"{Attempt.objects.exams().count()} exam attempts; largest cohort "
            f"{sizes_by_cohort[largest]} candidates, smallest {sizes_by_cohort[smallest]}"
        )

        client = Client()
        client.force_login(manager)
        list_url = reverse("cohorts:dashboard")
        page_url = reverse("cohorts:detail", args=[largest])
        list_sql = selectors.cohort_figures_sql(cohort_ids=ids)
        page_sql = selectors.cohort_page_sql(cohort_id=largest)

        rows = []
        for name, url, (sql, params) in [
            ("cohort list", list_url, list_sql),
            (f"cohort page ({sizes_by_cohort[largest]} candidates)", page_url, page_sql),
        ]:
            page_ms = _median_ms(lambda url=url: client.get(url), args.repeat)
            agg_ms = _median_ms(lambda sql=sql, params=params: _run_sql(sql, params), args.repeat)
            statements = _page_sql(client, url)
            all_sql_ms = _median_ms(
                lambda statements=statements: [_run_sql(s, None) for s in statements], args.repeat
            )
            rows.append(
                (
                    name,
                    page_ms,
                    agg_ms,
                    page_ms / agg_ms,
                    all_sql_ms,
                    page_ms / all_sql_ms,
                    len(statements),
                )
            )

        print()
        print(
            f"{'page':34s} {'page ms':>9s} {'aggregate ms':>13s} {'ratio':>6s} "
            f"{'all SQL ms':>11s} {'ratio':>6s} {'SELECTs':>8s}"
        )
        for name, page_ms, agg_ms, ratio, all_ms, all_ratio, n in rows:
            flag = "" if ratio <= TARGET_RATIO else f"  (above the {TARGET_RATIO:g}x target)"
            print(
                f"{name:34s} {page_ms:9.1f} {agg_ms:13.1f} {ratio:6.2f} "
                f"{all_ms:11.1f} {all_ratio:6.2f} {n:8d}{flag}"
            )
        print(
            "(page: Django test client, signed in, median of warm runs; the all-candidates domain"
        )
        print(" baseline is cached for a few minutes, as in production)")

        q_small = _page_queries(client, reverse("cohorts:detail", args=[smallest]))
        q_large = _page_queries(client, reverse("cohorts:detail", args=[largest]))
        q_list = _page_queries(client, list_url)
        same = q_small == q_large
        print()
        print(
            f"queries per cohort page: {q_small} ({sizes_by_cohort[smallest]} candidates) vs "
            f"{q_large} ({sizes_by_cohort[largest]} candidates): "
            + ("independent of the number of candidates" if same else "DEPENDS ON THE DATA")
        )
        print(f"queries of the cohort list ({len(ids)} cohorts): {q_list}")
        worst = max(r[3] for r in rows)
        return 0 if same and worst <= TARGET_RATIO else 1
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
