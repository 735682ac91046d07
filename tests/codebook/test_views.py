"""Code book pages and the in-exam panel partials: signed-in users only."""

from itertools import pairwise

import pytest
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.urls import reverse

from codebook import views
from codebook.models import Code, CodeSet
from codebook.selectors import code_search
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
HTMX = {"HTTP_HX_REQUEST": "true"}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@pytest.fixture
def signed_in(client, candidate):
    client.login(username=candidate.username, password=PASSWORD)
    return client


def descendants(node) -> list:
    """`node` and every element under it, in document order (django.test.html's tree)."""
    if isinstance(node, str):
        return []
    return [node, *(e for child in node.children for e in descendants(child))]


def elements(html, name: str) -> list:
    """The `name` elements of `html` (markup, or a node of the tree), in document order."""
    root = parse_html(html) if isinstance(html, str) else html
    return [e for e in descendants(root) if e.name == name]


def text_of(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(" ".join(text_of(child) for child in node.children).split())


def year_choices(html: str) -> list[dict]:
    """Each year choice of the search form (#codebook-page-years): its attributes, the years
    offered and selected, and the system they are said to be of."""
    found = []
    for block in descendants(parse_html(html)):
        attrs = dict(getattr(block, "attributes", []))
        if attrs.get("id") != "codebook-page-years":
            continue
        options = [dict(o.attributes) for o in elements(block, "option")]
        [years_of] = [
            dict(i.attributes)["value"]
            for i in elements(block, "input")
            if dict(i.attributes)["name"] == "years_of"
        ]
        found.append(
            {
                "attrs": attrs,
                "years": [int(o["value"]) for o in options],
                "selected": [int(o["value"]) for o in options if "selected" in o],
                "of": years_of,
            }
        )
    return found


def years_of(system: str) -> list[int]:
    return list(
        CodeSet.objects.filter(system=system).order_by("-year").values_list("year", flat=True)
    )


def copy_to_year(system: str, codes: list[str], year: int) -> CodeSet:
    """A code set of `year` holding copies of `codes` from the system's 2026 set."""
    source = CodeSet.objects.get(system=system, year=2026)
    copy = CodeSet.objects.create(
        system=system, year=year, source="test copy", checksum="t", complete=False
    )
    for code in Code.objects.filter(code_set=source, code__in=codes):
        code.pk, code.code_set = None, copy
        code.save()
    return copy


@pytest.mark.parametrize(
    "url",
    [
        reverse("codebook:search") + "?q=sepsis",
        reverse("codebook:code", args=["cm", "A419"]),
        reverse("codebook:panel"),
        reverse("codebook:panel_search") + "?q=A41",
        reverse("codebook:panel_code", args=["cm", "A419"]),
    ],
)
def test_pages_require_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_search_page_lists_results_with_links(signed_in, codesets):
    response = signed_in.get(reverse("codebook:search"), {"q": "A41.9", "year": 2026})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<!doctype html>" in body.lower()
    assert reverse("codebook:code", args=["cm", "A419"]) in body


def test_search_page_answers_htmx_with_the_results_partial(signed_in, codesets):
    response = signed_in.get(reverse("codebook:search"), {"q": "sepsis"}, **HTMX)
    body = response.content.decode()
    assert 'id="codebook-results"' in body and "<html" not in body


def test_code_page_shows_hierarchy_notes_and_children(signed_in, codesets):
    response = signed_in.get(reverse("codebook:code", args=["cm", "A41"]), {"year": 2026})
    body = response.content.decode()
    assert "Other sepsis" in body and "Excludes1" in body and "Code first" in body
    assert "A41.9" in body and "Chapter 1" in body
    seventh = signed_in.get(reverse("codebook:code", args=["cm", "S72001A"])).content.decode()
    assert "7th characters" in seventh and "initial encounter for closed fracture" in seventh


def test_unknown_code_is_404(signed_in, codesets):
    assert signed_in.get(reverse("codebook:code", args=["cm", "Z99999"])).status_code == 404


def test_panel_partial_searches_and_shows_details_inside_itself(signed_in, codesets):
    panel = signed_in.get(reverse("codebook:panel"), {"year": 2026}).content.decode()
    assert "data-codebook-panel" in panel and "<html" not in panel
    assert 'hx-get="' + reverse("codebook:panel_search") in panel
    assert 'target="codebook"' in panel  # without JavaScript: opens beside the exam

    results = signed_in.get(reverse("codebook:panel_search"), {"q": "A41", "year": 2026}, **HTMX)
    body = results.content.decode()
    assert reverse("codebook:panel_code", args=["cm", "A41"]) in body
    assert 'hx-target="closest [data-codebook-body]"' in body
    assert 'href="' + reverse("codebook:code", args=["cm", "A41"]) in body  # a real link too

    detail = signed_in.get(
        reverse("codebook:panel_code", args=["cm", "A419"]), {"q": "A41"}, **HTMX
    )
    body = detail.content.decode()
    assert "Sepsis, unspecified organism" in body and "Back to results" in body
    assert 'id="codebook-code-title"' in body and "<html" not in body


def test_panel_include_renders_without_view_context(rf, candidate, codesets):
    request = rf.get("/")
    request.user = candidate
    html = render_to_string("codebook/_panel.html", {"year": 2026, "system": "cm"}, request=request)
    assert 'name="year" value="2026"' in html and "ICD-10-PCS" in html


def test_pcs_code_page_shows_axes(signed_in, codesets):
    body = signed_in.get(
        reverse("codebook:code", args=["pcs", "0DTJ4ZZ"]), {"year": 2026}
    ).content.decode()
    assert "Percutaneous Endoscopic" in body and "Body Part" in body and "Appendix" in body


def test_case_drg_page_is_for_authors_only(client, candidate, instructor, codesets):
    case = CaseFactory(
        key="IP-DRG", coding={"principal_diagnosis": "A41.9", "secondary_diagnoses": ["J96.01"]}
    )
    url = reverse("questionbank:case_drg", args=[case.key])
    client.login(username=candidate.username, password=PASSWORD)
    assert client.get(url).status_code == 403
    client.login(username=instructor.username, password=PASSWORD)
    body = client.get(url).content.decode()
    assert "MS-DRG 871" in body and "relative weight" in body


def test_code_page_of_another_system_opens_the_year_asked_for(signed_in, codesets):
    # A PCS year that ICD-10-CM (the default ?system=) does not have.
    pcs_2026 = CodeSet.objects.get(system="pcs", year=2026)
    pcs_2027 = copy_to_year("pcs", ["0DTJ4ZZ"], 2027)
    assert not CodeSet.objects.filter(system="cm", year=2027).exists()

    url = reverse("codebook:code", args=["pcs", "0DTJ4ZZ"])
    page_2027 = signed_in.get(url, {"year": 2027})
    assert page_2027.context["code_set"] == pcs_2027
    # The "other years" links are the code's own system's, and each opens its year.
    body = page_2027.content.decode()
    assert f'href="{url}?year=2026"' in body
    assert signed_in.get(url, {"year": 2026}).context["code_set"] == pcs_2026


def test_changing_the_code_set_swaps_in_its_years(signed_in, codesets):
    copy_to_year("pcs", ["0DTJ4ZZ"], 2023)  # a year that only ICD-10-PCS has
    cm_years, pcs_years = years_of("cm"), years_of("pcs")
    assert 2023 in pcs_years and 2023 not in cm_years and 2026 in cm_years
    url = reverse("codebook:search")

    # The form's htmx request after Code set is changed to ICD-10-PCS: the year select still
    # holds ICD-10-CM years, and the answer brings the PCS years with it, out of band.
    answer = signed_in.get(
        url, {"system": "pcs", "year": 2026, "years_of": "cm", "q": "0DTJ4ZZ"}, **HTMX
    )
    body = answer.content.decode()
    assert "<html" not in body and 'id="codebook-results"' in body
    assert "in ICD-10-PCS FY2026" in body
    [choice] = year_choices(body)
    assert choice["attrs"]["hx-swap-oob"] == "true" and choice["of"] == "pcs"
    assert choice["years"] == pcs_years and choice["selected"] == [2026]

    # Back to ICD-10-CM with the PCS-only year chosen: the CM years, the newest selected.
    back = {"system": "cm", "year": 2023, "years_of": "pcs"}
    [choice] = year_choices(signed_in.get(url, back, **HTMX).content.decode())
    assert choice["years"] == cm_years and choice["selected"] == [cm_years[0]]
    assert choice["of"] == "cm"

    # The code set unchanged (typing, picking a year): the year select is left alone.
    same = {"system": "pcs", "year": 2023, "years_of": "pcs", "q": "0DT"}
    assert year_choices(signed_in.get(url, same, **HTMX).content.decode()) == []


def test_search_page_url_follows_the_form_and_works_without_javascript(signed_in, codesets):
    copy_to_year("pcs", ["0DTJ4ZZ"], 2023)
    url = reverse("codebook:search")
    page = signed_in.get(url, {"system": "pcs", "year": 2023, "years_of": "cm", "q": "0DT"})
    body = page.content.decode()
    [form] = [f for f in elements(body, "form") if ("role", "search") in f.attributes]
    assert dict(form.attributes)["hx-replace-url"] == "true"
    # Submitted without JavaScript, the page has one year choice, of the system asked for.
    [choice] = year_choices(body)
    assert "hx-swap-oob" not in choice["attrs"] and choice["of"] == "pcs"
    assert choice["years"] == years_of("pcs") and choice["selected"] == [2023]
    assert "in ICD-10-PCS FY2023" in body
    # The same URL answers htmx with a partial: a browser must not reuse one for the other
    # (Back, reload), so the answer varies with HX-Request.
    assert "HX-Request" in page["Vary"]
    assert "HX-Request" in signed_in.get(url, {"q": "0DT"}, **HTMX)["Vary"]


def test_history_restore_gets_the_whole_search_page(signed_in, codesets):
    response = signed_in.get(
        reverse("codebook:search"),
        {"q": "sepsis"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<!doctype html>" in response.content.decode().lower()


def test_panel_code_opens_the_year_asked_for_in_the_codes_system(signed_in, codesets):
    pcs_2023 = copy_to_year("pcs", ["0SRR019"], 2023)
    assert not CodeSet.objects.filter(system="cm", year=2023).exists()
    url = reverse("codebook:panel_code", args=["pcs", "0SRR019"])

    response = signed_in.get(url, {"year": 2023}, **HTMX)
    assert response.context["page"].code_set == pcs_2023
    assert "ICD-10-PCS FY2023" in response.content.decode()
    # A year that is not loaded: the newest set, as on the full code page.
    newest = signed_in.get(url, {"year": 1999}, **HTMX).context["page"].code_set
    assert newest == CodeSet.objects.filter(system="pcs").order_by("-year").first()


@pytest.mark.parametrize("name", ["codebook:search", "codebook:panel_search"])
def test_results_cut_off_at_the_limit_say_so(signed_in, codesets, monkeypatch, name):
    matches = len(code_search(query="A41", year=2026, limit=1000))
    assert matches > 2

    def shown(limit):
        monkeypatch.setattr(views, "SEARCH_LIMIT", limit)
        body = signed_in.get(reverse(name), {"q": "A41", "year": 2026}, **HTMX).content.decode()
        [results] = [
            ol for ol in elements(body, "ol") if "data-codebook-results" in dict(ol.attributes)
        ]
        [count] = [p for p in elements(body, "p") if ("class", "codebook-count") in p.attributes]
        return len(elements(str(results), "li")), text_of(count)

    rows, count = shown(matches - 1)
    assert rows == matches - 1
    assert count.startswith(f"First {matches - 1} matches in ICD-10-CM FY2026")
    assert "refine the search" in count
    rows, count = shown(matches)  # every match fits: nothing is left out
    assert rows == matches and count == f"{matches} results in ICD-10-CM FY2026"


def test_search_page_says_when_the_default_limit_cuts_results_off(signed_in, codesets):
    assert len(code_search(query="sepsis", year=2026, limit=1000)) > views.SEARCH_LIMIT
    body = signed_in.get(reverse("codebook:search"), {"q": "sepsis"}).content.decode()
    assert f"First {views.SEARCH_LIMIT} matches" in body


def test_code_page_has_the_code_and_its_title_as_h1(signed_in, codesets):
    body = signed_in.get(reverse("codebook:code", args=["cm", "A419"])).content.decode()
    [h1] = elements(body, "h1")
    assert text_of(h1) == "A41.9 Sepsis, unspecified organism"
    # Headings go down one level at a time (no h1 -> h3 jump).
    [article] = elements(body, "article")
    levels = [int(e.name[1]) for e in descendants(article) if e.name in HEADINGS]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))
    # In the panel, beside an exam page that has its own h1, the title stays an h2.
    panel = signed_in.get(reverse("codebook:panel_code", args=["cm", "A419"]), **HTMX)
    assert not elements(panel.content.decode(), "h1")
    assert text_of(elements(panel.content.decode(), "h2")[0]).startswith("A41.9 Sepsis")


def test_case_drg_page_says_which_query_answer_the_coding_assumes(client, instructor, codesets):
    case = CaseFactory(
        key="IP-Q",
        coding={
            "principal_diagnosis": "A41.9",
            "secondary_diagnoses": ["J96.01"],
            "assumes_query_answer": "The attending confirms acute hypoxic respiratory failure.",
        },
    )
    client.login(username=instructor.username, password=PASSWORD)
    body = client.get(reverse("questionbank:case_drg", args=[case.key])).content.decode()
    assert "Assumes the query answer" in body
    assert "The attending confirms acute hypoxic respiratory failure." in body
    admin_page = client.get(f"/admin/questionbank/case/{case.pk}/change/").content.decode()
    assert "The attending confirms acute hypoxic respiratory failure." in admin_page
