"""The cut-changes page in a browser: a manager confirms a colleague's proposed cut, and
the pages pass axe-core."""

import pytest
from django.urls import reverse

from scoring.cut_proposals import cut_proposal_create
from scoring.models import ScaleConversion
from tests.a11y import assert_accessible
from tests.factories import scored_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_confirms_a_proposed_cut(
    page, live_server, login_in_browser, manager, instructor
):
    form = scored_form({1: 4}, rating=0.5, program="a", name="Program form")
    cut_proposal_create(form=form, cut=3.0, reason="Panel too lenient.", by=instructor)
    login_in_browser(page, manager)
    page.goto(f"{live_server.url}{reverse('cohorts:dashboard')}")
    page.get_by_role("link", name="Cut changes (1 waiting)").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("link", name="Program form").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Note").fill("Agreed at the panel meeting.")
    page.get_by_role("button", name="Confirm and apply this cut").click()
    page.wait_for_load_state()
    assert "The cut of Program form is now 3" in page.locator("body").inner_text()
    assert ScaleConversion.objects.get(form=form).cut == 3.0
