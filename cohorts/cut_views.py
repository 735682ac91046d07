"""Proposed cut changes outside the admin: a form's cut changes only when a second staff
member of its program confirms (scoring.cut_proposals), and program managers, who have no
admin, are among those who may. Anyone who may not decide a proposal gets 404 for it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cohorts.forms import CutDecisionForm
from scoring.cut_proposals import (
    cut_proposal_confirm,
    cut_proposal_reject,
    cut_proposals_decidable,
    may_decide_cut,
)
from scoring.models import AttemptResult, CutProposalStatus, ScaleConversion

RECENT = 20


@login_required
@require_GET
def cut_proposals(request):
    if not (request.user.is_superuser or request.user.program_roles.exists()):
        raise Http404("No such page.")
    proposals = cut_proposals_decidable(user=request.user)
    return render(
        request,
        "cohorts/cut_proposals.html",
        {
            "pending": list(proposals.filter(status=CutProposalStatus.PENDING)),
            "decided": list(proposals.exclude(status=CutProposalStatus.PENDING)[:RECENT]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cut_proposal(request, pk: int):
    proposal = cut_proposals_decidable(user=request.user).filter(pk=pk).first()
    if proposal is None or not may_decide_cut(request.user, proposal.form):
        raise Http404("No such proposal.")
    form = CutDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if proposal.status != CutProposalStatus.PENDING:
            form.add_error(None, "This proposal is already decided; nothing changed.")
        elif form.is_valid():
            decision, note = form.cleaned_data["decision"], form.cleaned_data["note"]
            try:
                if decision == "confirm":
                    cut_proposal_confirm(proposal=proposal, by=request.user, note=note)
                    text = (
                        f"The cut of {proposal.form} is now {proposal.cut:g}; its scored "
                        "attempts are being rescored (earlier results stay in their history)."
                    )
                else:
                    done = cut_proposal_reject(proposal=proposal, by=request.user, note=note)
                    text = f"The proposed cut is {done.get_status_display().lower()}."
            except ValidationError as exc:
                form.add_error(None, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, text)
                return redirect("cohorts:cut_proposal", proposal.pk)
        status = 400
    conversion = ScaleConversion.objects.filter(form_id=proposal.form_id).first()
    return render(
        request,
        "cohorts/cut_proposal.html",
        {
            "proposal": proposal,
            "conversion": conversion,
            "stale": conversion is not None and conversion.version != proposal.based_on_version,
            "own": proposal.proposed_by_id == request.user.pk,
            "pending": proposal.status == CutProposalStatus.PENDING,
            "scored": AttemptResult.objects.filter(
                attempt__form_id=proposal.form_id, attempt__mode="exam"
            ).count(),
            "form": form,
        },
        status=status,
    )
