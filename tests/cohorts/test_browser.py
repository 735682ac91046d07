"""What only a browser shows: the manager's populated dashboard, and nothing of others'."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sees_the_populated_dashboard_and_not_another_managers_cohort(
    page, live_server, login_in_browser, hand_cohort, manager
):
    login_in_browser(page, manager)
    page.goto(f"{live_server.url}{reverse('cohorts:dashboard')}")
    row = page.locator("#cohort-list tr", has_text="Cohort A")
    assert row.locator(".first-rate").inner_text() == "33%"
    assert row.locator(".best-rate").inner_text() == "67%"
    assert page.locator("#cohort-list", has_text="Cohort B").count() == 0

    row.get_by_role("link", name="Cohort A").click()
    page.wait_for_load_state()
    assert page.locator("#first-pass-rate").inner_text() == "33%"
    assert page.locator("#best-pass-rate").inner_text() == "67%"
    assert page.get_by_role("img", name="Score distribution").is_visible()
    assert page.locator("#readiness tbody tr").first.inner_text().startswith("Carol")

    response = page.goto(
        f"{live_server.url}{reverse('cohorts:detail', args=[hand_cohort['cohort_b'].pk])}"
    )
    assert response.status == 404


def test_manager_finds_and_removes_a_member_after_confirming(
    page, live_server, login_in_browser, hand_cohort, manager
):
    login_in_browser(page, manager)
    members = reverse("cohorts:members", args=[hand_cohort["cohort"].pk])
    page.goto(f"{live_server.url}{members}")
    page.get_by_label("Find a member").fill("dave")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.locator("#members tbody tr").count() == 1

    page.get_by_role("link", name="Remove Dave from the cohort").click()
    page.wait_for_load_state()
    assert "Remove Dave from Cohort A?" in page.locator("h2#remove-h").inner_text()
    page.get_by_role("button", name="Remove from cohort").click()
    page.wait_for_load_state()
    assert "Dave was removed from Cohort A" in page.locator("body").inner_text()
    assert "q=dave" in page.url  # back to the search it came from
    assert page.locator("#members tbody tr").count() == 0
    assert page.get_by_text("No member matches “dave”.").is_visible()
