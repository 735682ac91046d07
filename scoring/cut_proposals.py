"""Two people change a cut score: one proposes, a different one confirms or rejects.

A form's cut decides who passes, in every attempt scored on it, so no one changes it
alone (issue 12). One staff member of the form's program proposes a new cut with the
reason; a different staff member of the same program (an instructor or a manager; the
platform operator for a shared form, or for any program) confirms it, and only then is it
applied, through `scoring.services.form_cut_override` (a new conversion version, and the
form's scored attempts rescored). A confirmation is refused when the table has changed
since the proposal (it would apply a change to a table the proposer never saw). Every
proposal, confirmation, rejection and withdrawal is a historical record (the audit trail).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.lifecycle import log_event
from exams.models import ExamForm
from psychometrics.scale import conversion_table
from scoring.models import CutProposal, CutProposalStatus, ScaleConversion
from scoring.services import form_cut_override
from tenancy.audit import with_actor
from tenancy.scoping import INSTRUCTOR, MANAGER, holds_role, is_operator, program_q

SHARED_FORM_REFUSAL = (
    "A shared form's cut is the platform operator's: every program's candidates are scored by it."
)


def may_decide_cut(user, form: ExamForm) -> bool:
    """May `user` propose, confirm or reject a cut of `form`? Its program's instructors and
    managers (the operator: any form, shared ones only them)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_operator(user):
        return True
    program_id = form.owner_program_id
    if program_id is None:
        return False
    return holds_role(user, program_id, INSTRUCTOR) or holds_role(user, program_id, MANAGER)


def _check_may_decide(user, form: ExamForm) -> None:
    if form.owner_program_id is None and not is_operator(user):
        raise PermissionDenied(SHARED_FORM_REFUSAL)
    if not may_decide_cut(user, form):
        raise PermissionDenied("Only the staff of the form's program may decide its cut.")


def _who(user) -> str:
    return user.get_full_name() or user.get_username()


@transaction.atomic
def cut_proposal_create(
    *, form: ExamForm, cut: float, reason: str, by, now: dt.datetime | None = None
) -> CutProposal:
    """Propose a new cut for a published form; nothing changes until someone else confirms."""
    _check_may_decide(by, form)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give the reason for the new cut; it is kept on record.")
    conversion = ScaleConversion.objects.select_for_update().filter(form=form).first()
    if conversion is None:
        raise ValidationError(f"{form} has no conversion table yet; publish it first.")
    try:
        cut = float(cut)
        conversion_table(conversion.max_raw, cut)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"The cut is a raw score: a number greater than 0 and less than "
            f"{conversion.max_raw:g}, the form's highest raw score."
        ) from exc
    if abs(cut - conversion.cut) < 1e-9:
        raise ValidationError(f"{cut:g} is already the cut of {form}.")
    if CutProposal.objects.pending().filter(form=form).exists():
        raise ValidationError(
            f"A new cut for {form} is already waiting for a second person: confirm, reject or "
            "withdraw it first."
        )
    proposal = CutProposal(
        form=form,
        cut=cut,
        reason=reason,
        based_on_version=conversion.version,
        previous_cut=conversion.cut,
        proposed_by=by,
        proposed_at=now or timezone.now(),
    )
    with_actor(proposal, by, f"Cut {cut:g} proposed: {reason}")
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError as exc:  # a concurrent proposal won the one pending slot
        raise ValidationError(
            f"A new cut for {form} is already waiting for a second person."
        ) from exc
    log_event("cut.proposed", proposal_id=proposal.pk, form_id=form.pk, by_id=by.pk)
    return proposal


def _pending(proposal: CutProposal) -> CutProposal:
    locked = (
        CutProposal.objects.select_for_update()
        .select_related("form", "proposed_by")
        .get(pk=proposal.pk)
    )
    if locked.status != CutProposalStatus.PENDING:
        raise ValidationError(
            f"This proposal is already {locked.get_status_display().lower()}; nothing changed."
        )
    return locked


@transaction.atomic
def cut_proposal_confirm(
    *, proposal: CutProposal, by, note: str = "", now: dt.datetime | None = None
) -> ScaleConversion:
    """A second person confirms: the cut is applied (new conversion version, rescoring)."""
    proposal = _pending(proposal)
    form = proposal.form
    _check_may_decide(by, form)
    if by.pk == proposal.proposed_by_id:
        raise PermissionDenied(
            "You proposed this cut: a different member of the program must confirm it."
        )
    conversion = ScaleConversion.objects.select_for_update().get(form=form)
    if conversion.version != proposal.based_on_version:
        raise ValidationError(
            f"The conversion table of {form} has changed since this cut was proposed "
            f"(version {proposal.based_on_version} then, {conversion.version} now): reject it "
            "and propose again against the current table."
        )
    now = now or timezone.now()
    note = (note or "").strip()
    applied = form_cut_override(
        form=form,
        cut=proposal.cut,
        reason=(
            f"{proposal.reason} (proposed by {_who(proposal.proposed_by)}, confirmed by "
            f"{_who(by)}{f': {note}' if note else ''})"
        ),
        by=by,
        now=now,
    )
    proposal.status = CutProposalStatus.CONFIRMED
    proposal.decided_by = by
    proposal.decided_at = now
    proposal.decision_note = note
    with_actor(proposal, by, f"Cut {proposal.cut:g} confirmed and applied")
    proposal.save()
    log_event("cut.confirmed", proposal_id=proposal.pk, form_id=form.pk, by_id=by.pk)
    return applied


@transaction.atomic
def cut_proposal_reject(
    *, proposal: CutProposal, by, note: str = "", now: dt.datetime | None = None
) -> CutProposal:
    """Someone else rejects the proposal (with a reason), or the proposer withdraws it;
    the table is left as it is."""
    proposal = _pending(proposal)
    _check_may_decide(by, proposal.form)
    note = (note or "").strip()
    own = by.pk == proposal.proposed_by_id
    if not own and not note:
        raise ValidationError("Say why the proposed cut is rejected; it is kept on record.")
    proposal.status = CutProposalStatus.WITHDRAWN if own else CutProposalStatus.REJECTED
    proposal.decided_by = by
    proposal.decided_at = now or timezone.now()
    proposal.decision_note = note
    with_actor(
        proposal,
        by,
        f"Cut {proposal.cut:g} {'withdrawn' if own else 'rejected'}{f': {note}' if note else ''}",
    )
    proposal.save()
    log_event(
        "cut." + proposal.status, proposal_id=proposal.pk, form_id=proposal.form_id, by_id=by.pk
    )
    return proposal


def cut_proposals_decidable(*, user):
    """Cut proposals of the programs the user holds a role in, newest first (the operator:
    all, shared forms' included). A shared form's are the operator's alone, so they are
    left out for everyone else, as `may_decide_cut` says."""
    return (
        CutProposal.objects.filter(program_q(user, "form__owner_program"))
        .select_related("form", "proposed_by", "decided_by")
        .order_by("-proposed_at", "-pk")
    )
