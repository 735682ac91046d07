"""MS-DRG of a case's correct coding, grouped with msdrg and weighted from Table 5."""

import pytest
from django.core.cache import cache

from questionbank.coding import case_drg
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_sepsis_with_an_mcc_groups_to_871_with_title_and_weight(codesets):
    # J96.01 is an MCC; R65.20 would not do: it is excluded as an MCC with a sepsis PDX.
    cache.clear()
    case = CaseFactory(
        coding={"principal_diagnosis": "A41.9", "secondary_diagnoses": ["J96.01", "N17.9"]}
    )
    result = case_drg(case)
    assert result.drg == 871
    assert result.title.startswith("SEPTICEMIA OR SEVERE SEPSIS")
    assert result.weight is not None and float(result.weight) > 1
    assert result.grouper_version == 431


def test_without_cc_or_mcc_it_groups_lower_and_the_result_follows_the_coding(codesets):
    cache.clear()
    case = CaseFactory(coding={"principal_diagnosis": "A41.9", "secondary_diagnoses": []})
    assert case_drg(case).drg == 872
    case.coding = {"principal_diagnosis": "A41.9", "secondary_diagnoses": ["J96.01"]}
    assert case_drg(case).drg == 871


def test_surgical_case_groups_to_a_surgical_drg(codesets):
    cache.clear()
    case = CaseFactory(coding={"principal_diagnosis": "K35.80", "procedures": ["0DTJ4ZZ"]})
    result = case_drg(case)
    assert result.title.startswith("APPENDIX PROCEDURES") and result.drg_type == "SURG"


def test_outpatient_or_uncoded_cases_have_no_drg(codesets):
    assert (
        case_drg(CaseFactory(setting="outpatient", coding={"principal_diagnosis": "A41.9"})) is None
    )
    assert case_drg(CaseFactory(coding={})) is None


def test_a_year_without_a_grouper_says_so(codesets):
    case = CaseFactory(code_set_year=2019, coding={"principal_diagnosis": "A41.9"})
    result = case_drg(case)
    assert result.drg is None and "2019" in result.problem
