"""A program's managers see and change its staff roles; no one else reaches the page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cohorts import staff
from cohorts.audit import audit_trail
from cohorts.models import Cohort
from tenancy.models import ProgramStaff, StaffRole
from tests.conftest import program

pytestmark = pytest.mark.django_db


def page(pk):
    return reverse("cohorts:program_staff", args=[pk])


def add(pk):
    return reverse("cohorts:program_staff_add", args=[pk])


def remove(pk, role_id):
    return reverse("cohorts:program_staff_remove", args=[pk, role_id])


def test_a_manager_lists_the_programs_staff(client, manager, instructor, manager_b):
    client.force_login(manager)
    response = client.get(page(program("a").pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Instr" in html and "Mgr" in html and "Mgr-B" not in html
    assert "The last manager" in html  # no remove button for the only manager
    dashboard = client.get(reverse("cohorts:dashboard")).content.decode()
    assert page(program("a").pk) in dashboard and page(program("b").pk) not in dashboard


def test_others_get_404_for_the_page_and_its_actions(
    client, manager_b, instructor, candidate, manager
):
    a = program("a")
    role = ProgramStaff.objects.get(user=instructor, program=a)
    for outsider in (manager_b, instructor, candidate):
        client.force_login(outsider)
        assert client.get(page(a.pk)).status_code == 404
        assert (
            client.post(add(a.pk), {"email": "x@example.org", "role": "manager"}).status_code == 404
        )
        assert client.post(remove(a.pk, role.pk)).status_code == 404
        assert client.get(remove(a.pk, role.pk)).status_code == 404
    assert ProgramStaff.objects.filter(pk=role.pk).exists()
    assert not ProgramStaff.objects.filter(user__email="x@example.org").exists()


def test_the_operator_manages_any_programs_staff(client, admin_user, manager_b):
    client.force_login(admin_user)
    b = program("b")
    assert client.get(page(b.pk)).status_code == 200
    response = client.post(add(b.pk), {"email": "new-b@example.org", "role": "instructor"})
    assert response.status_code == 302
    assert ProgramStaff.objects.filter(program=b, user__email="new-b@example.org").exists()


def test_adding_answers_alike_whether_or_not_the_account_exists(
    client, manager, candidate, django_user_model, django_capture_on_commit_callbacks
):
    candidate.email = "Known@Example.org"
    candidate.save()
    client.force_login(manager)
    a = program("a")
    answers = []
    for email in ("known@example.org", "unknown@example.org"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                add(a.pk), {"email": email, "name": "Pat Doe", "role": "instructor"}, follow=True
            )
        text = response.content.decode().replace(email, "EMAIL")
        answers.append(
            text[text.index('class="messages') :][:400] if 'class="messages' in text else text
        )
        assert response.status_code == 200
    assert answers[0] == answers[1]
    known = ProgramStaff.objects.get(program=a, user=candidate)
    assert known.role == StaffRole.INSTRUCTOR
    new = django_user_model.objects.get(email="unknown@example.org")
    assert new.first_name == "Pat" and not new.has_usable_password()
    for user in (candidate, new):
        user.refresh_from_db()
        assert user.is_staff and user.groups.filter(name="Instructor").exists()
    # Both are told by e-mail: a set-password link for the new account only.
    assert len(mail.outbox) == 2
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "/cohorts/welcome/" in bodies["unknown@example.org"]
    assert "/cohorts/welcome/" not in bodies["Known@Example.org"]


def test_adding_refuses_bad_input_and_an_address_shared_by_several_accounts(
    client, manager, django_user_model
):
    for n in (1, 2):
        django_user_model.objects.create_user(f"twin{n}", email="twin@example.org")
    client.force_login(manager)
    a = program("a")
    bad = client.post(add(a.pk), {"email": "not-an-address", "role": "instructor"})
    assert bad.status_code == 400
    wrong_role = client.post(add(a.pk), {"email": "ok@example.org", "role": "owner"})
    assert wrong_role.status_code == 400
    response = client.post(add(a.pk), {"email": "twin@example.org", "role": "instructor"})
    assert response.status_code == 400
    assert "cannot be given a role by e-mail here" in response.content.decode()
    assert ProgramStaff.objects.filter(program=a).count() == 1  # the manager alone


def test_the_last_manager_cannot_be_removed(client, manager):
    a = program("a")
    role = ProgramStaff.objects.get(user=manager, program=a)
    client.force_login(manager)
    confirm = client.get(remove(a.pk, role.pk)).content.decode()
    assert "last manager" in confirm and "Remove the role</button>" not in confirm
    response = client.post(remove(a.pk, role.pk), follow=True)
    assert "keeps at least one manager" in response.content.decode()
    assert ProgramStaff.objects.filter(pk=role.pk).exists()
    with pytest.raises(ValidationError, match="at least one manager"):
        staff.program_staff_remove(program=a, role_id=role.pk, by=manager)


def test_removing_a_role_takes_the_person_off_the_programs_cohorts(client, manager, instructor):
    a = program("a")
    cohort = Cohort.objects.create(name="Spring", program=a)
    cohort.instructors.add(instructor)
    role = ProgramStaff.objects.get(user=instructor, program=a)
    client.force_login(manager)
    confirm = client.get(remove(a.pk, role.pk)).content.decode()
    assert "role of instructor in Program A?" in confirm and "Spring" in confirm
    assert ProgramStaff.objects.filter(pk=role.pk).exists()  # asking changes nothing
    assert client.post(remove(a.pk, role.pk)).status_code == 302
    assert not ProgramStaff.objects.filter(pk=role.pk).exists()
    assert not cohort.instructors.filter(pk=instructor.pk).exists()
    instructor.refresh_from_db()
    assert not instructor.groups.filter(name="Instructor").exists() and not instructor.is_staff


def test_a_second_manager_can_be_added_and_then_one_removed(client, manager):
    a = program("a")
    client.force_login(manager)
    client.post(add(a.pk), {"email": "second@example.org", "role": "manager"})
    second = ProgramStaff.objects.get(program=a, user__email="second@example.org")
    assert second.user.groups.filter(name="Program manager").exists()
    own = ProgramStaff.objects.get(program=a, user=manager)
    response = client.post(remove(a.pk, own.pk))
    assert response["Location"] == reverse("cohorts:dashboard")  # no longer theirs
    assert client.get(page(a.pk)).status_code == 404


def test_staff_changes_are_in_the_audit_trail(manager, candidate):
    a = program("a")
    candidate.email = "cand@example.org"
    candidate.save()
    staff.program_staff_add(
        program=a, email="cand@example.org", role="instructor", by=manager, base_url="http://t/"
    )
    row = ProgramStaff.objects.get(program=a, user=candidate)
    staff.program_staff_remove(program=a, role_id=row.pk, by=manager)
    lines = audit_trail(user=manager, kind="tenancy.programstaff")
    kinds = {(line.kind, line.reason) for line in lines if line.object_id == row.pk}
    assert kinds == {("created", "Role granted"), ("deleted", "Role removed")}
    assert all(line.who == manager.get_full_name() for line in lines if line.object_id == row.pk)


def test_the_service_refuses_non_managers(instructor, manager_b):
    for outsider in (instructor, manager_b):
        with pytest.raises(PermissionDenied):
            staff.program_staff_add(
                program=program("a"), email="z@example.org", role="manager", by=outsider,
                base_url="http://t/",
            )  # fmt: skip
    assert (
        not Group.objects.get(name="Program manager")
        .user_set.filter(email="z@example.org")
        .exists()
    )
