"""Code book pages and the in-exam panel partials: signed-in users only."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from questionbank.factories import CaseFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def signed_in(client, candidate):
    client.login(username=candidate.username, password=PASSWORD)
    return client


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
    url = reverse("codebook:case_drg", args=[case.key])
    client.login(username=candidate.username, password=PASSWORD)
    assert client.get(url).status_code == 403
    client.login(username=instructor.username, password=PASSWORD)
    body = client.get(url).content.decode()
    assert "MS-DRG 871" in body and "relative weight" in body


def test_code_page_of_another_system_opens_the_year_asked_for(signed_in, codesets):
    from codebook.models import Code, CodeSet

    # A PCS year that ICD-10-CM (the default ?system=) does not have.
    pcs_2026 = CodeSet.objects.get(system="pcs", year=2026)
    pcs_2027 = CodeSet.objects.create(
        system="pcs", year=2027, source="test copy", checksum="t", complete=False
    )
    code = Code.objects.get(code_set=pcs_2026, code="0DTJ4ZZ")
    code.pk, code.code_set = None, pcs_2027
    code.save()
    assert not CodeSet.objects.filter(system="cm", year=2027).exists()

    url = reverse("codebook:code", args=["pcs", "0DTJ4ZZ"])
    page_2027 = signed_in.get(url, {"year": 2027})
    assert page_2027.context["code_set"] == pcs_2027
    # The "other years" links are the code's own system's, and each opens its year.
    body = page_2027.content.decode()
    assert f'href="{url}?year=2026"' in body
    assert signed_in.get(url, {"year": 2026}).context["code_set"] == pcs_2026
