"""The cut-changes pages: a program's manager (no admin) or instructor confirms or rejects
a colleague's proposed cut; no one else reaches it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scoring.cut_proposals import cut_proposal_create
from scoring.models import CutProposal, CutProposalStatus, ScaleConversion
from tests.factories import scored_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(instructor):
    form = scored_form({1: 4}, rating=0.5, program="a", name="Program form")
    return cut_proposal_create(form=form, cut=3.0, reason="Panel too lenient.", by=instructor)


def test_a_manager_confirms_an_instructors_proposal_outside_the_admin(client, manager, proposal):
    client.force_login(manager)
    dashboard = client.get(reverse("cohorts:dashboard")).content.decode()
    assert "Cut changes (1 waiting)" in dashboard
    listing = client.get(reverse("cohorts:cut_proposals")).content.decode()
    assert "Program form" in listing and "Panel too lenient." in listing
    url = reverse("cohorts:cut_proposal", args=[proposal.pk])
    assert "Confirm and apply this cut" in client.get(url).content.decode()
    response = client.post(url, {"decision": "confirm", "note": "Agreed at the panel."})
    assert response.status_code == 302
    assert ScaleConversion.objects.get(form=proposal.form).cut == 3.0
    proposal.refresh_from_db()
    assert proposal.status == CutProposalStatus.CONFIRMED and proposal.decided_by == manager


def test_the_proposer_sees_no_confirm_button_and_is_refused_in_place(client, instructor, proposal):
    client.force_login(instructor)
    url = reverse("cohorts:cut_proposal", args=[proposal.pk])
    html = client.get(url).content.decode()
    assert "Confirm and apply this cut" not in html and "Withdraw the proposal" in html
    response = client.post(url, {"decision": "confirm"})
    assert response.status_code == 400
    assert "a different member of the program must confirm it" in response.content.decode()
    assert ScaleConversion.objects.get(form=proposal.form).cut != 3.0
    assert client.post(url, {"decision": "reject"}).status_code == 302
    assert CutProposal.objects.get(pk=proposal.pk).status == CutProposalStatus.WITHDRAWN


def test_a_rejection_without_a_reason_is_refused_and_nothing_changes(client, reviewer, proposal):
    client.force_login(reviewer)
    url = reverse("cohorts:cut_proposal", args=[proposal.pk])
    response = client.post(url, {"decision": "reject", "note": ""})
    assert response.status_code == 400 and "Say why" in response.content.decode()
    assert CutProposal.objects.get(pk=proposal.pk).status == CutProposalStatus.PENDING
    bad = client.post(url, {"decision": "maybe"})
    assert bad.status_code == 400
    assert CutProposal.objects.get(pk=proposal.pk).status == CutProposalStatus.PENDING


def test_other_programs_staff_and_candidates_get_404(client, manager_b, candidate, proposal):
    url = reverse("cohorts:cut_proposal", args=[proposal.pk])
    for outsider in (manager_b, candidate):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, {"decision": "confirm"}).status_code == 404
    client.force_login(manager_b)
    assert "Program form" not in client.get(reverse("cohorts:cut_proposals")).content.decode()
    client.force_login(candidate)
    assert client.get(reverse("cohorts:cut_proposals")).status_code == 404
    assert ScaleConversion.objects.get(form=proposal.form).cut != 3.0


def test_a_decided_proposal_cannot_be_decided_again(client, manager, reviewer, proposal):
    client.force_login(reviewer)
    url = reverse("cohorts:cut_proposal", args=[proposal.pk])
    client.post(url, {"decision": "reject", "note": "The panel stands."})
    client.force_login(manager)
    response = client.post(url, {"decision": "confirm"})
    assert response.status_code == 400 and "already decided" in response.content.decode()
    assert ScaleConversion.objects.get(form=proposal.form).cut != 3.0
