"""validate_bank: planted bad codes are reported with item and field; good ones pass."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from questionbank.models import ItemStatus
from tests.factories import CaseFactory, ItemVersionFactory

pytestmark = pytest.mark.django_db

GOOD_OPTIONS = [
    ("A41.9 Sepsis, unspecified organism", True),
    ("J18.9 Pneumonia, unspecified organism", False),
    ("R65.20 Severe sepsis without septic shock", False),
    ("A41 Other sepsis", False),  # a heading is a fair distractor
]


def validate() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("validate_bank", stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_good_items_and_cases_pass(codesets):
    case = CaseFactory(
        key="IP-GOOD",
        coding={
            "principal_diagnosis": "A41.9",
            "secondary_diagnoses": ["J189", "N17.9"],
            "procedures": ["0DTJ4ZZ", "5A1955Z"],
        },
        sections=[{"heading": "H&P", "body": "HbA1c 6.1. History of I10. Per guideline I.C.1.d."}],
    )
    ItemVersionFactory(
        item__key="D1-OK-1",
        case=case,
        stem="Which code is the principal diagnosis (see I.C.1.d.4; PCS B3.1a)?",
        rationale="A41.9 is sequenced first; R65.20 needs documented organ dysfunction.",
        options=GOOD_OPTIONS,
    )
    ItemVersionFactory(
        item__key="D1-OK-2",
        stem="Which PCS code reports a laparoscopic appendectomy?",
        options=[("0DTJ4ZZ", True), ("0DTJ0ZZ", False), ("0DBJ4ZZ", False), ("0DTJ8ZZ", False)],
    )
    ok, output = validate()
    assert ok, output
    assert "0 problems" in output


def test_a_code_that_does_not_exist_is_reported_with_item_and_field(codesets):
    ItemVersionFactory(
        item__key="D1-BAD-1",
        rationale="Assign J18.99 for the pneumonia.",
        options=GOOD_OPTIONS,
    )
    ok, output = validate()
    assert not ok
    assert "D1-BAD-1 [rationale] J18.99: is not an ICD-10-CM code in FY2026" in output


def test_a_keyed_code_must_be_billable(codesets):
    ItemVersionFactory(
        item__key="D1-BAD-2",
        options=[("A41 Other sepsis", True), ("A41.9 Sepsis", False), ("J18.9 Pneumonia", False)],
    )
    ok, output = validate()
    assert not ok
    assert "D1-BAD-2 [key A] A41: is not a billable code in FY2026" in output


def test_a_keyed_pcs_code_invalid_in_the_year_is_reported(codesets):
    ItemVersionFactory(
        item__key="D1-BAD-3",
        options=[("0DTJ4ZX", True), ("0DTJ0ZZ", False), ("0DBJ4ZZ", False)],
    )
    ok, output = validate()
    assert not ok
    assert "D1-BAD-3 [key A] 0DTJ4ZX: is not a valid ICD-10-PCS code in FY2026" in output


def test_case_coding_is_checked(codesets):
    case = CaseFactory(
        key="IP-BAD",
        coding={"principal_diagnosis": "A41", "secondary_diagnoses": ["N17.99", "sepsis"]},
    )
    ItemVersionFactory(item__key="D1-BAD-4", case=case, options=GOOD_OPTIONS)
    ok, output = validate()
    assert not ok
    assert (
        "case IP-BAD (items D1-BAD-4) [coding.principal_diagnosis] A41: is not a billable code"
        in output
    )
    assert "[coding.secondary_diagnoses[0]] N17.99: is not an ICD-10-CM code in FY2026" in output
    assert "[coding.secondary_diagnoses[1]] sepsis: is not written as an ICD-10-CM code" in output


def test_retired_items_and_older_versions_are_not_checked(codesets):
    ItemVersionFactory(item__key="D1-RET", status=ItemStatus.RETIRED, rationale="Z99.999 nonsense")
    old = ItemVersionFactory(item__key="D1-NEW", number=1, rationale="Z99.999 nonsense")
    ItemVersionFactory(item=old.item, number=2, rationale="A41.9 fixed")
    ok, output = validate()
    assert ok, output


def test_a_year_without_a_code_set_is_reported(codesets):
    ItemVersionFactory(item__key="D1-OLD", code_set_year=2019, rationale="A41.9")
    ok, output = validate()
    assert not ok
    assert "D1-OLD [rationale] A41.9: cannot be checked: no ICD-10-CM code set for FY2019" in output


def test_cpt_and_hcpcs_are_listed_as_not_checkable(codesets):
    ItemVersionFactory(item__key="D1-CPT", rationale="Report CPT 44970 and HCPCS J1100.")
    ok, output = validate()
    assert ok, output
    assert "Not checkable" in output and "CPT 44970" in output and "HCPCS Level II J1100" in output


def test_the_sample_bank_passes(codesets):
    call_command("load_sample_bank", stdout=StringIO())
    ok, output = validate()
    assert ok, output
