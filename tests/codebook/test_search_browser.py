"""The code book search page in a browser: the year select follows the code set chosen."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from codebook.loaders import CodeRecord
from codebook.models import CodeSet
from codebook.services import codeset_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEARS_SHOWN = "Array.from(document.querySelectorAll('#codebook-page-year option'), o => o.value)"


def small_sets():
    """ICD-10-CM FY2025 and ICD-10-PCS FY2027 and FY2023: years the other system lacks.

    Small sets of their own, so that the code sets the other code-book tests load (if this
    run loaded them) are left alone; the years expected are read from the database."""
    cm = [CodeRecord("A419", "A41.9", "Sepsis, unspecified organism", "subcategory", True)]
    pcs = [CodeRecord("0DTJ4ZZ", "0DTJ4ZZ", "Resection of Appendix", "code", True)]
    codeset_load(system="cm", year=2025, source="test", fingerprint="b1", build=lambda: cm)
    for year in (2027, 2023):
        codeset_load(system="pcs", year=year, source="test", fingerprint="b1", build=lambda: pcs)


def years_of(system: str) -> list[str]:
    sets = CodeSet.objects.filter(system=system).order_by("-year")
    return [str(year) for year in sets.values_list("year", flat=True)]


def test_choosing_pcs_offers_the_pcs_years_and_keeps_the_url(
    page, live_server, login_in_browser, candidate
):
    small_sets()
    pcs_years = years_of("pcs")
    assert "2023" in pcs_years and "2023" not in years_of("cm")
    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/codebook/")
    assert page.evaluate(YEARS_SHOWN) == years_of("cm")

    page.select_option("#codebook-page-system", "pcs")
    page.wait_for_function(f"{YEARS_SHOWN}.join() === {','.join(pcs_years)!r}")
    # The year shown before is kept when ICD-10-PCS has it (the newest one otherwise).
    chosen = page.input_value("#codebook-page-year")
    assert chosen != "2023"
    page.fill("#codebook-page-q", "0DTJ4ZZ")
    page.wait_for_selector(f"#codebook-results >> text=ICD-10-PCS FY{chosen}")

    # Picking a year (here with the keyboard) leaves the year select in place: only a
    # change of code set swaps it.
    page.eval_on_selector("#codebook-page-year", "el => { el.dataset.before = 'yes'; }")
    page.focus("#codebook-page-year")
    page.keyboard.press("ArrowDown")
    next_year = pcs_years[pcs_years.index(chosen) + 1]
    page.wait_for_selector(f"#codebook-results >> text=ICD-10-PCS FY{next_year}")
    assert page.evaluate("document.activeElement.dataset.before") == "yes"
    # A year that only ICD-10-PCS has can be picked.
    page.select_option("#codebook-page-year", "2023")
    page.wait_for_selector("#codebook-results >> text=ICD-10-PCS FY2023")

    # The URL follows the form, so a reload (or the link shared) opens the same search.
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("year") == ["2023"])
    query = parse_qs(urlsplit(page.url).query)
    assert query["system"] == ["pcs"] and query["q"] == ["0DTJ4ZZ"]
    page.reload()
    assert page.input_value("#codebook-page-system") == "pcs"
    assert page.input_value("#codebook-page-year") == "2023"
    assert "ICD-10-PCS FY2023" in page.locator("#codebook-results").inner_text()
