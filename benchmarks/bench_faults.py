"""Fault run: candidates save and submit while Redis restarts, the worker is killed and the
database drops its connections; nothing acknowledged may be lost and every finalised
attempt must be scored within 2 minutes of the last fault.

    python -m benchmarks.bench_faults            (about two minutes)

Everything runs on 127.0.0.1 and is the run's own: a throwaway PostgreSQL database, a
redis-server on a free port (append-only file on, as docker-compose runs it), gunicorn, a
Celery worker and beat (sweeps every 5 s). Phases:
1. calm (BENCH_FAULT_CALM seconds): candidates save answers; the baseline latency;
2. faults: Redis stopped for 8 s (half the candidates submit meanwhile), the worker killed
   (SIGKILL) for 10 s, every database backend terminated; candidates keep saving, retrying
   a refused save as the exam page does, then the rest submit;
3. recovery: how many finalised attempts are still unscored 2 minutes after the last fault.

Prints saves acknowledged, lost (must be 0), failed tries and recovered ones, latency p50/p99
in each phase with the ratio faults/calm, and attempts finalised but unscored (must be 0).
Environment: BENCH_FAULT_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
ccs_bench_faults), BENCH_FAULT_PORT (default 8767), BENCH_FAULT_CANDIDATES (default 30),
BENCH_FAULT_CALM (default 8).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from benchmarks import bench_autosave as http

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_FAULT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ccs_bench_faults"
)
PORT = int(os.environ.get("BENCH_FAULT_PORT", "8767"))
CANDIDATES = int(os.environ.get("BENCH_FAULT_CANDIDATES", "30"))
CALM = float(os.environ.get("BENCH_FAULT_CALM", "8"))
RECOVERY = 120.0
COUNTS = {1: 12, 2: 3, 3: 2, 4: 2, 5: 1}


def setup(redis_url: str) -> dict:
    http.DATABASE_URL = DATABASE_URL
    http.ensure_database()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "ccs_sim.settings",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": redis_url,
            "DEBUG": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.core.management import call_command
    from django.db import connections
    from django.middleware.csrf import _get_new_csrf_string

    from common.accounts import ACCOUNT_BACKEND
    from exams import services
    from tests.factories import bank_items, blueprint_with, judges, operational_versions, rate

    call_command("migrate", verbosity=0)
    for number, count in COUNTS.items():
        bank_items(number, count)
    blueprint = blueprint_with(COUNTS, pretest=0, minutes=240, name="Faults")
    form = services.form_assemble(blueprint=blueprint, seed=1, name="Faults form", by=None)
    rate(operational_versions(form), rating=0.6, judges_=judges(1, prefix="judge-faults"))
    form = services.form_publish(form=form, by=None)
    services.form_set_availability(form=form, available_to_all=True)
    user_model = get_user_model()
    user_model.objects.bulk_create(
        user_model(username=f"fault-{i:04d}", password=make_password(None))
        for i in range(CANDIDATES)
    )
    users = list(user_model.objects.filter(username__startswith="fault-").order_by("username"))
    Group.objects.get(name="Candidate").user_set.add(*users)
    candidates = []
    for user in users:
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = ACCOUNT_BACKEND  # as signing in does
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store.create()
        attempt = services.attempt_start(form=form, candidate=user)
        candidates.append(
            {
                "session": store.session_key,
                "csrf": _get_new_csrf_string(),
                "attempt": attempt.pk,
                "options": [len(row[2]) for row in attempt.layout],
                "choose": [row[1] for row in attempt.layout],
            }
        )
    connections.close_all()
    return {"candidates": candidates}


class Tally:
    def __init__(self) -> None:
        self.failed_tries = 0
        self.recovered = 0
        self.gave_up = 0
        self.submit_failures = 0


async def save_until_acknowledged(cand, rng, sample, acks, tally: Tally) -> None:
    """One change, sent like the exam page sends it: retried until the server takes it."""
    position, choices = http.pick(cand, rng)
    path = f"/exams/attempts/{cand['attempt']}/items/{position}/save/"
    body = urllib.parse.urlencode([("choice", c) for c in choices])
    failed = 0
    for _ in range(60):
        t = time.perf_counter()
        try:
            status, headers, _ = await http.request(path, cand, body, timeout=10)
        except (TimeoutError, OSError) as exc:
            sample.error(type(exc).__name__)
            status, headers = 0, {}
        sample.latencies.append(time.perf_counter() - t)
        if status == 200 and "x-exam-saved" in headers:
            acks.record(cand["attempt"], position, choices)
            tally.failed_tries += failed
            tally.recovered += bool(failed)
            return
        if status == 409:  # the attempt closed: a refused change, told to the candidate
            return
        if status:
            sample.error(f"HTTP {status}")
        failed += 1
        await asyncio.sleep(0.5)
    tally.failed_tries += failed
    tally.gave_up += 1


async def candidate_loop(cand, seed, stop_at, sample, acks, tally) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop_at and not cand.get("submitted"):
        await save_until_acknowledged(cand, rng, sample, acks, tally)
        await asyncio.sleep(rng.uniform(0.05, 0.3))


async def submit(cand, tally: Tally) -> None:
    path = f"/exams/attempts/{cand['attempt']}/submit/"
    for _ in range(40):
        try:
            status, _, _ = await http.request(path, cand, "", timeout=10)
        except (TimeoutError, OSError):
            status = 0
        if status in (200, 204, 302, 303):
            cand["submitted"] = True
            return
        tally.submit_failures += 1
        await asyncio.sleep(0.5)


def terminate_backends() -> int:
    import psycopg

    name = urllib.parse.urlsplit(DATABASE_URL).path.lstrip("/")
    admin = urllib.parse.urlsplit(DATABASE_URL)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            [name],
        ).fetchone()
    return int(row[0])


async def fault_phase(cands, redis, worker, sample, acks, tally) -> tuple[float, dict]:
    events = {}
    stop_at = time.monotonic() + 45
    loops = [
        asyncio.create_task(candidate_loop(c, 1000 + i, stop_at, sample, acks, tally))
        for i, c in enumerate(cands)
    ]
    half = len(cands) // 2
    await asyncio.sleep(3)
    redis.stop()
    events["redis_down"] = time.monotonic()
    await asyncio.gather(*(submit(c, tally) for c in cands[:half]))  # submitted meanwhile
    await asyncio.sleep(max(0.0, 8 - (time.monotonic() - events["redis_down"])))
    redis.start()
    await asyncio.sleep(5)
    worker.kill()
    await asyncio.sleep(10)
    worker.start()
    await asyncio.sleep(5)
    events["backends_terminated"] = await asyncio.to_thread(terminate_backends)
    last_fault = time.monotonic()
    await asyncio.sleep(3)
    await asyncio.gather(*(submit(c, tally) for c in cands[half:]))
    for task in loops:
        task.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    return last_fault, events


def main() -> int:
    from tests.faults import CeleryProcess, RedisServer, WebServer, child_env, wait_until

    workdir = Path(tempfile.mkdtemp(prefix="ccs-bench-faults-"))
    redis = RedisServer(workdir).start()
    fixture = setup(redis.url)
    cands = fixture["candidates"]
    env = child_env(
        database_url=DATABASE_URL,
        redis_url=redis.url,
        CCS_SCORE_SWEEP_SECONDS="5",
        CCS_EXPIRE_SWEEP_SECONDS="5",
        CCS_HEARTBEAT_SECONDS="5",
        CCS_INPROCESS_BEAT="0",
        DEBUG="1",
        LOG_LEVEL="WARNING",
    )
    web = WebServer(env, workdir, workers=2)
    web.port = PORT
    http.PORT = PORT
    worker = CeleryProcess("worker", env, workdir)
    beat = CeleryProcess("beat", env, workdir)
    try:
        web.start()
        worker.start()
        beat.start()
        calm, faults, acks, tally = http.Sample(), http.Sample(), http.Acks(), Tally()

        async def calm_phase():
            calm.started = time.perf_counter()
            stop_at = time.monotonic() + CALM
            await asyncio.gather(
                *(candidate_loop(c, i, stop_at, calm, acks, tally) for i, c in enumerate(cands))
            )

        asyncio.run(calm_phase())
        calm.finished = time.perf_counter()
        calm_failed = tally.failed_tries
        faults.started = time.perf_counter()
        last_fault, events = asyncio.run(fault_phase(cands, redis, worker, faults, acks, tally))
        faults.finished = time.perf_counter()

        from exams.models import Attempt

        def unscored() -> int:
            return Attempt.objects.awaiting_score().count()

        wait_until(lambda: unscored() == 0, seconds=RECOVERY, step=1.0)
        left = unscored()
        scored_after = time.monotonic() - last_fault
        lost = http.lost_answers(acks)
        finalised = Attempt.objects.exclude(state="in_progress").count()
    finally:
        beat.stop()
        worker.stop()
        web.stop()
        redis.stop()

    c, f = calm.summary(), faults.summary()
    print(f"fault run: {len(cands)} candidates, Redis down 8 s, worker killed for 10 s, "
          f"{events.get('backends_terminated', 0)} database backends terminated")  # fmt: skip
    print(http.line("calm (baseline)", c))
    print(http.line("under faults", f))
    print(f"  ratio p50 faults/calm   {f['p50_ms'] / c['p50_ms']:.2f}")
    print(f"  ratio p99 faults/calm   {f['p99_ms'] / c['p99_ms']:.2f}")
    print(f"  saves acknowledged      {acks.count}")
    print(f"  lost (must be 0)        {len(lost)}")
    print(f"  failed tries            {tally.failed_tries} ({calm_failed} before the faults)")
    print(f"  recovered saves         {tally.recovered}  (gave up: {tally.gave_up})")
    print(f"  submit retries          {tally.submit_failures}")
    print(f"  attempts finalised      {finalised} of {len(cands)}")
    print(f"  unscored after 2 min    {left} (must be 0; waited {scored_after:.0f} s)")
    return 0 if not lost and left == 0 and finalised == len(cands) else 1


if __name__ == "__main__":
    sys.exit(main())
