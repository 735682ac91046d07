"""`validate_bank`: every code in the bank must exist in its item's code-set year.

Codes are found (codebook.codes) in the stem, each option, the rationale, the case's
sections and the case's coding of every non-retired latest item version. A keyed option
that asserts a code (it starts with the code, or lists only codes) and a case's coding must
hold complete codes: billable ICD-10-CM codes, seven-character ICD-10-PCS codes. The code
book (codebook.validation) checks what is found against the loaded sets.
"""

from __future__ import annotations

from collections import defaultdict

from codebook.codes import CM, PCS, coded_value, find_codes, text_is_only_codes
from codebook.validation import BankReport, Finding, findings_resolve
from questionbank.models import ItemStatus, ItemVersion


def findings_for_version(version) -> list[Finding]:
    """What one item version's own fields (not its case) assert."""
    where = version.item.key
    year = version.code_set_year
    out: list[Finding] = []

    def scan(field_name: str, text: str, *, keyed: bool = False, procedures: bool = False):
        codes = find_codes(text or "", procedures_field=procedures)
        only_codes = keyed and codes and text_is_only_codes(text, codes)
        for found in codes:
            starts = keyed and text.lstrip().startswith(found.text)
            out.append(
                Finding(
                    where, field_name, found.system, found.code, year, bool(only_codes or starts)
                )
            )

    scan("stem", version.stem)
    for option in version.options.all():
        label = f"key {option.letter}" if option.is_key else f"option {option.letter}"
        scan(label, option.text, keyed=option.is_key, procedures=True)
    scan("rationale", version.rationale)
    return out


def findings_for_case(case, *, where: str) -> list[Finding]:
    out: list[Finding] = []
    year = case.code_set_year
    for number, section in enumerate(case.sections or [], start=1):
        if not isinstance(section, dict):
            continue
        label = f"sections[{number}] {str(section.get('heading', ''))[:30]}".strip()
        for found in find_codes(str(section.get("body", ""))):
            out.append(Finding(where, label, found.system, found.code, year, False))
    coding = case.coding or {}
    fields: list[tuple[str, str, object]] = [
        ("coding.principal_diagnosis", CM, coding.get("principal_diagnosis"))
    ]
    fields += [
        (f"coding.secondary_diagnoses[{i}]", CM, value)
        for i, value in enumerate(coding.get("secondary_diagnoses") or [])
    ]
    fields += [
        (f"coding.procedures[{i}]", PCS, value)
        for i, value in enumerate(coding.get("procedures") or [])
    ]
    for label, system, value in fields:
        if value in (None, ""):
            continue
        code = coded_value(str(value), system=system)
        # A malformed value is kept as written so that it is reported, not skipped.
        out.append(Finding(where, label, system, code or f"!{value}", year, True))
    return out


def bank_check() -> BankReport:
    report = BankReport()
    findings: list[Finding] = []
    versions = (
        ItemVersion.objects.latest()
        .exclude(status=ItemStatus.RETIRED)
        .select_related("item", "case")
        .prefetch_related("options")
        .order_by("item__key")
    )
    items_by_case: dict[int, list[str]] = defaultdict(list)
    cases = {}
    for version in versions:
        report.versions += 1
        findings += findings_for_version(version)
        if version.case_id:
            items_by_case[version.case_id].append(version.item.key)
            cases[version.case_id] = version.case
    for case_id, case in sorted(cases.items(), key=lambda pair: pair[1].key):
        report.cases += 1
        keys = items_by_case[case_id]
        shown = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
        findings += findings_for_case(case, where=f"case {case.key} (items {shown})")
    findings_resolve(findings, report)
    return report
