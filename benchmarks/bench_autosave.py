"""Autosave load test: gunicorn + PostgreSQL + Redis sessions, all on 127.0.0.1.

    python -m benchmarks.bench_autosave            (about two minutes)

What it does, in one run:
1. sets up its own database (BENCH_DATABASE_URL) with a published 107-item form, 2,000
   candidates with attempts and signed-in sessions (cached_db sessions in Redis), and 500
   more candidates who have not started yet;
2. starts gunicorn (sync workers, persistent connections, DEBUG off) with the baseline
   view routed (benchmarks.settings);
3. saturation: BENCH_CANDIDATES (default 200) simulated candidates save answers as fast as
   the server answers, first against the baseline view (session + auth middleware, read
   the attempt, raw upsert, constant reply), then against the real save; prints
   throughput, p50/p99 and the ratio (target: real >= 0.8 x baseline);
4. steady load: 100 saves/s offered (2,000 candidates each saving every 20 s); prints
   p50/p99 (target: p99 < 50 ms);
5. burst: 500 candidates press "Start" at the same moment; prints errors and latency;
6. checks that every acknowledged save is in the database (target: zero lost).

Only 127.0.0.1 is ever contacted. Environment: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/ccs_bench_autosave), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/5), BENCH_SECONDS (per saturation phase, default 15),
BENCH_WORKERS (gunicorn workers, default 2 x cores + 1), BENCH_PORT (default 8765).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ccs_bench_autosave"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
CANDIDATES = int(os.environ.get("BENCH_CANDIDATES", "200"))
STEADY_CANDIDATES = 2000
STEADY_RATE = 100.0
STEADY_SECONDS = float(os.environ.get("BENCH_STEADY_SECONDS", "20"))
BURST = 500
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))

for url in (DATABASE_URL, REDIS_URL):
    if urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
        sys.exit(f"refusing to benchmark against a non-local service: {url}")

SERVER_ENV = {
    # The product's settings plus the baseline view's route (benchmarks/urls.py).
    "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": HOST,
    "SECURE_SSL_REDIRECT": "0",
    "LOG_LEVEL": "WARNING",
}


# --- set-up (in this process, through Django) -------------------------------------------
def ensure_database() -> None:
    import psycopg

    parts = urllib.parse.urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.update(SERVER_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build_fixture() -> dict:
    """Bank, published form, candidates with sessions; returns what the clients need."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.core.management import call_command
    from django.middleware.csrf import _get_new_csrf_string

    from common.accounts import ACCOUNT_BACKEND
    from exams import services
    from tests.factories import bank_items, blueprint_with

    call_command("migrate", verbosity=0)
    for number, count in {1: 55, 2: 14, 3: 10, 4: 10, 5: 8}.items():
        bank_items(number, count)
    from questionbank.models import ItemStatus

    bank_items(1, 10, status=ItemStatus.PRETEST)
    blueprint = blueprint_with(
        {1: 55, 2: 14, 3: 10, 4: 10, 5: 8}, pretest=10, minutes=240, name="Bench"
    )
    form = services.form_assemble(blueprint=blueprint, seed=1, name="Bench form", by=None)
    from tests.factories import judges, operational_versions, rate

    rate(operational_versions(form), rating=0.6, judges_=judges(1, prefix="angoff-judge"))
    form = services.form_publish(form=form, by=None)
    services.form_set_availability(form=form, available_to_all=True)

    user_model = get_user_model()
    unusable = make_password(None)
    total = STEADY_CANDIDATES + BURST
    user_model.objects.bulk_create(
        user_model(username=f"bench-{i:05d}", password=unusable) for i in range(total)
    )
    users = list(user_model.objects.filter(username__startswith="bench-").order_by("username"))
    Group.objects.get(name="Candidate").user_set.add(*users)

    def session_for(user) -> dict:
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = ACCOUNT_BACKEND  # as signing in does
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store.create()
        return {"session": store.session_key, "csrf": _get_new_csrf_string()}

    candidates = []
    for user in users[:STEADY_CANDIDATES]:
        attempt = services.attempt_start(form=form, candidate=user)
        candidates.append(
            {
                **session_for(user),
                "attempt": attempt.pk,
                "options": [len(row[2]) for row in attempt.layout],
                "choose": [row[1] for row in attempt.layout],
            }
        )
    starters = [session_for(user) for user in users[STEADY_CANDIDATES:]]
    from django.db import connections

    connections.close_all()
    return {"form": form.pk, "candidates": candidates, "starters": starters}


# --- a minimal HTTP/1.1 client (gunicorn sync workers close after each reply) ----------------
@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        span = max(self.finished - self.started, 1e-9)
        pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else None
        return {
            "requests": len(lat),
            "throughput": len(lat) / span,
            "p50_ms": pct(0.50) if lat else float("nan"),
            "p99_ms": pct(0.99) if lat else float("nan"),
            "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "errors": dict(self.errors),
        }


async def request(path: str, cand: dict, body: str = "", timeout: float = 30.0):
    """POST; returns (status, headers dict, body bytes)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), timeout)
    data = body.encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
        f"Cookie: sessionid={cand['session']}; csrftoken={cand['csrf']}\r\n"
        f"X-CSRFToken: {cand['csrf']}\r\nHX-Request: true\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + data)
    try:
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    header_blob, _, content = raw.partition(b"\r\n\r\n")
    lines = header_blob.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, content


class Acks:
    """The last acknowledged selection of every (attempt, position)."""

    def __init__(self):
        self.last: dict[tuple[int, int], list[int]] = {}
        self.count = 0

    def record(self, attempt: int, position: int, choices: list[int]):
        self.last[(attempt, position)] = choices
        self.count += 1


def pick(cand: dict, rng: random.Random) -> tuple[int, list[int]]:
    position = rng.randrange(len(cand["options"])) + 1
    count = cand["choose"][position - 1]
    choices = sorted(rng.sample(range(cand["options"][position - 1]), count))
    return position, choices


async def save_once(cand, rng, sample: Sample, acks: Acks | None, baseline: bool):
    position, choices = pick(cand, rng)
    if baseline:
        path = f"/exams/bench/baseline/{cand['attempt']}/{position}/"
    else:
        path = f"/exams/attempts/{cand['attempt']}/items/{position}/save/"
    body = urllib.parse.urlencode([("choice", c) for c in choices])
    t = time.perf_counter()
    try:
        status, headers, _ = await request(path, cand, body)
    except (TimeoutError, OSError) as exc:
        sample.error(type(exc).__name__)
        return False
    sample.latencies.append(time.perf_counter() - t)
    if status != 200 or (not baseline and "x-exam-saved" not in headers):
        sample.error(f"HTTP {status}")
        return False
    if acks is not None:
        acks.record(cand["attempt"], position, choices)
    return True


async def saturate(cands, seconds: float, *, baseline: bool, acks: Acks | None) -> Sample:
    sample = Sample()
    stop = time.perf_counter() + seconds

    async def candidate(cand, seed):
        rng = random.Random(seed)
        while time.perf_counter() < stop:
            await save_once(cand, rng, sample, acks, baseline)

    sample.started = time.perf_counter()
    await asyncio.gather(*(candidate(c, i) for i, c in enumerate(cands)))
    sample.finished = time.perf_counter()
    return sample


async def steady(cands, rate: float, seconds: float, acks: Acks) -> Sample:
    """Open loop: requests leave on schedule whether or not earlier ones have returned."""
    sample = Sample()
    rng = random.Random(7)
    busy: set[int] = set()  # a candidate saves one answer at a time, as a page does
    tasks = []

    async def one(cand):
        busy.add(cand["attempt"])
        try:
            await save_once(cand, rng, sample, acks, baseline=False)
        finally:
            busy.discard(cand["attempt"])

    sample.started = time.perf_counter()
    total = int(rate * seconds)
    order = list(cands)
    rng.shuffle(order)
    for i in range(total):
        due = sample.started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        cand = order[i % len(order)]
        if cand["attempt"] in busy:
            sample.error("candidate still waiting")
            continue
        tasks.append(asyncio.create_task(one(cand)))
    await asyncio.gather(*tasks)
    sample.finished = time.perf_counter()
    return sample


async def burst(starters, form_id: int) -> Sample:
    sample = Sample()

    async def start(cand):
        t = time.perf_counter()
        try:
            status, headers, _ = await request(f"/exams/forms/{form_id}/start/", cand)
        except (TimeoutError, OSError) as exc:
            sample.error(type(exc).__name__)
            return
        sample.latencies.append(time.perf_counter() - t)
        if status != 302 or "/items/" not in headers.get("location", ""):
            sample.error(f"HTTP {status}")

    sample.started = time.perf_counter()
    await asyncio.gather(*(start(c) for c in starters))
    sample.finished = time.perf_counter()
    return sample


# --- the server ---------------------------------------------------------------------------
def start_gunicorn() -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "ccs_sim.wsgi:application",
            "--bind", f"{HOST}:{PORT}", "--workers", str(WORKERS), "--worker-class", "sync",
            "--backlog", "4096", "--log-level", "warning", "--timeout", "60",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 30
    import urllib.request

    while time.time() < deadline:
        try:
            # The sign-in page, not /healthz: without a Celery worker and beat (this
            # benchmark runs none) /healthz rightly answers 503.
            with urllib.request.urlopen(f"http://{HOST}:{PORT}/login/", timeout=1) as reply:
                if reply.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    sys.exit("gunicorn did not answer /login/ within 30 s")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


# --- checking -------------------------------------------------------------------------------
def lost_answers(acks: Acks) -> list:
    from exams.models import Attempt, Response

    layouts = dict(
        Attempt.objects.filter(pk__in={a for a, _ in acks.last}).values_list("pk", "layout")
    )
    stored = {
        (r.attempt_id, r.form_item_id): r.selection
        for r in Response.objects.filter(attempt_id__in=layouts)
    }
    lost = []
    for (attempt, position), choices in acks.last.items():
        form_item_id, _, option_ids = layouts[attempt][position - 1]
        expected = [option_ids[c] for c in choices]
        if stored.get((attempt, form_item_id)) != expected:
            lost.append((attempt, position, expected, stored.get((attempt, form_item_id))))
    return lost


def line(name: str, s: dict) -> str:
    return (
        f"  {name:<22} {s['requests']:>6} req  {s['throughput']:>7.1f} req/s  "
        f"p50 {s['p50_ms']:>6.1f} ms  p99 {s['p99_ms']:>7.1f} ms  max {s['max_ms']:>7.1f} ms"
        + (f"  errors {s['errors']}" if s["errors"] else "")
    )


def main() -> int:
    t0 = time.time()
    print(f"setting up {DATABASE_URL} (Redis {REDIS_URL}) ...", flush=True)
    ensure_database()
    setup_django()
    fixture = build_fixture()
    print(f"  done in {time.time() - t0:.0f} s; starting gunicorn ({WORKERS} sync workers)")
    proc = start_gunicorn()
    try:
        cands = fixture["candidates"]
        sat = cands[:CANDIDATES]
        # The baseline writes constant answers; it gets its own attempts so that the check
        # of acknowledged saves below reads only the real save path's writes.
        base_cands = cands[CANDIDATES : 2 * CANDIDATES]
        acks = Acks()
        asyncio.run(saturate(sat[:20], 2, baseline=False, acks=acks))  # warm every worker
        base = asyncio.run(saturate(base_cands, SECONDS, baseline=True, acks=None)).summary()
        real = asyncio.run(saturate(sat, SECONDS, baseline=False, acks=acks)).summary()
        calm = asyncio.run(
            steady(cands[2 * CANDIDATES :], STEADY_RATE, STEADY_SECONDS, acks)
        ).summary()
        start_burst = asyncio.run(burst(fixture["starters"], fixture["form"])).summary()
    finally:
        stop_gunicorn(proc)

    from exams.models import Attempt

    started = Attempt.objects.filter(candidate__username__startswith="bench-").count()
    lost = lost_answers(acks)
    ratio = real["throughput"] / base["throughput"] if base["throughput"] else float("nan")
    print()
    print(f"autosave benchmark: {CANDIDATES} candidates, gunicorn {WORKERS} sync workers, "
          f"PostgreSQL + Redis sessions on {HOST}")  # fmt: skip
    print("saturation")
    print(line("baseline (raw SQL)", base))
    print(line("real save", real))
    print(f"  ratio real/baseline   {ratio:.2f}  (target >= 0.80)")
    print(f"steady {STEADY_RATE:.0f} saves/s offered for {STEADY_SECONDS:.0f} s")
    print(line("real save", calm))
    print(f"  p99 {calm['p99_ms']:.1f} ms  (target < 50 ms)")
    print(f"burst of {BURST} starts at once")
    print(line("start", start_burst))
    print(f"  attempts in the database: {started} (expected {STEADY_CANDIDATES + BURST})")
    print("answers")
    print(f"  acknowledged saves {acks.count}, distinct items {len(acks.last)}, lost {len(lost)}")
    for item in lost[:10]:
        print("   lost:", item)
    print(f"total {time.time() - t0:.0f} s")
    summary = {
        "baseline": base,
        "real": real,
        "ratio": ratio,
        "steady": calm,
        "burst": start_burst,
        "lost": len(lost),
    }
    Path(os.environ.get("BENCH_OUTPUT", "/tmp/bench_autosave.json")).write_text(
        json.dumps(summary, indent=2)
    )
    ok = not lost and not start_burst["errors"] and started == STEADY_CANDIDATES + BURST
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
