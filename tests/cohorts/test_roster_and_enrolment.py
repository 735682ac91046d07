"""Adding candidates: rosters (all or nothing, errors by line), one by one, and codes."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cohorts import services
from cohorts.models import Membership

from .conftest import make_candidate, make_cohort

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def cohort(manager):
    return make_cohort("Roster cohort", managers=[manager])


def upload(client, cohort, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse("cohorts:roster_upload", args=[cohort.pk]),
        {"roster": SimpleUploadedFile("roster.csv", data, content_type="text/csv")},
    )


def test_a_bad_row_is_reported_by_line_and_nothing_is_created(client, cohort, manager):
    client.force_login(manager)
    users_before = User.objects.count()
    roster = (
        "name,email\n"
        "Ann Able,ann@example.org\n"
        "Bob Baker,bob-at-example.org\n"
        "Cy Cole\n"
        ",dee@example.org\n"
        "Ann Again,ANN@example.org\n"
    )
    response = upload(client, cohort, roster)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "Line 3: “bob-at-example.org” is not a valid e-mail address." in page
    assert "Line 4: expected 2 columns (name, email), found 1." in page
    assert "Line 5: the name is missing." in page
    assert "Line 6: ANN@example.org is already on line 2." in page
    assert User.objects.count() == users_before
    assert not Membership.objects.filter(cohort=cohort).exists()


def test_roster_links_existing_accounts_by_email_in_any_case_and_creates_the_rest(
    client, cohort, manager, django_user_model, mailoutbox, django_capture_on_commit_callbacks
):
    existing = make_candidate(django_user_model, "annable", email="Ann.Able@Example.org")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            client, cohort, "Ann Able,ann.able@example.ORG\nBo Brown,bo@example.org\n"
        )
    assert response.status_code == 302
    assert User.objects.filter(email__iexact="ann.able@example.org").count() == 1
    bo = User.objects.get(email="bo@example.org")
    assert set(Membership.objects.filter(cohort=cohort).values_list("user_id", flat=True)) == {
        existing.pk,
        bo.pk,
    }
    assert (bo.first_name, bo.last_name, bo.username) == ("Bo", "Brown", "bo@example.org")
    assert not bo.has_usable_password()
    assert bo.groups.filter(name="Candidate").exists()
    # The new account gets a set-password link; the linked one a notice of what joining means.
    assert [m.to for m in mailoutbox] == [["bo@example.org"], [existing.email]]
    notice = mailoutbox[1]
    assert cohort.name in notice.subject and "(annable)" in notice.body
    assert "from now on" in notice.body and "earlier attempts stay private" in notice.body
    assert (manager.get_full_name() or manager.username) in notice.body
    assert "/cohorts/welcome/" not in notice.body

    # The e-mailed link is Django's password-reset confirmation: it sets a password once.
    link = re.search(r"http://testserver(/cohorts/welcome/\S+/)", mailoutbox[0].body).group(1)
    client.logout()
    response = client.get(link, follow=True)
    assert "Set your password" in response.content.decode()
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "A-good-pass-phrase-7", "new_password2": "A-good-pass-phrase-7"}
    )
    assert response.status_code == 302
    assert client.login(username="bo@example.org", password="A-good-pass-phrase-7")
    client.logout()
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_importing_the_same_roster_twice_duplicates_nothing(client, cohort, manager):
    client.force_login(manager)
    upload(client, cohort, "Cy Cole,cy@example.org\n")
    response = upload(client, cohort, "Cy Cole,CY@example.org\n")
    assert response.status_code == 302
    assert User.objects.filter(email__iexact="cy@example.org").count() == 1
    assert Membership.objects.filter(cohort=cohort).count() == 1


def test_staff_accounts_and_ambiguous_addresses_are_refused_by_line(
    cohort, instructor, django_user_model
):
    instructor.email = "ivy@example.org"
    instructor.save()
    make_candidate(django_user_model, "twin1", email="twin@example.org")
    make_candidate(django_user_model, "twin2", email="TWIN@example.org")
    with pytest.raises(services.RosterError) as caught:
        services.roster_import(
            cohort=cohort,
            data=b"Ok Person,ok@example.org\nIvy,IVY@example.org\nTwin,twin@example.org\n",
            base_url="http://testserver/",
        )
    # One message for both reasons: it must not tell which addresses have accounts.
    assert caught.value.errors == [
        "Line 2: IVY@example.org cannot be enrolled by e-mail; ask the candidate to join with the cohort's enrolment code, or ask the platform operator.",
        "Line 3: twin@example.org cannot be enrolled by e-mail; ask the candidate to join with the cohort's enrolment code, or ask the platform operator.",
    ]
    assert not User.objects.filter(email="ok@example.org").exists()


def test_a_file_that_is_not_utf8_names_its_line(cohort):
    with pytest.raises(services.RosterError) as caught:
        services.roster_import(
            cohort=cohort, data=b"A,a@example.org\nB\xe9,b@example.org\n", base_url="/"
        )
    assert caught.value.errors[0].startswith("Line 2: the file is not UTF-8")


def test_an_empty_roster_is_refused(cohort):
    with pytest.raises(services.RosterError, match="no rows"):
        services.roster_import(cohort=cohort, data=b"name,email\n\n", base_url="/")


def test_manager_adds_one_candidate(
    client, cohort, manager, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("cohorts:member_add", args=[cohort.pk]),
            {"name": "Dee Diaz", "email": "dee@example.org"},
        )
    assert response.status_code == 302
    membership = Membership.objects.get(cohort=cohort)
    assert membership.user.email == "dee@example.org" and membership.source == "added"
    assert len(mailoutbox) == 1


def test_adding_a_manager_as_a_candidate_is_refused(client, cohort, manager, manager_b):
    manager_b.email = "mb@example.org"
    manager_b.save()
    client.force_login(manager)
    response = client.post(
        reverse("cohorts:member_add", args=[cohort.pk]), {"name": "MB", "email": "mb@example.org"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be enrolled by e-mail" in page and "manager account" not in page


# --- Enrolment code ------------------------------------------------------------------
def test_candidate_joins_with_the_code_as_typed(client, cohort, candidate):
    client.force_login(candidate)
    typed = f"{cohort.enrolment_code[:4].lower()}-{cohort.enrolment_code[4:].lower()} "
    response = client.post(reverse("cohorts:join"), {"code": typed})
    assert response.status_code == 302 and response["Location"] == reverse("exams:home")
    membership = Membership.objects.get(cohort=cohort, user=candidate)
    assert membership.source == "code"
    client.post(reverse("cohorts:join"), {"code": cohort.enrolment_code})
    assert Membership.objects.filter(cohort=cohort, user=candidate).count() == 1


def test_a_user_without_a_role_who_joins_becomes_a_candidate(cohort, django_user_model):
    user = django_user_model.objects.create_user("newbie", password="x-long-password-1")
    services.cohort_join(user=user, code=cohort.enrolment_code)
    assert user.groups.filter(name="Candidate").exists()


def test_turned_off_or_regenerated_codes_stop_working(client, cohort, manager, candidate):
    old = cohort.enrolment_code
    client.force_login(manager)
    client.post(reverse("cohorts:enrolment", args=[cohort.pk]), {"action": "close"})
    with pytest.raises(ValidationError):
        services.cohort_join(user=candidate, code=old)
    client.post(reverse("cohorts:enrolment", args=[cohort.pk]), {"action": "open"})
    client.post(reverse("cohorts:enrolment", args=[cohort.pk]), {"action": "regenerate"})
    cohort.refresh_from_db()
    assert cohort.enrolment_code != old and cohort.enrolment_open
    with pytest.raises(ValidationError):
        services.cohort_join(user=candidate, code=old)
    services.cohort_join(user=candidate, code=cohort.enrolment_code)


def test_wrong_code_is_explained(client, candidate):
    client.force_login(candidate)
    response = client.post(reverse("cohorts:join"), {"code": "NOPE-NOPE"})
    assert response.status_code == 400
    assert "does not match a cohort" in response.content.decode()


def test_staff_cannot_join_as_candidates(cohort, instructor, manager_b):
    for user in (instructor, manager_b):
        with pytest.raises(ValidationError, match="cannot join"):
            services.cohort_join(user=user, code=cohort.enrolment_code)


def test_settings_page_shows_the_code_and_join_link(client, cohort, manager):
    client.force_login(manager)
    page = client.get(reverse("cohorts:settings", args=[cohort.pk])).content.decode()
    assert cohort.display_code in page
    assert f"/cohorts/join/?code={cohort.enrolment_code}" in page


def test_guessing_codes_is_throttled(client, cohort, candidate):
    client.force_login(candidate)
    for _ in range(10):
        client.post(reverse("cohorts:join"), {"code": "WRONG123"})
    response = client.post(reverse("cohorts:join"), {"code": cohort.enrolment_code})
    assert "Too many wrong codes" in response.content.decode()
    assert not Membership.objects.filter(cohort=cohort, user=candidate).exists()
