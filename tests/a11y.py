"""axe-core in the browser tests: inject the pinned copy from node_modules and run it.

axe-core is installed by `make test` (`npm ci`, from package-lock.json); it is never served
to users nor loaded from a CDN. Without it the check skips locally and fails in CI, like a
missing Chromium.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import need

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page, *, include: str | None = None) -> list[dict]:
    """Every axe-core violation on the page (or inside the `include` selector)."""
    need(None if AXE.exists() else f"{AXE} is missing (run `make axe`, i.e. npm ci)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # does not govern: an injected <script> tag would be an inline script the policy
        # (rightly) blocks, and the browser fixture fails a test on any violation.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async (include) => {
            const context = include ? { include: [include] } : document;
            return await window.axe.run(context, { resultTypes: ["violations"] });
        }""",
        include,
    )
    return result["violations"]


def assert_accessible(page, *, include: str | None = None) -> None:
    violations = axe_violations(page, include=include)
    summary = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in violations
    ]
    assert violations == [], json.dumps(summary, indent=1)
