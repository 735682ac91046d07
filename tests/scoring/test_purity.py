"""The scoring core stays free of Django, so it can be used and checked on its own."""

import subprocess
import sys

CORE = [
    "scoring.items",
    "scoring.scale",
    "scoring.rasch",
    "scoring.calibration",
    "scoring.analysis",
]


def test_scoring_core_imports_no_django():
    code = (
        "import sys\n"
        f"for name in {CORE!r}: __import__(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
