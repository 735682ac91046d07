"""HCPCS Level II from CMS's annual file, which the user supplies (it is not shipped).

Two layouts are read:
- the fixed-width text file (HCPC20YY_..._ANWEB.txt): HCPC code in columns 1–5, sequence
  number 6–10, record identification 11 (3 = first line of a code, 4 = its continuation,
  7 = first line of a modifier, 8 = its continuation), long description 12–91, short
  description 92–119;
- a CSV export of CMS's spreadsheet with the columns HCPC, LONG DESCRIPTION and
  SHORT DESCRIPTION (and optionally TERM DT: terminated codes are skipped).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from codebook.loaders import CodeRecord, read_text


def parse_hcpcs(path: Path | str) -> list[CodeRecord]:
    text = read_text(path)
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if "HCPC" in first.upper() and ("," in first or "\t" in first):
        return _parse_csv(text)
    return _parse_fixed(text, path)


def _parse_fixed(text: str, path) -> list[CodeRecord]:
    records: dict[str, CodeRecord] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) < 12 or line[10] not in "3478":
            raise ValueError(f"{path}: line {number} is not in the CMS HCPCS record layout")
        code = line[0:5].strip()
        record_id = line[10]
        long_part = line[11:91].rstrip()
        if record_id in "37":
            records[code] = CodeRecord(
                code=code,
                display=code,
                description=long_part.strip(),
                kind="code" if record_id == "3" else "modifier",
                billable=record_id == "3",
                terms=line[91:119].strip(),
            )
        elif code in records:
            records[code].description = f"{records[code].description} {long_part.strip()}".strip()
    return _finish(records.values())


def _parse_csv(text: str) -> list[CodeRecord]:
    delimiter = "\t" if "\t" in text.splitlines()[0] else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    columns = {name.strip().upper(): name for name in reader.fieldnames or []}
    code_column = columns.get("HCPC") or columns.get("HCPCS")
    if not code_column or "LONG DESCRIPTION" not in columns:
        raise ValueError("the CSV needs the columns HCPC and LONG DESCRIPTION")
    records: dict[str, CodeRecord] = {}
    for row in reader:
        code = (row.get(code_column) or "").strip().upper()
        if not code:
            continue
        term = (row.get(columns.get("TERM DT", ""), "") or "").strip()
        if term:
            continue
        description = (row.get(columns["LONG DESCRIPTION"]) or "").strip()
        short = (row.get(columns.get("SHORT DESCRIPTION", ""), "") or "").strip()
        if code in records:
            records[code].description = f"{records[code].description} {description}".strip()
            continue
        records[code] = CodeRecord(
            code=code,
            display=code,
            description=description,
            kind="code" if len(code) == 5 else "modifier",
            billable=len(code) == 5,
            terms=short,
        )
    return _finish(records.values())


def _finish(records) -> list[CodeRecord]:
    ordered = sorted(records, key=lambda r: (r.kind != "code", r.code))
    for position, record in enumerate(ordered):
        record.position = position
        if record.kind == "code":
            record.parent = ""
            record.block = record.code[0]
    return ordered
