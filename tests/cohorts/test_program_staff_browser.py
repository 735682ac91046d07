"""The staff page in a browser: a manager adds and removes a role from the keyboard and
mouse alike, with a confirmation, and the pages pass axe-core."""

import pytest
from django.urls import reverse

from tenancy.models import ProgramStaff
from tests.a11y import assert_accessible
from tests.conftest import program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_adds_and_removes_an_instructor(page, live_server, login_in_browser, manager):
    a = program("a")
    login_in_browser(page, manager)
    page.goto(f"{live_server.url}{reverse('cohorts:dashboard')}")
    page.get_by_role("link", name="Staff of Program A").click()
    page.wait_for_load_state()
    assert_accessible(page)

    page.get_by_label("E-mail:", exact=True).fill("new.instructor@example.org")
    page.get_by_label("Role:", exact=True).select_option("instructor")
    page.get_by_label("Name:", exact=True).fill("Nia Newman")
    page.get_by_label("Name:", exact=True).press("Enter")  # submits from the keyboard
    page.wait_for_load_state()
    assert "holds the role of instructor in Program A" in page.locator("body").inner_text()
    assert page.locator("#program-staff", has_text="Nia Newman").count() == 1

    page.get_by_role("link", name="Remove the role of instructor from Nia Newman").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("button", name="Remove the role").click()
    page.wait_for_load_state()
    assert "Nia Newman no longer holds the role of instructor" in page.locator("body").inner_text()
    assert not ProgramStaff.objects.filter(program=a, user__email="new.instructor@example.org")
