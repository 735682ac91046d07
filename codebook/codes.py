"""Recognising codes in text: pure Python, no Django.

The patterns are deliberately conservative, because a false positive makes
`validate_bank` fail on a correct item:

- ICD-10-CM in free text: a dotted code (`A41.9`, `T84.51XA`) or a bare three-character
  category (`I10`). Undotted longer codes (`A419`) are accepted only where the field is known
  to hold diagnosis codes (a case's `coding`), since in prose `G2P1` or `T12L1` are not codes.
  Guideline references such as `I.C.9.a`, `B3.1a` or `B4.1c` never match: a category needs
  three characters before its dot. Abbreviations shaped like categories (`A1C`, `B12`, `H2O`,
  `D5W`, vertebrae `T10`–`T12`) are ignored, and so is a bare category touching a hyphen or
  slash (`T11-T12`, ranges such as `A00-A09`).
- ICD-10-PCS: seven characters from the PCS alphabet (digits and letters except I and O),
  starting with a section value and holding at least one digit, and not an obstetric
  history such as `G2P1001`. All-digit tokens
  (`1234567`, a record number) count only where the field is known to hold procedure codes.
- HCPCS Level II (`J1100`) and CPT (`99213`, `3074F`) are recognised to be reported as not
  checkable unless a code set for them is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CM = "cm"
PCS = "pcs"
HCPCS = "hcpcs"
CPT = "cpt"

# Not codes, though shaped like ICD-10-CM categories. X12 is the ASC X12 standard of HIPAA
# transactions (X12 837I); the category X12 needs a 7th character, so it is always written
# with its subdivisions (X12.XXXA) when meant.
NOT_CATEGORIES = frozenset({"A1C", "B12", "H2O", "D5W", "T10", "T11", "T12", "O2S", "N2O", "X12"})
# Obstetric history (G2P1001: gravida 2, para 1-0-0-1) fits the PCS alphabet.
OBSTETRIC_RE = re.compile(r"^G[0-9]{1,2}P[0-9]")

_BEFORE = r"(?<![0-9A-Za-z.])"
_AFTER = r"(?![0-9A-Za-z])"

# Category: a letter, a digit, then a digit or letter (C7A, D3A, M1A, Z3A, I1A).
CM_DOTTED_RE = re.compile(_BEFORE + r"([A-Z][0-9][0-9A-Z]\.[0-9A-Zx]{1,4})" + _AFTER)
CM_CATEGORY_RE = re.compile(
    r"(?<![0-9A-Za-z.\-/])([A-Z][0-9][0-9A-Z])(?![0-9A-Za-z\-/]|\.[0-9A-Za-z])"
)
CM_UNDOTTED_RE = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Zx]{0,4})$")

PCS_RE = re.compile(_BEFORE + r"([0-9BCDFGHX][0-9A-HJ-NP-Z]{6})" + _AFTER)
PCS_FULL_RE = re.compile(r"^[0-9BCDFGHX][0-9A-HJ-NP-Z]{6}$")

HCPCS_RE = re.compile(_BEFORE + r"([A-CEGHJ-MP-V][0-9]{4})" + _AFTER)
CPT_RE = re.compile(r"(?<![0-9A-Za-z.,$#\-/])([0-9]{4}[0-9FTU])(?![0-9A-Za-z\-/]|\.[0-9])")


@dataclass(frozen=True)
class Found:
    system: str
    code: str  # canonical: upper case, no dot
    text: str  # as written
    start: int


def normalize(code: str) -> str:
    """Canonical form of a code: upper case, dots and spaces removed."""
    return code.replace(".", "").replace(" ", "").strip().upper()


def cm_display(code: str) -> str:
    """`S72001A` → `S72.001A`; three-character categories stay as they are."""
    code = normalize(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def find_codes(text: str, *, procedures_field: bool = False) -> list[Found]:
    """Every ICD-10-CM, ICD-10-PCS, HCPCS and CPT code written in `text`, in order.

    `procedures_field` says the text is known to hold PCS codes (option texts of a PCS
    question, a case's procedures), which admits all-digit PCS codes such as 0016070.
    """
    if not text:
        return []
    found: list[Found] = []
    taken: list[tuple[int, int]] = []

    def add(system: str, match: re.Match, code: str) -> None:
        span = match.span(1)
        if any(span[0] < end and start < span[1] for start, end in taken):
            return
        taken.append(span)
        found.append(Found(system, code, match.group(1), span[0]))

    for match in PCS_RE.finditer(text):
        token = match.group(1)
        if not any(ch.isdigit() for ch in token):
            continue
        if token.isdigit() and not procedures_field or OBSTETRIC_RE.match(token):
            continue
        add(PCS, match, token)
    for match in CM_DOTTED_RE.finditer(text):
        add(CM, match, normalize(match.group(1)))
    for match in CM_CATEGORY_RE.finditer(text):
        token = match.group(1)
        if token in NOT_CATEGORIES or _after_drg(text, match.start(1)):
            continue
        add(CM, match, token)
    for match in HCPCS_RE.finditer(text):
        add(HCPCS, match, match.group(1))
    for match in CPT_RE.finditer(text):
        add(CPT, match, match.group(1))
    found.sort(key=lambda f: f.start)
    return found


def _after_drg(text: str, start: int) -> bool:
    """`MS-DRG V43` or `grouper version V43` name a grouper version, not category V43."""
    before = text[max(0, start - 16) : start].upper()
    return bool(re.search(r"(DRG|VERSION|GROUPER)\s*$", before))


def coded_value(value: str, *, system: str) -> str | None:
    """A code from a field that holds one code (a case's coding), or None if malformed."""
    code = normalize(value or "")
    if system == CM:
        return code if CM_UNDOTTED_RE.match(code) else None
    if system == PCS:
        return code if PCS_FULL_RE.match(code) else None
    return code or None


def text_is_only_codes(text: str, codes: list[Found]) -> bool:
    """True when `text` is a list of codes and separators, e.g. "A41.9, J18.9 and N17.9"."""
    rest = text
    for found in sorted(codes, key=lambda f: -f.start):
        rest = rest[: found.start] + rest[found.start + len(found.text) :]
    return not re.sub(r"(?i)\band\b|[\s,;:/+()]", "", rest)
