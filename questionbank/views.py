"""The bank's own pages outside the admin."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from questionbank.coding import case_drg
from questionbank.models import Case


@require_GET
@permission_required("questionbank.view_case", raise_exception=True)
def case_drg_page(request, key: str):
    """A case's correct coding and the MS-DRG it groups to (authors only: it is an answer)."""
    # Shared cases and the user's programs' own: another program's case is not found.
    case = get_object_or_404(Case.objects.visible_to(request.user), key=key)
    return render(request, "questionbank/case_drg.html", {"case": case, "drg": case_drg(case)})
