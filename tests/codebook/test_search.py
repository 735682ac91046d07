"""Search ranks the exact code first, then codes that start with the query, then words."""

import re

import pytest

from codebook.selectors import code_page, code_search

pytestmark = pytest.mark.django_db


def displays(results):
    return [c.display for c in results]


def test_exact_code_comes_first_then_its_subdivisions(codesets):
    results = code_search(query="A41", year=2026)
    assert results[0].display == "A41"
    assert all(c.code.startswith("A41") for c in results)
    assert displays(results)[1:3] == ["A41.0", "A41.01"]


def test_dotted_undotted_and_lower_case_queries_find_the_same_code(codesets):
    for query in ("A41.9", "a419", " A41.9 "):
        assert displays(code_search(query=query, year=2026))[0] == "A41.9"


def test_headings_are_left_out_of_code_prefix_search(codesets):
    assert all(c.kind not in ("chapter", "block") for c in code_search(query="A0", year=2026))


def test_words_find_codes_by_title_best_first(codesets):
    results = code_search(query="acute kidney failure", year=2026, limit=10)
    assert results and all("kidney" in c.description.lower() for c in results[:5])
    assert "N17.9" in displays(results)


def test_word_prefixes_match(codesets):
    assert any(c.display.startswith("J1") for c in code_search(query="pneumon", year=2026))


def test_inclusion_terms_are_searched(codesets):
    assert "A41.9" in displays(code_search(query="septicemia", year=2026, limit=50))


def test_several_words_must_all_match(codesets):
    results = code_search(query="diastolic heart failure chronic", year=2026)
    assert results[0].display.startswith("I50.3")
    assert all("diastolic" in c.description.lower() for c in results)


def test_nothing_for_an_unknown_year_or_empty_query(codesets):
    assert code_search(query="sepsis", year=1999) == []
    assert code_search(query="   ", year=2026) == []


def test_pcs_search(codesets):
    assert displays(code_search(query="0DTJ4ZZ", system="pcs", year=2026)) == ["0DTJ4ZZ"]
    results = code_search(query="resection appendix", system="pcs", year=2026)
    assert "0DTJ4ZZ" in displays(results)


def test_code_page_has_ancestors_children_and_inherited_notes(codesets):
    page = code_page(code="S72.001A", year=2026)
    assert displays(page.ancestors) == [
        "Chapter 19",
        "S70-S79",
        "S72",
        "S72.0",
        "S72.00",
        "S72.001",
    ]
    assert any(a.code == "S72" and "seven_chr_def" in notes for a, notes in page.inherited_notes)
    parent = code_page(code="S72.001", year=2026)
    assert "S72.001A" in displays(parent.children)
    assert code_page(code="Z99.999", year=2026) is None


# --- Ranking words: the usual code first ----------------------------------------------------
@pytest.mark.parametrize(
    ("query", "usual"),
    [
        ("pneumonia", "J18.9"),
        ("sepsis", "A41.9"),
        ("heart failure", "I50.9"),
        ("acute kidney failure", "N17.9"),
        ("stroke", "I63.9"),  # an inclusion term: "Stroke NOS"
    ],
)
def test_the_usual_code_is_among_the_first_three(codesets, query, usual):
    assert usual in displays(code_search(query=query, year=2026))[:3]


def test_billable_codes_come_before_categories(codesets):
    results = code_search(query="acute kidney failure", year=2026, limit=10)
    billable = [c.billable for c in results]
    assert billable == sorted(billable, reverse=True)
    assert results[0].billable


def test_whole_words_rank_before_partial_matches(codesets):
    # "pneumonia" is only a prefix of "pneumoniae" (Klebsiella pneumoniae): among billable
    # codes, none holding the word whole comes after one that holds it only in part.
    results = [c for c in code_search(query="pneumonia", year=2026, limit=400) if c.billable]
    whole = [
        bool(re.search(r"\bpneumonias?\b", f"{c.description} {c.terms}", re.I)) for c in results
    ]
    assert True in whole and False in whole  # the query has both kinds, so the order shows
    assert whole == sorted(whole, reverse=True)


def test_an_inclusion_term_matching_whole_ranks_before_a_partial_title(codesets):
    results = displays(code_search(query="septicemia", year=2026, limit=25))
    assert results[0] == "A41.9"
