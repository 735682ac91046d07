"""Two people change a cut: one proposes, a different member of the program confirms."""

from __future__ import annotations

import pathlib
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cohorts.audit import audit_trail
from psychometrics.scale import conversion_table
from questionbank.models import ItemVersion
from questionbank.services import angoff_rating_set
from scoring import services
from scoring.cut_proposals import cut_proposal_confirm, cut_proposal_create, cut_proposal_reject
from scoring.models import ConversionMethod, CutProposal, CutProposalStatus, ScaleConversion
from tests.conftest import make_user
from tests.factories import operational_versions, scored_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(django_user_model):
    return make_user(django_user_model, "instr2", "Instructor", staff=True)


@pytest.fixture
def form():
    return scored_form({1: 4}, rating=0.5, program="a")


def test_a_proposal_changes_nothing_until_a_colleague_confirms_it(form, instructor, colleague):
    before = ScaleConversion.objects.get(form=form)
    proposal = cut_proposal_create(form=form, cut=3.0, reason="Panel too lenient.", by=instructor)

    after = ScaleConversion.objects.get(form=form)
    assert (after.cut, after.version, after.method) == (before.cut, before.version, before.method)
    assert proposal.status == CutProposalStatus.PENDING
    assert proposal.based_on_version == before.version

    applied = cut_proposal_confirm(proposal=proposal, by=colleague, note="Agreed.")

    applied.refresh_from_db()
    assert applied.cut == 3.0 and applied.method == ConversionMethod.OVERRIDE
    assert applied.version == before.version + 1
    assert applied.table == conversion_table(4, 3.0)
    assert applied.overridden_by == colleague
    assert "proposed by Instr" in applied.override_reason
    proposal.refresh_from_db()
    assert proposal.status == CutProposalStatus.CONFIRMED and proposal.decided_by == colleague


def test_the_proposer_cannot_confirm_their_own_proposal(form, instructor):
    proposal = cut_proposal_create(form=form, cut=3.0, reason="Too lenient.", by=instructor)
    with pytest.raises(PermissionDenied, match="different member"):
        cut_proposal_confirm(proposal=proposal, by=instructor)
    assert ScaleConversion.objects.get(form=form).cut != 3.0
    assert CutProposal.objects.get(pk=proposal.pk).status == CutProposalStatus.PENDING


def test_a_manager_of_the_program_may_confirm(form, instructor, manager):
    proposal = cut_proposal_create(form=form, cut=3.0, reason="Too lenient.", by=instructor)
    cut_proposal_confirm(proposal=proposal, by=manager)
    assert ScaleConversion.objects.get(form=form).cut == 3.0


def test_staff_of_another_program_and_candidates_cannot_decide(
    form, instructor, manager_b, candidate, django_user_model
):
    instr_b = make_user(django_user_model, "instr-b", "Instructor", staff=True, program_slug="b")
    with pytest.raises(PermissionDenied):
        cut_proposal_create(form=form, cut=3.0, reason="x", by=instr_b)
    proposal = cut_proposal_create(form=form, cut=3.0, reason="Too lenient.", by=instructor)
    for outsider in (instr_b, manager_b, candidate):
        with pytest.raises(PermissionDenied):
            cut_proposal_confirm(proposal=proposal, by=outsider)
        with pytest.raises(PermissionDenied):
            cut_proposal_reject(proposal=proposal, by=outsider, note="no")
    assert ScaleConversion.objects.get(form=form).cut != 3.0


def test_a_stale_proposal_is_refused_on_confirm(form, instructor, colleague, admin_user):
    proposal = cut_proposal_create(form=form, cut=3.0, reason="Too lenient.", by=instructor)
    # The table changes meanwhile (here by the operator's override path).
    services.form_cut_override(form=form, cut=2.5, reason="operator", by=admin_user)
    with pytest.raises(ValidationError, match="has changed since"):
        cut_proposal_confirm(proposal=proposal, by=colleague)
    assert ScaleConversion.objects.get(form=form).cut == 2.5
    assert CutProposal.objects.get(pk=proposal.pk).status == CutProposalStatus.PENDING
    cut_proposal_reject(proposal=proposal, by=colleague, note="Stale.")
    assert CutProposal.objects.get(pk=proposal.pk).status == CutProposalStatus.REJECTED


def test_rejection_needs_a_reason_withdrawal_does_not_and_neither_changes_the_table(
    form, instructor, colleague
):
    proposal = cut_proposal_create(form=form, cut=3.0, reason="Too lenient.", by=instructor)
    with pytest.raises(ValidationError, match="why"):
        cut_proposal_reject(proposal=proposal, by=colleague, note=" ")
    rejected = cut_proposal_reject(proposal=proposal, by=colleague, note="The panel stands.")
    assert rejected.status == CutProposalStatus.REJECTED
    with pytest.raises(ValidationError, match="already rejected"):
        cut_proposal_confirm(proposal=proposal, by=colleague)
    second = cut_proposal_create(form=form, cut=3.5, reason="Again.", by=instructor)
    assert cut_proposal_reject(proposal=second, by=instructor).status == CutProposalStatus.WITHDRAWN
    assert ScaleConversion.objects.get(form=form).method == ConversionMethod.ANGOFF


def test_one_open_proposal_per_form_and_bad_input_is_refused(form, instructor):
    with pytest.raises(ValidationError, match="reason"):
        cut_proposal_create(form=form, cut=3.0, reason=" ", by=instructor)
    for bad in (4, 0, "soon"):
        with pytest.raises(ValidationError, match="greater than 0 and less than 4"):
            cut_proposal_create(form=form, cut=bad, reason="x", by=instructor)
    cut_proposal_create(form=form, cut=3.0, reason="x", by=instructor)
    with pytest.raises(ValidationError, match="already waiting"):
        cut_proposal_create(form=form, cut=3.5, reason="y", by=instructor)
    assert CutProposal.objects.count() == 1


def test_a_shared_forms_cut_needs_two_operators(instructor, admin_user, django_user_model):
    shared = scored_form({1: 4}, rating=0.5, name="Shared")
    with pytest.raises(PermissionDenied, match="platform operator"):
        cut_proposal_create(form=shared, cut=3.0, reason="x", by=instructor)
    proposal = cut_proposal_create(form=shared, cut=3.0, reason="x", by=admin_user)
    with pytest.raises(PermissionDenied, match="different member"):
        cut_proposal_confirm(proposal=proposal, by=admin_user)
    with pytest.raises(PermissionDenied):
        cut_proposal_confirm(proposal=proposal, by=instructor)
    other_operator = django_user_model.objects.create_superuser("op2", "op2@example.org", "pw")
    cut_proposal_confirm(proposal=proposal, by=other_operator)
    assert ScaleConversion.objects.get(form=shared).cut == 3.0


def test_proposal_confirmation_and_rejection_are_in_the_audit_trail(form, instructor, colleague):
    first = cut_proposal_create(form=form, cut=3.5, reason="First try.", by=instructor)
    cut_proposal_reject(proposal=first, by=colleague, note="Too strict.")
    second = cut_proposal_create(form=form, cut=3.0, reason="Second try.", by=instructor)
    cut_proposal_confirm(proposal=second, by=colleague)

    lines = audit_trail(user=instructor, kind="scoring.cutproposal")
    reasons = [line.reason for line in lines]
    assert any(r.startswith("Cut 3.5 proposed") for r in reasons)
    assert any(r.startswith("Cut 3.5 rejected: Too strict.") for r in reasons)
    assert any(r.startswith("Cut 3 confirmed") for r in reasons)
    confirmed = next(line for line in lines if line.reason.startswith("Cut 3 confirmed"))
    assert confirmed.who == colleague.get_full_name()
    status = next(c for c in confirmed.changes if c.field == "status")
    assert (status.before, status.after) == ("pending", "confirmed")
    # The applied table is audited too, by the confirmer.
    tables = audit_trail(user=instructor, kind="scoring.scaleconversion")
    assert any(line.who == colleague.get_full_name() for line in tables)


def test_the_admin_proposes_and_a_colleague_confirms(client, form, instructor, colleague):
    conversion = ScaleConversion.objects.get(form=form)
    client.force_login(instructor)
    page = client.get(reverse("admin:scoring_scaleconversion_change", args=[conversion.pk]))
    assert "Propose a new cut" in page.content.decode()
    response = client.post(
        reverse("admin:scoring_scaleconversion_propose", args=[conversion.pk]),
        {"cut": "3", "reason": "Too lenient."},
    )
    proposal = CutProposal.objects.get()
    assert response.status_code == 302
    decide = reverse("admin:scoring_cutproposal_decide", args=[proposal.pk])
    own = client.get(decide).content.decode()
    assert "Confirm and apply" not in own and "Withdraw" in own
    client.post(decide, {"decision": "confirm"})
    assert ScaleConversion.objects.get(form=form).cut != 3.0

    client.force_login(colleague)
    response = client.post(decide, {"decision": "confirm", "note": "Agreed."})
    assert response.status_code == 302
    assert ScaleConversion.objects.get(form=form).cut == 3.0


def test_the_conversion_admin_has_no_one_person_route_to_a_cut(client, form, instructor):
    conversion = ScaleConversion.objects.get(form=form)
    client.force_login(instructor)
    url = reverse("admin:scoring_scaleconversion_change", args=[conversion.pk])
    response = client.post(url, {"cut": "3", "method": "override"})
    assert response.status_code == 403
    assert ScaleConversion.objects.get(form=form).cut != 3.0


def test_only_the_confirmation_calls_the_one_person_override():
    """form_cut_override applies a cut alone; product code reaches it only through a
    confirmed proposal (scoring.cut_proposals) or its own re-equating cascade."""
    root = pathlib.Path(__file__).resolve().parents[2]
    callers = set()
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in ("tests", ".venv", "benchmarks", "node_modules"):
            continue
        if re.search(r"\bform_cut_override\(", path.read_text(encoding="utf-8")):
            callers.add(str(path.relative_to(root)))
    assert callers == {"scoring/services.py", "scoring/cut_proposals.py"}


def test_angoff_ratings_after_publication_leave_the_cut_alone(form, admin_user):
    """A published form's table is built once, at publication: a judge's later ratings
    (by hand or by an import of their own) are no route to a new cut."""
    before = ScaleConversion.objects.get(form=form)
    for version_id in operational_versions(form):
        angoff_rating_set(
            # The form's items are the shared bank's: only the operator rates them.
            version=ItemVersion.objects.get(pk=version_id),
            judge=admin_user,
            rating="0.99",
        )
    after = ScaleConversion.objects.get(form=form)
    assert (after.cut, after.version, after.table) == (before.cut, before.version, before.table)
