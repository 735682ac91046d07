"""Loaders: the shipped ICD-10-CM, and CMS's files read from small synthetic excerpts.

Every file written below is a TEST FIXTURE: a few invented lines in the layout of the CMS
file named, not an excerpt of a real release.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from codebook.models import Code, CodeSet, DrgWeight

pytestmark = pytest.mark.django_db

# TEST FIXTURE in the layout of CMS's icd10cm_tabular_YYYY.xml
CM_TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <version>2024</version>
  <introduction><introSection type="title"><title>TEST FIXTURE</title></introSection></introduction>
  <chapter>
    <name>1</name>
    <desc>Certain infectious and parasitic diseases (A00-B99)</desc>
    <sectionIndex><sectionRef first="A30" last="A49" id="A30-A49">Other bacterial diseases</sectionRef></sectionIndex>
    <section id="A30-A49">
      <desc>Other bacterial diseases (A30-A49)</desc>
      <diag>
        <name>A41</name>
        <desc>Other sepsis</desc>
        <codeFirst><note>postprocedural sepsis (T81.44-)</note></codeFirst>
        <excludes1><note>bacteremia NOS (R78.81)</note></excludes1>
        <diag>
          <name>A41.9</name>
          <desc>Sepsis, unspecified organism</desc>
          <inclusionTerm><note>Septicemia NOS</note></inclusionTerm>
        </diag>
      </diag>
    </section>
  </chapter>
  <chapter>
    <name>19</name>
    <desc>Injury, poisoning and certain other consequences of external causes (S00-T88)</desc>
    <section id="S70-S79">
      <desc>Injuries to the hip and thigh (S70-S79)</desc>
      <diag>
        <name>S72</name>
        <desc>Fracture of femur</desc>
        <sevenChrNote><note>The appropriate 7th character is to be added to each code from category S72</note></sevenChrNote>
        <sevenChrDef>
          <extension char="A">initial encounter for closed fracture</extension>
          <extension char="D">subsequent encounter for closed fracture with routine healing</extension>
        </sevenChrDef>
        <diag><name>S72.0</name><desc>Fracture of head and neck of femur</desc>
          <diag><name>S72.00</name><desc>Fracture of unspecified part of neck of femur</desc>
            <diag><name>S72.001</name><desc>Fracture of unspecified part of neck of right femur</desc></diag>
          </diag>
        </diag>
      </diag>
    </section>
    <section id="T07">
      <desc>Injuries involving multiple body regions (T07)</desc>
      <diag>
        <name>T07</name>
        <desc>Unspecified multiple injuries</desc>
        <sevenChrDef>
          <extension char="A">initial encounter</extension>
          <extension char="S">sequela</extension>
        </sevenChrDef>
      </diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""


def order_line(number: int, code: str, billable: bool, title: str) -> str:
    """A line of CMS's order-file layout (icd10cm_order_YYYY.txt / icd10pcs_order_YYYY.txt)."""
    return f"{number:05d} {code:<7} {int(billable)} {title[:60]:<60} {title}"


# TEST FIXTURE in the layout of CMS's icd10cm_order_YYYY.txt
CM_ORDER = "\n".join(
    order_line(n, code, billable, title)
    for n, (code, billable, title) in enumerate(
        [
            ("A41", False, "Other sepsis"),
            ("A419", True, "Sepsis, unspecified organism"),
            ("A4189", True, "Other specified sepsis"),
            ("S72", False, "Fracture of femur"),
            ("S720", False, "Fracture of head and neck of femur"),
            ("S7200", False, "Fracture of unspecified part of neck of femur"),
            ("S72001", False, "Fracture of unspecified part of neck of right femur"),
            ("S72001A", True, "Fx unsp part of nk of right femur, init for clos fx"),
            ("T07", False, "Unspecified multiple injuries"),
            ("T07XXXA", True, "Unspecified multiple injuries, initial encounter"),
            ("T07XXXS", True, "Unspecified multiple injuries, sequela"),
        ],
        start=1,
    )
)

# TEST FIXTURE in the layout of CMS's icd10pcs_tables_YYYY.xml
PCS_TABLES = """<?xml version="1.0" encoding="UTF-8"?>
<ICD10PCS.tabular>
  <version>2024</version>
  <pcsTable>
    <axis pos="1" values="1"><title>Section</title><label code="0">Medical and Surgical</label></axis>
    <axis pos="2" values="1"><title>Body System</title><label code="D">Gastrointestinal System</label></axis>
    <axis pos="3" values="1"><title>Operation</title><label code="T">Resection</label>
      <definition>Cutting out or off, without replacement, all of a body part</definition></axis>
    <pcsRow codes="2">
      <axis pos="4" values="1"><title>Body Part</title><label code="J">Appendix</label></axis>
      <axis pos="5" values="2"><title>Approach</title><label code="0">Open</label><label code="4">Percutaneous Endoscopic</label></axis>
      <axis pos="6" values="1"><title>Device</title><label code="Z">No Device</label></axis>
      <axis pos="7" values="1"><title>Qualifier</title><label code="Z">No Qualifier</label></axis>
    </pcsRow>
    <pcsRow codes="1">
      <axis pos="4" values="1"><title>Body Part</title><label code="4">Gallbladder</label></axis>
      <axis pos="5" values="1"><title>Approach</title><label code="4">Percutaneous Endoscopic</label></axis>
      <axis pos="6" values="1"><title>Device</title><label code="Z">No Device</label></axis>
      <axis pos="7" values="1"><title>Qualifier</title><label code="Z">No Qualifier</label></axis>
    </pcsRow>
  </pcsTable>
</ICD10PCS.tabular>
"""


def hcpcs_line(code: str, record_id: str, long: str, short: str = "") -> str:
    """A line of CMS's fixed-width HCPCS file (HCPC20YY_..._ANWEB.txt)."""
    return f"{code:<5}{'00100':<5}{record_id}{long:<80}{short:<28}" + " " * 40


# TEST FIXTURE in the layout of CMS's HCPCS record file
HCPCS_FIXED = "\n".join(
    [
        hcpcs_line(
            "J1100",
            "3",
            "Injection, dexamethasone sodium phosphate, 1 mg",
            "Dexamethasone sodium phos",
        ),
        hcpcs_line(
            "G0008", "3", "Administration of influenza virus vaccine", "Admin influenza virus vac"
        ),
        hcpcs_line(
            "A0428", "3", "Ambulance service, basic life support, non-emergency transport,", "Bls"
        ),
        hcpcs_line("A0428", "4", "(bls)"),
        hcpcs_line(
            "LT",
            "7",
            "Left side (used to identify procedures performed on the left side of the body)",
            "Left side",
        ),
    ]
)

# TEST FIXTURE in the layout of a CSV export of CMS's HCPCS spreadsheet
HCPCS_CSV = """HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,TERM DT
J1100,00100,3,"Injection, dexamethasone sodium phosphate, 1 mg",Dexamethasone sodium phos,
Q9999,00100,3,A terminated test code,Terminated,20200101
"""

# TEST FIXTURE in the layout of CMS's Table 5 (IPPS final rule), tab-separated
TABLE5 = (
    '"TABLE 5.-LIST OF MS-DRGS, RELATIVE WEIGHTING FACTORS - FY 2024 Final Rule"\n'
    "MS-DRG\tFY 2024 Final Rule Post-Acute DRG\tFY 2024 Final Rule Special Pay DRG\tMDC\tTYPE\t"
    "MS-DRG Title\tWeights\tGeometric mean LOS\tArithmetic mean LOS\n"
    "871\tYes\tNo\t18\tMED\tSEPTICEMIA OR SEVERE SEPSIS WITHOUT MV >96 HOURS WITH MCC\t1.9000\t4.9\t6.5\n"
    "872\tYes\tNo\t18\tMED\tSEPTICEMIA OR SEVERE SEPSIS WITHOUT MV >96 HOURS WITHOUT MCC\t1.0000\t3.4\t4.2\n"
)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def codes_of(system: str, year: int) -> dict[str, Code]:
    return {c.code: c for c in Code.objects.filter(code_set__system=system, code_set__year=year)}


# --- The shipped ICD-10-CM -----------------------------------------------------------------
def test_shipped_icd10cm_has_known_codes_billable_flags_and_hierarchy(codesets):
    codes = Code.objects.filter(code_set__system="cm", code_set__year=2026)
    assert codes.count() > 95_000
    by = {
        c.code: c
        for c in codes.filter(
            code__in=["A41", "A419", "S72001", "S72001A", "T07XXXA", "I10", "CH1", "A30-A49"]
        )
    }
    assert by["A419"].display == "A41.9" and by["A419"].billable
    assert by["A419"].description == "Sepsis, unspecified organism"
    assert not by["A41"].billable and by["A41"].kind == "category"
    assert by["A419"].parent == "A41" and by["A41"].parent == "A30-A49"
    assert by["A30-A49"].parent == "CH1" and by["A419"].chapter == "CH1"
    assert by["S72001A"].billable and not by["S72001"].billable
    assert by["S72001A"].description.endswith("initial encounter for closed fracture")
    assert by["T07XXXA"].display == "T07.XXXA" and by["T07XXXA"].parent == "T07"
    assert by["I10"].billable


def test_shipped_icd10cm_keeps_the_tabular_notes(codesets):
    a41 = Code.objects.get(code_set__system="cm", code_set__year=2026, code="A41")
    assert any("R78.81" in note for note in a41.notes["excludes1"])
    assert a41.notes["code_first"]
    s72 = Code.objects.get(code_set__system="cm", code_set__year=2026, code="S72")
    assert s72.notes["seven_chr_def"]["A"] == "initial encounter for closed fracture"
    assert "7th character" in s72.notes["seven_chr_note"]
    e11 = Code.objects.get(code_set__system="cm", code_set__year=2026, code="E11")
    assert e11.notes["use_additional_code"]


def test_loading_shipped_codesets_again_changes_nothing(codesets):
    from codebook.loaders import icd10cm
    from codebook.services import codeset_load

    before = CodeSet.objects.get(system="cm", year=2026)
    _t, _l, fingerprint = icd10cm.bundled_files()

    def must_not_parse():
        raise AssertionError("an unchanged source must not be read again")

    result = codeset_load(
        system="cm", year=2026, source="x", fingerprint=fingerprint, build=must_not_parse
    )
    assert result.status == "unchanged" and result.count == before.code_count
    assert Code.objects.filter(code_set=before).count() == before.code_count


# --- CMS's ICD-10-CM files of another year ---------------------------------------------------
def test_cms_tabular_alone_expands_every_seventh_character(tmp_path):
    tabular = tmp_path / "icd10cm_tabular_2024.xml"
    tabular.write_text(CM_TABULAR)
    output = run("load_cms_icd10cm", str(tabular))
    assert "ICD-10-CM FY2024: created" in output
    codes = codes_of("cm", 2024)
    assert {"S72001A", "S72001D", "T07XXXA", "T07XXXS"} <= set(codes)
    assert codes["A419"].billable and not codes["A41"].billable
    assert codes["A419"].notes["inclusion_terms"] == ["Septicemia NOS"]
    assert codes["T07-T07"].kind == "block"


def test_cms_tabular_with_order_file_is_confirmed_by_it_and_is_idempotent(tmp_path):
    tabular = tmp_path / "icd10cm_tabular_2024.xml"
    tabular.write_text(CM_TABULAR)
    order = tmp_path / "icd10cm_order_2024.txt"
    order.write_text(CM_ORDER)
    first = run("load_cms_icd10cm", str(tabular), str(order), "--year", "2024")
    assert "rows stored" in first  # progress lines
    codes = codes_of("cm", 2024)
    assert "S72001D" not in codes  # not in the order file
    assert codes["A4189"].billable and codes["A4189"].parent == "A41"
    count = len(codes)
    again = run("load_cms_icd10cm", str(tabular), str(order), "--year", "2024")
    assert "nothing to do" in again and "unchanged" in again
    assert len(codes_of("cm", 2024)) == count


def test_cms_order_file_alone_gives_codes_parents_and_billable_flags(tmp_path):
    order = tmp_path / "icd10cm_order_2023.txt"
    order.write_text(CM_ORDER)
    run("load_cms_icd10cm", str(order), "--year", "2023")
    codes = codes_of("cm", 2023)
    assert codes["S72001A"].parent == "S72001"
    assert codes["T07XXXA"].parent == "T07"
    assert codes["T07XXXA"].kind == "extended"
    assert not codes["S72001"].billable


# --- ICD-10-PCS ----------------------------------------------------------------------------------
def test_cms_pcs_tables_give_every_code_with_its_axes(tmp_path):
    tables = tmp_path / "icd10pcs_tables_2024.xml"
    tables.write_text(PCS_TABLES)
    output = run("load_cms_pcs_tables", str(tables), "--year", "2024")
    assert "created" in output
    codes = codes_of("pcs", 2024)
    assert {"0DTJ0ZZ", "0DTJ4ZZ", "0DT44ZZ"} <= set(codes)
    code = codes["0DTJ4ZZ"]
    assert code.description == "Resection of Appendix, Percutaneous Endoscopic Approach"
    assert [a["label"] for a in code.axes][:5] == [
        "Medical and Surgical",
        "Gastrointestinal System",
        "Resection",
        "Appendix",
        "Percutaneous Endoscopic",
    ]
    assert codes["0DT"].kind == "table" and codes["0DT"].notes["definition"]
    assert "nothing to do" in run("load_cms_pcs_tables", str(tables), "--year", "2024")


def test_cms_pcs_titles_come_from_the_order_file_when_given(tmp_path):
    tables = tmp_path / "icd10pcs_tables_2024.xml"
    tables.write_text(PCS_TABLES)
    order = tmp_path / "icd10pcs_order_2024.txt"
    order.write_text(
        order_line(1, "0DTJ4ZZ", True, "Resection of Appendix, Perc Endo Approach (test)")
    )
    run("load_cms_pcs_tables", str(tables), "--year", "2024", "--order", str(order))
    assert codes_of("pcs", 2024)["0DTJ4ZZ"].description.endswith("(test)")


def test_shipped_pcs_subset_has_axes_and_validity(codesets):
    codes = codes_of("pcs", 2026)
    assert codes["0DTJ4ZZ"].billable
    assert codes["0DTJ4ZZ"].axes[2]["label"] == "Resection"
    assert codes["0DTJ"].kind == "body_part"


def test_mce_validity_rejects_an_impossible_code():
    from codebook.loaders.icd10pcs import mce_valid_codes

    assert mce_valid_codes(["0DTJ4ZZ", "0DTJ4ZX", "5A1955Z"], year=2024) == {"0DTJ4ZZ", "5A1955Z"}


# --- HCPCS and MS-DRG weights ----------------------------------------------------------------
def test_hcpcs_fixed_width_file(tmp_path):
    path = tmp_path / "HCPC2026_JAN_ANWEB.txt"
    path.write_text(HCPCS_FIXED)
    assert "created (4 rows)" in run("load_hcpcs", str(path), "--year", "2026")
    codes = codes_of("hcpcs", 2026)
    assert codes["J1100"].billable and codes["LT"].kind == "modifier"
    assert codes["A0428"].description.endswith("non-emergency transport, (bls)")
    assert "nothing to do" in run("load_hcpcs", str(path), "--year", "2026")


def test_hcpcs_csv_skips_terminated_codes(tmp_path):
    path = tmp_path / "hcpcs.csv"
    path.write_text(HCPCS_CSV)
    run("load_hcpcs", str(path), "--year", "2025")
    assert set(codes_of("hcpcs", 2025)) == {"J1100"}


def test_drg_table5(tmp_path):
    path = tmp_path / "table5.txt"
    path.write_text(TABLE5)
    run("load_drg_weights", str(path))
    row = DrgWeight.objects.get(year=2024, drg=871)
    assert (
        str(row.weight) == "1.9000"
        and row.drg_type == "MED"
        and str(row.geometric_mean_los) == "4.9"
    )
    assert "nothing to do" in run("load_drg_weights", str(path))


def test_shipped_drg_weights(codesets):
    row = DrgWeight.objects.get(year=2026, drg=871)
    assert row.title.startswith("SEPTICEMIA") and row.weight > 1
