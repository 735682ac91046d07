"""`make bench`: run every benchmarks/bench_*.py module's main(), each in its own process.

Each benchmark prints its figures as absolute numbers and as a ratio against a baseline it
measures in the same run. `python -m benchmarks NAME ...` runs only the named ones
(e.g. `python -m benchmarks equating codebook`).
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if argv:
        wanted = {a.removeprefix("bench_") for a in argv}
        names = [n for n in names if n.removeprefix("bench_") in wanted]
    failures = 0
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent)
        print(f"--- {name}: exit {result.returncode} in {time.perf_counter() - started:.1f} s")
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
