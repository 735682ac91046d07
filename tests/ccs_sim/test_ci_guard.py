"""The CI guard: with CCS_REQUIRE_SERVICES=1 a run off PostgreSQL or without Redis stops."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(tmp_path, **env):
    test_file = tmp_path / "test_trivial.py"
    test_file.write_text("def test_nothing():\n    assert True\n")
    dropped = {"DATABASE_URL", "REDIS_URL", "CCS_REQUIRE_SERVICES"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(ROOT),
            "-c",
            str(ROOT / "pyproject.toml"),
            "--confcutdir",
            str(ROOT),
            str(ROOT / "tests" / "conftest.py"),
            str(test_file),
        ],  # fmt: skip
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_required_services_refuse_sqlite(tmp_path):
    result = run_pytest(tmp_path, CCS_REQUIRE_SERVICES="1")
    assert result.returncode != 0
    assert "not running on PostgreSQL" in result.stdout + result.stderr


def test_required_services_refuse_unreachable_redis(tmp_path):
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        # Only meaningful on PostgreSQL; the SQLite case is the test above.
        from tests.conftest import need

        need("DATABASE_URL is not set (PostgreSQL needed to reach the Redis check)")
    result = run_pytest(
        tmp_path,
        CCS_REQUIRE_SERVICES="1",
        DATABASE_URL=database_url,
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode != 0
    assert "Redis at redis://127.0.0.1:1/0 does not answer" in result.stdout + result.stderr


def test_without_the_flag_sqlite_runs(tmp_path):
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
