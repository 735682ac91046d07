"""'Forgot password': Django's reset views with our pages, never saying who has an account."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.conftest import PASSWORD

NEW_PASSWORD = "a-new-pass-phrase-2026"


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def main(response) -> str:
    # The page's own text; the CSRF token and CSP nonce in the layout differ per response.
    return response.content.decode().split('<main id="main"')[1].split("</main>")[0]


@pytest.fixture
def with_email(candidate):
    candidate.email = "cand@example.org"
    candidate.save()
    return candidate


def test_the_login_page_links_to_forgot_password(client, db):
    page = client.get("/login/").content.decode()
    assert 'href="/password/reset/"' in page
    assert "Forgot password?" in page


@pytest.mark.django_db
def test_full_reset_through_the_email_changes_the_password(client, with_email):
    response = client.post("/password/reset/", {"email": "CAND@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cand@example.org"]
    assert message.subject == "Choose a new password for the CCS Exam Simulator"
    assert "Your username is cand." in message.body
    assert "<" not in message.body  # plain text, not HTML
    # The link redirects to a URL without the token, then shows the form.
    form_page = client.get(reset_link(message), follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == "/password/reset/done/"
    assert "Sign in" in client.get(done["Location"]).content.decode()
    with_email.refresh_from_db()
    assert with_email.check_password(NEW_PASSWORD)
    assert not with_email.check_password(PASSWORD)
    # The link works once.
    again = client.get(reset_link(message), follow=True)
    assert "This link no longer works" in again.content.decode()


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_email(client, with_email):
    known = client.post("/password/reset/", {"email": "cand@example.org"}, follow=True)
    unknown = client.post("/password/reset/", {"email": "nobody@example.org"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [("/password/reset/sent/", 302)]
    assert main(known) == main(unknown)
    assert "If an account uses that address" in unknown.content.decode()
    assert [m.to for m in mail.outbox] == [["cand@example.org"]]


@pytest.mark.django_db
def test_the_new_password_must_pass_the_validators(client, with_email):
    client.post("/password/reset/", {"email": "cand@example.org"})
    form_page = client.get(reset_link(mail.outbox[0]), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["new_password2"])
    assert "too common" in errors
    assert "entirely numeric" in errors
    with_email.refresh_from_db()
    assert with_email.check_password(PASSWORD)


@pytest.mark.django_db
def test_an_enrolled_account_that_never_chose_a_password_can_use_forgot_password(client):
    # A roster enrolment creates the account without a password and tells its owner to
    # use "Forgot password" if the enrolment link has expired.
    user = get_user_model().objects.create_user(username="enrolled", email="e@example.org")
    assert not user.has_usable_password()
    client.post("/password/reset/", {"email": "e@example.org"})
    assert [m.to for m in mail.outbox] == [["e@example.org"]]


@pytest.mark.django_db
def test_inactive_accounts_get_no_email(client):
    get_user_model().objects.create_user(
        username="judge", email="j@example.org", password=PASSWORD, is_active=False
    )
    response = client.post("/password/reset/", {"email": "j@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_the_admin_login_offers_the_same_reset(client, db):
    page = client.get("/admin/login/").content.decode()
    assert "/admin/password_reset/" in page
    assert client.get("/admin/password_reset/")["Location"] == "/password/reset/"
