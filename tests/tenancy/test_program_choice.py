"""Staff of several programs choose the program of a new item, case, form or cohort in
the admin (only their programs; a message when missing); staff of one never see it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cohorts.models import Cohort
from exams.models import ExamForm
from questionbank.models import Case, ItemVersion
from tests.conftest import give_role, program
from tests.factories import bank_items, blueprint_with
from tests.questionbank.test_admin import ADD_URL, item_post

pytestmark = pytest.mark.django_db

CASE_ADD = "/admin/questionbank/case/add/"
CASE = {
    "key": "OP-P1",
    "title": "Clinic visit",
    "setting": "outpatient",
    "code_set_year": "2026",
    "coding": "{}",
    "documentation": "## Clinic note\nTwo weeks of constipation.",
}


@pytest.fixture
def two_program_instructor(instructor):
    program("c")  # a program they hold no role in: never offered
    return give_role(instructor, "b", "instructor")


def _options(html: str) -> str:
    start = html.index('name="program"')
    return html[start : html.index("</select>", start)]


def test_an_instructor_of_several_programs_chooses_the_items_program(
    client, two_program_instructor
):
    client.force_login(two_program_instructor)
    html = client.get(ADD_URL).content.decode()
    offered = _options(html)
    assert "Program A" in offered and "Program B" in offered and "Program C" not in offered
    assert re.search(r'<option value="\d+" selected', offered) is None  # no default
    missing = client.post(ADD_URL, item_post())
    assert missing.status_code == 200
    assert "Choose the program the item belongs to." in missing.content.decode()
    assert not ItemVersion.objects.exists()
    outside = client.post(ADD_URL, item_post(program=program("c").pk))
    assert outside.status_code == 200 and not ItemVersion.objects.exists()
    response = client.post(ADD_URL, item_post(program=program("b").pk))
    assert response.status_code == 302
    assert ItemVersion.objects.get().item.owner_program == program("b")


def test_an_instructor_of_one_program_never_sees_the_choice(client, instructor):
    client.force_login(instructor)
    for url in (ADD_URL, CASE_ADD, reverse("admin:exams_examform_assemble")):
        html = client.get(url).content.decode()
        assert 'name="program"' not in html or 'type="hidden" name="program"' in html, url
        assert "Choose a program" not in html
    # Even a forged program of someone else's is not taken: the item lands in theirs.
    response = client.post(ADD_URL, item_post(program=program("b").pk))
    assert response.status_code == 302
    assert ItemVersion.objects.get().item.owner_program == program("a")
    assert client.post(CASE_ADD, CASE).status_code == 302
    assert Case.objects.get(key="OP-P1").owner_program == program("a")


def test_the_case_admin_asks_several_programs_staff(client, two_program_instructor):
    client.force_login(two_program_instructor)
    assert "Program B" in _options(client.get(CASE_ADD).content.decode())
    missing = client.post(CASE_ADD, CASE)
    assert "Choose the program the case belongs to." in missing.content.decode()
    assert client.post(CASE_ADD, {**CASE, "program": program("b").pk}).status_code == 302
    assert Case.objects.get(key="OP-P1").owner_program == program("b")


def test_the_assemble_form_asks_several_programs_staff(client, two_program_instructor):
    bank_items(1, 3)
    blueprint = blueprint_with({1: 2}, name="Small")
    client.force_login(two_program_instructor)
    url = reverse("admin:exams_examform_assemble")
    assert "Program B" in _options(client.get(url).content.decode())
    data = {"blueprint": blueprint.pk, "name": "Chosen", "seed": 3}
    missing = client.post(url, data)
    assert "Choose the program the form belongs to." in missing.content.decode()
    assert not ExamForm.objects.filter(name="Chosen").exists()
    assert client.post(url, {**data, "program": program("b").pk}).status_code == 302
    assert ExamForm.objects.get(name="Chosen").owner_program == program("b")


def test_a_single_program_instructor_assembles_for_their_program(client, instructor):
    bank_items(1, 3)
    blueprint = blueprint_with({1: 2}, name="Small")
    client.force_login(instructor)
    url = reverse("admin:exams_examform_assemble")
    data = {"blueprint": blueprint.pk, "name": "Mine", "seed": 3, "program": program("a").pk}
    assert client.post(url, data).status_code == 302
    assert ExamForm.objects.get(name="Mine").owner_program == program("a")


def test_cohort_admin_and_page_ask_managers_of_several_programs(client, manager):
    manager.is_staff = True
    manager.save()
    give_role(manager, "b", "manager")
    client.force_login(manager)
    admin_add = reverse("admin:cohorts_cohort_add")
    offered = _options(client.get(admin_add).content.decode())
    assert "Program A" in offered and "Program B" in offered
    page = reverse("cohorts:create")
    assert "Program B" in _options(client.get(page).content.decode())
    missing = client.post(page, {"name": "Spring"})
    assert "Choose the program the cohort belongs to." in missing.content.decode()
    assert client.post(page, {"name": "Spring", "program": program("b").pk}).status_code == 302
    assert Cohort.objects.get(name="Spring").program == program("b")


def test_a_manager_of_one_program_never_sees_the_cohorts_program(client, manager):
    client.force_login(manager)
    page = reverse("cohorts:create")
    html = client.get(page).content.decode()
    assert 'type="hidden" name="program"' in html and "Choose a program" not in html
    assert client.post(page, {"name": "Solo", "program": program("a").pk}).status_code == 302
    assert Cohort.objects.get(name="Solo").program == program("a")
    forged = client.post(page, {"name": "Forged", "program": program("b").pk})
    assert forged.status_code in (200, 400) and not Cohort.objects.filter(name="Forged").exists()


def test_the_operator_may_leave_new_content_shared(client, admin_user):
    program("a")
    client.force_login(admin_user)
    offered = _options(client.get(ADD_URL).content.decode())
    assert "Shared" in offered and "Program A" in offered
    assert client.post(ADD_URL, item_post()).status_code == 302
    assert ItemVersion.objects.get().item.owner_program is None


def test_both_import_pages_ask_several_programs_staff_only(
    client, two_program_instructor, reviewer
):
    pages = ("import/", "import-qti/")
    base = "/admin/questionbank/itemversion/"
    client.force_login(two_program_instructor)
    for page in pages:
        offered = _options(client.get(base + page).content.decode())
        assert "Program A" in offered and "Program B" in offered and "Program C" not in offered
    client.force_login(reviewer)  # one program
    for page in pages:
        html = client.get(base + page).content.decode()
        assert "Choose a program" not in html and 'type="hidden" name="program"' in html
