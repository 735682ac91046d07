"""The policy in a real browser: our pages break none of it, and breaking it is noticed."""

import pytest

from tests.conftest import PASSWORD, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_violation_watch_sees_inline_script_and_style(browser, live_server):
    context = browser.new_context()
    violations = watch_csp(context)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    assert violations == []
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__ran = true";
          document.body.appendChild(s);
          document.body.insertAdjacentHTML("beforeend", '<p style="color:red">x</p>');
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    context.close()
    assert any("script-src" in v for v in violations), violations
    assert any("style-src" in v for v in violations), violations


def test_sign_in_reset_and_lockout_pages_run_under_the_policy(
    page, live_server, candidate, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = 2
    page.goto(f"{live_server.url}/login/")
    page.click("text=Forgot password?")
    page.fill("#id_email", "nobody@example.org")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Check your e-mail"
    page.goto(f"{live_server.url}/login/")
    for _ in range(2):
        page.fill("#id_username", "cand")
        page.fill("#id_password", "wrong")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Sign-in is locked for now"
    # htmx is loaded and configured not to inject its inline <style>.
    assert page.evaluate("window.htmx.config.includeIndicatorStyles") is False
    assert page.locator("style").count() == 0


def test_the_admin_runs_under_the_policy(page, live_server, instructor):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "instr")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    for path in (
        "/admin/",
        "/admin/questionbank/itemversion/",
        "/admin/questionbank/itemversion/add/",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.url == f"{live_server.url}{path}"
        assert page.locator("#content").count() == 1, path
