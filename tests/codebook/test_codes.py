"""Finding codes in text: what must match, and what must not (false positives would make
validate_bank fail on correct items)."""

import pytest

from codebook.codes import coded_value, find_codes, text_is_only_codes


def codes(text, **kwargs):
    return [(f.system, f.code) for f in find_codes(text, **kwargs)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Assign A41.9 Sepsis, unspecified organism", [("cm", "A419")]),
        ("R65.20, N17.9 and J18.9.", [("cm", "R6520"), ("cm", "N179"), ("cm", "J189")]),
        ("Essential hypertension is I10.", [("cm", "I10")]),
        ("S72.001A and T84.51XA", [("cm", "S72001A"), ("cm", "T8451XA")]),
        ("Category C7A, Z3A.32 weeks", [("cm", "C7A"), ("cm", "Z3A32")]),
        ("Code 0DTJ4ZZ Resection of appendix", [("pcs", "0DTJ4ZZ")]),
        (
            "02703DZ, 5A1955Z, XW033E5, BW03ZZZ",
            [("pcs", "02703DZ"), ("pcs", "5A1955Z"), ("pcs", "XW033E5"), ("pcs", "BW03ZZZ")],
        ),
        (
            "HCPCS J1100 and CPT 99213, 3074F",
            [("hcpcs", "J1100"), ("cpt", "99213"), ("cpt", "3074F")],
        ),
    ],
)
def test_codes_are_found(text, expected):
    assert codes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Guideline I.C.9.a.1 and Section I.C.21.c.3 apply.",
        "PCS guidelines B3.1a, B3.10c, B4.1c and B6.1a.",
        "HbA1c was 9.2%; the A1C goal is 7.",
        "Vitamin B12 deficiency; D5W at 75 mL/h; H2O.",
        "Compression fracture of T12, T11-T12 and L4-L5.",
        "In 2026 (FY2026), Coding Clinic Q3 2024, page 12.",
        "MS-DRG V43 and grouper version V42.",
        "Ranges A00-A09 and I10-I1A are blocks.",
        "MRN 1234567, account 20260101, phone 5551234.",
        "covid-19, sars-cov-2, the patient is a g2p1.",
        "Dose 0.125 mg, 98.6 F, BP 140/90, $12,345.",
        "A 31-year-old G2P1001 at 39 weeks; G10P3.",
        "The X12 837I claim and X12 270/271 eligibility transactions.",
    ],
)
def test_no_false_positives(text):
    assert [c for c in codes(text) if c[0] in ("cm", "pcs")] == []


def test_all_digit_pcs_codes_only_where_procedures_are_expected():
    assert codes("0016070 Bypass") == []
    assert codes("0016070 Bypass", procedures_field=True) == [("pcs", "0016070")]


def test_coded_value_accepts_codes_without_dots_in_case_coding():
    assert coded_value("a41.9", system="cm") == "A419"
    assert coded_value("A419", system="cm") == "A419"
    assert coded_value("0dtj4zz", system="pcs") == "0DTJ4ZZ"
    assert coded_value("sepsis", system="cm") is None
    assert coded_value("0DTJ4Z", system="pcs") is None


def test_text_that_only_lists_codes():
    text = "A41.9, R65.20 and N17.9"
    assert text_is_only_codes(text, find_codes(text))
    text = "A41.9 Sepsis, unspecified organism"
    assert not text_is_only_codes(text, find_codes(text))
