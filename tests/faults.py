"""Real parts a fault test can stop and start: its own redis-server, Celery worker and beat.

Never the machine's shared services: each test starts its copies on a free port, points
them at the test database, and stops them at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, seconds: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class RedisServer:
    """A redis-server of the test's own, keeping its data in `directory` (append-only file
    on, as docker-compose runs the broker) so a restart keeps queued messages."""

    def __init__(self, directory: Path, *, appendonly: bool = True) -> None:
        self.port = free_port()
        self.directory = directory
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self.answers, seconds=10):
            raise RuntimeError(f"redis-server on port {self.port} did not start")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class CeleryProcess:
    """`celery worker` or `celery beat` of the project, in a child process."""

    def __init__(self, kind: str, env: dict[str, str], workdir: Path) -> None:
        self.kind = kind
        self.env = env
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.log = workdir / f"{kind}.log"

    def start(self) -> CeleryProcess:
        args = [sys.executable, "-m", "celery", "-A", "ccs_sim", self.kind, "--loglevel", "INFO"]
        if self.kind == "worker":
            args += ["--pool", "solo", "--without-gossip", "--without-mingle",
                     "-n", f"faults-{os.getpid()}-{time.monotonic_ns()}@%h"]  # fmt: skip
        else:
            args += ["--schedule", str(self.workdir / "beat-schedule")]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def kill(self) -> None:
        """SIGKILL: a crash, not a shutdown (no chance to finish or acknowledge)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def child_env(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "ccs_sim.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    env |= extra
    return env


def point_celery_at(app, url: str) -> None:
    """Make this process publish to `url` (the test's own Redis) from now on."""
    app.conf.broker_url = url
    app.conf.result_backend = url
    app.conf.task_always_eager = False
    # Connections and producers are pooled per app: drop them so the next publish uses url.
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


class WebServer:
    """gunicorn serving the project (sync workers, persistent database connections), as
    deployed, on a free port of its own."""

    def __init__(self, env: dict[str, str], workdir: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.log = workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "ccs_sim.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--timeout",
                    "30",
                ],  # fmt: skip
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        def answers() -> bool:
            # A page, not just the socket: the worker has booted and loaded the project.
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=5) as reply:
                    return reply.status == 200
            except OSError:
                return False

        if not wait_until(answers, seconds=60, step=0.5):
            raise RuntimeError(f"gunicorn did not start:\n{self.output()}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
