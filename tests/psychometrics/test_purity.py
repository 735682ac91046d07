"""psychometrics/ stays a pure package: standard library, numpy and scipy, nothing else.

Read from the source with ast (not by importing), so an import inside a function or behind
a condition is caught as well.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "psychometrics"
ALLOWED_THIRD_PARTY = {"numpy", "scipy"}
PROJECT_APPS = {
    "ccs_sim", "common", "questionbank", "exams", "scoring", "itemanalysis", "cohorts", "codebook",
}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module the file imports; "." for a relative import."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.add("." if node.level else node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


def _is_dynamic_import(call: ast.Call) -> bool:
    """``__import__("x")`` or ``importlib.import_module("x")`` with a literal name."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return (
        name in {"__import__", "import_module"}
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
    )


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_the_expected_modules():
    names = {p.stem for p in MODULES}
    assert {"__init__", "linking", "dif", "precision"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_imports_only_the_standard_library_numpy_and_scipy(path):
    roots = imported_roots(path)
    assert "django" not in roots
    assert not roots & PROJECT_APPS
    assert "statsmodels" not in roots  # a test-only dependency
    outside = roots - ALLOWED_THIRD_PARTY - set(sys.stdlib_module_names) - {".", "psychometrics"}
    assert not outside, f"{path.name} imports {sorted(outside)}"


def test_the_import_scanner_sees_django_imports_in_every_form(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "import os\n"
        "def f():\n"
        "    from django.db import models\n"
        "    import django.conf as conf\n"
        "    import importlib\n"
        "    importlib.import_module('statsmodels.api')\n"
        "    return __import__('scoring.models')\n"
    )
    assert imported_roots(source) == {"os", "django", "importlib", "statsmodels", "scoring"}


def test_importing_every_module_loads_no_django():
    """The same, as Python sees it: importing the whole package leaves Django unloaded."""
    names = ["psychometrics"] + [f"psychometrics.{p.stem}" for p in MODULES if p.stem != "__init__"]
    code = (
        "import sys\n"
        f"for name in {names!r}: __import__(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
