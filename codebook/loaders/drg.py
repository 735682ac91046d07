"""MS-DRG titles and relative weights: CMS's Table 5 of an IPPS final rule.

The `drg` package ships Table 5 of the FY2026 final rule (a CMS publication, public
domain); users may load another year's Table 5 saved as tab-separated text or CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from codebook.loaders import package_dir, package_version, read_text, text_fingerprint


@dataclass
class DrgRow:
    drg: int
    title: str
    mdc: str
    drg_type: str
    weight: Decimal
    geometric_mean_los: Decimal | None
    arithmetic_mean_los: Decimal | None


def bundled_table5() -> tuple[Path, int, str]:
    """(path, fiscal year, fingerprint) of the Table 5 the `drg` package ships."""
    path = package_dir("drg") / "data" / "cms" / "drg_weights.txt"
    if not path.exists():
        raise FileNotFoundError(path)
    year = table5_year(read_text(path)) or 2026
    fingerprint = text_fingerprint("drg-table5", package_version("drg"), str(path.stat().st_size))
    return path, year, fingerprint


def table5_year(text: str) -> int | None:
    import re

    match = re.search(r"FY\s*(20\d\d)\s+Final Rule", text[:600])
    return int(match.group(1)) if match else None


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        return None


def parse_table5(path: Path | str) -> list[DrgRow]:
    text = read_text(path)
    lines = text.splitlines()
    header_at = next(
        (i for i, line in enumerate(lines) if line.strip().strip('"').upper().startswith("MS-DRG")),
        None,
    )
    if header_at is None:
        raise ValueError(f"{path}: no header row starting with MS-DRG (CMS Table 5 layout)")
    delimiter = "\t" if "\t" in lines[header_at] else ","
    reader = csv.reader(io.StringIO("\n".join(lines[header_at:])), delimiter=delimiter)
    header = [cell.strip().upper() for cell in next(reader)]

    def column(*words: str, last: bool = False) -> int | None:
        hits = [i for i, name in enumerate(header) if all(w in name for w in words)]
        if not hits:
            return None
        return hits[-1] if last else hits[0]

    title_at = column("TITLE")
    weight_at = column("WEIGHT", last=True)
    if title_at is None or weight_at is None:
        raise ValueError(f"{path}: the header needs an MS-DRG title and a weights column")
    mdc_at, type_at = column("MDC"), column("TYPE")
    gmlos_at, amlos_at = column("GEOMETRIC"), column("ARITHMETIC")
    rows: list[DrgRow] = []
    for cells in reader:
        if not cells or not cells[0].strip().isdigit():
            continue
        weight = _decimal(cells[weight_at])
        if weight is None:
            continue

        def cell(at, cells=cells):
            return cells[at].strip() if at is not None and at < len(cells) else ""

        rows.append(
            DrgRow(
                drg=int(cells[0]),
                title=cell(title_at),
                mdc=cell(mdc_at),
                drg_type=cell(type_at),
                weight=weight,
                geometric_mean_los=_decimal(cell(gmlos_at)),
                arithmetic_mean_los=_decimal(cell(amlos_at)),
            )
        )
    return rows
