"""The code book pages and the in-exam panel's partials (any signed-in user).

Full pages: `codebook:search`, `codebook:code`. The panel (templates/codebook/_panel.html)
swaps `codebook:panel_search` and `codebook:panel_code` into itself with htmx, so the page
around it never navigates; without JavaScript its links open the full pages in a separate
window named "codebook".
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from codebook.models import CodeSet, CodeSystem
from codebook.selectors import code_page, code_search, codeset_in, codesets_of

SEARCH_LIMIT = 25
SYSTEMS = [(system, system.label) for system in (CodeSystem.ICD10CM, CodeSystem.ICD10PCS)]


def _requested_year(request) -> int | None:
    try:
        return int(request.GET["year"]) if request.GET.get("year") else None
    except ValueError:
        return None


def _params(request) -> dict:
    system = request.GET.get("system", CodeSystem.ICD10CM)
    if system not in CodeSystem.values:
        system = CodeSystem.ICD10CM
    year = _requested_year(request)
    sets = codesets_of(system=system)  # one query; the set and the years are picked from it
    code_set = codeset_in(sets, year) or codeset_in(sets, None)
    return {
        "q": request.GET.get("q", "").strip()[:200],
        "system": system,
        "year": code_set.year if code_set else year,
        "code_set": code_set,
        "years": [s.year for s in sets],
        "systems": SYSTEMS,
    }


def _search_context(request) -> dict:
    context = _params(request)
    # One row more than is shown tells whether the list is cut off, without counting every
    # match (a count of a word search costs as much as the search itself).
    found = (
        code_search(query=context["q"], code_set=context["code_set"], limit=SEARCH_LIMIT + 1)
        if context["q"] and context["code_set"]
        else []
    )
    context["results"] = found[:SEARCH_LIMIT]
    context["more_results"] = len(found) > SEARCH_LIMIT
    return context


@require_GET
@login_required
@vary_on_headers("HX-Request")  # the URL answers with the page or its results partial
def search(request):
    context = _search_context(request)
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        # The results, and the year select when the code set changed (years_of: the system
        # of the years the form shows), since each system has its own loaded years.
        context["swap_years"] = request.GET.get("years_of") != context["system"]
        return render(request, "codebook/search.html#htmx_update", context)
    return render(request, "codebook/search.html", context)


def _code_set_and_years(request, system: str, context: dict) -> tuple[CodeSet | None, list[int]]:
    """The code set to show a code of `system` from, and that system's loaded years.

    The code's own system decides the year: ?year= is looked up among its code sets, not
    first resolved among those of ?system= (ICD-10-CM by default), which may not have that
    year; the newest set stands in for a year that is not loaded."""
    if system == context["system"]:
        return context["code_set"], context["years"]
    sets = codesets_of(system=system)
    code_set = codeset_in(sets, _requested_year(request)) or codeset_in(sets, None)
    return code_set, [s.year for s in sets]


@require_GET
@login_required
def code(request, system: str, code: str):
    context = _params(request)
    code_set, years = _code_set_and_years(request, system, context)
    page = code_page(code=code, code_set=code_set) if code_set else None
    if page is None:
        raise Http404("No such code in the loaded code sets")
    context |= {
        "system": system,
        "years": years,
        "page": page,
        "year": page.code_set.year,
        "code_set": page.code_set,
    }
    return render(request, "codebook/code.html", context)


@require_GET
@login_required
def panel(request):
    """The whole panel, for pages that load it lazily (hx-get) instead of including it."""
    return render(request, "codebook/_panel.html", _params(request))


@require_GET
@login_required
def panel_search(request):
    return render(
        request, "codebook/_panel_results.html", _search_context(request) | {"in_panel": True}
    )


@require_GET
@login_required
def panel_code(request, system: str, code: str):
    context = _params(request)
    code_set, years = _code_set_and_years(request, system, context)
    page = code_page(code=code, code_set=code_set) if code_set else None
    if page is None:
        raise Http404("No such code in the loaded code sets")
    context |= {
        "page": page,
        "system": system,
        "years": years,
        "year": page.code_set.year,
        "code_set": page.code_set,
        "in_panel": True,
    }
    return render(request, "codebook/_panel_code.html", context)
