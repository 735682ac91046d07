"""The psychometric core stays free of Django, so it can be used and checked on its own."""

import subprocess
import sys
from pathlib import Path

import psychometrics

# Every module of the package, so a new one is covered without editing this list.
CORE = ["psychometrics"] + [
    f"psychometrics.{path.stem}"
    for path in sorted(Path(psychometrics.__file__).parent.glob("*.py"))
    if path.stem != "__init__"
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
