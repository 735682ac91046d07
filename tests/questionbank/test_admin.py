import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from questionbank.models import AngoffRating, Case, Domain, ItemVersion
from questionbank.services import item_version_transition, item_versions_lock
from tests.conftest import program
from tests.factories import CaseFactory, ItemVersionFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/questionbank/itemversion/add/"


def item_post(case=None, options=None, **overrides):
    options = options or [("K59.00", True), ("K59.09", False), ("R19.4", False)]
    data = {
        "item_key": "D1-7001",
        "domain": Domain.objects.get(number=1).pk,
        "case": case.pk if case else "",
        "kind": "single",
        "choose": "1",
        "stem": "Which code is assigned for constipation documented without further detail?",
        "rationale": "",
        "references": "",
        "code_set_year": "2026",
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "3",
        "options-MAX_NUM_FORMS": "6",
        "angoff_ratings-TOTAL_FORMS": "0",
        "angoff_ratings-INITIAL_FORMS": "0",
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
    }
    for i, (text, key) in enumerate(options):
        data[f"options-{i}-text"] = text
        if key:
            data[f"options-{i}-is_key"] = "on"
    data.update(overrides)
    return data


def test_instructor_creates_a_case_and_items_on_it(client, instructor):
    client.force_login(instructor)
    response = client.post(
        "/admin/questionbank/case/add/",
        {
            "key": "OP-T9",
            "title": "Clinic visit for constipation",
            "setting": "outpatient",
            "code_set_year": "2026",
            "coding": "{}",
            "documentation": "## Clinic note\nTwo weeks of constipation.\n\n## Plan\nFiber, follow-up.",
        },
    )
    assert response.status_code == 302, response.content
    case = Case.objects.get(key="OP-T9")
    assert [s["heading"] for s in case.sections] == ["Clinic note", "Plan"]
    response = client.post(ADD_URL, item_post(case=case))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    version = ItemVersion.objects.get(item__key="D1-7001")
    assert (version.author, version.status, version.case) == (instructor, "draft", case)
    assert [(o.position, o.is_key) for o in version.options.all()] == [
        (0, True),
        (1, False),
        (2, False),
    ]
    page = client.get(f"/admin/questionbank/case/{case.pk}/change/")
    assert b"D1-7001 v1" in page.content


def test_case_documentation_must_start_with_a_heading(client, instructor):
    client.force_login(instructor)
    response = client.post(
        "/admin/questionbank/case/add/",
        {
            "key": "X",
            "title": "t",
            "setting": "other",
            "code_set_year": "2026",
            "coding": "{}",
            "documentation": "no heading",
        },
    )
    assert response.status_code == 200
    assert b"Start the documentation with a section heading" in response.content


def test_admin_refuses_two_keys_on_multiple_choice_with_a_clear_message(client, instructor):
    client.force_login(instructor)
    response = client.post(ADD_URL, item_post(options=[("a", True), ("b", True), ("c", False)]))
    assert response.status_code == 200
    assert b"exactly one key; this one has 2" in response.content
    assert not ItemVersion.objects.exists()


def test_admin_enforces_choose_n_keys(client, instructor):
    client.force_login(instructor)
    data = item_post(
        options=[("a", True), ("b", False), ("c", False), ("d", False)], kind="multiple", choose="2"
    )
    response = client.post(ADD_URL, data)
    assert b"asks for 2 has exactly 2 keys; this one has 1" in response.content


def test_editing_a_locked_version_in_the_admin_creates_the_next_version(client, instructor):
    version = ItemVersionFactory(author=instructor)
    item_versions_lock(version_ids=[version.pk])
    client.force_login(instructor)
    options = list(version.options.order_by("position"))
    data = item_post(item_key=version.item.key, stem="Reworded stem?", rationale=version.rationale)
    data.update({"options-TOTAL_FORMS": "4", "options-INITIAL_FORMS": "4"})
    for i, option in enumerate(options):
        data[f"options-{i}-id"] = str(option.pk)
        data[f"options-{i}-version"] = str(version.pk)
        data[f"options-{i}-text"] = option.text
        data.pop(f"options-{i}-is_key", None)
        if option.is_key:
            data[f"options-{i}-is_key"] = "on"
    response = client.post(f"/admin/questionbank/itemversion/{version.pk}/change/", data)
    assert response.status_code == 302
    versions = list(ItemVersion.objects.filter(item=version.item).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].stem != "Reworded stem?" and versions[1].stem == "Reworded stem?"
    assert [o.text for o in versions[1].options.all()] == [o.text for o in options]


def test_status_actions_enforce_the_workflow(client, instructor, reviewer):
    version = ItemVersionFactory(author=instructor, status="draft")
    client.force_login(instructor)
    changelist = "/admin/questionbank/itemversion/"
    client.post(changelist, {"action": "make_in_review", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == "in_review"
    response = client.post(
        changelist, {"action": "make_approved", "_selected_action": [version.pk]}, follow=True
    )
    assert b"cannot approve their own item" in response.content
    client.force_login(reviewer)
    client.post(changelist, {"action": "make_approved", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == "approved"


def test_preview_shows_the_item_as_a_candidate_sees_it(client, instructor):
    case = CaseFactory()
    version = ItemVersionFactory(case=case)
    client.force_login(instructor)
    response = client.get(f"/admin/questionbank/itemversion/{version.pk}/preview/")
    assert response.status_code == 200
    html = response.content.decode()
    candidate_part = html.split('class="candidate-view"')[1].split("<hr>")[0]
    assert version.stem in candidate_part
    assert "History and physical" in candidate_part
    assert "Because the guideline" not in candidate_part  # no rationale in the candidate view
    assert "key" not in candidate_part.lower()


def test_changelist_filters_and_search(client, instructor):
    ItemVersionFactory(stem="Sepsis sequencing question?")
    ItemVersionFactory(stem="Query compliance question?", domain=Domain.objects.get(number=3))
    client.force_login(instructor)
    response = client.get("/admin/questionbank/itemversion/?q=sepsis")
    assert response.context["cl"].result_count == 1
    response = client.get(
        f"/admin/questionbank/itemversion/?domain__id__exact={Domain.objects.get(number=3).pk}"
    )
    assert response.context["cl"].result_count == 1


def test_angoff_rating_entry(client, instructor):
    version = ItemVersionFactory(author=instructor)  # an item of the instructor's program
    client.force_login(instructor)
    url = f"/admin/questionbank/itemversion/{version.pk}/angoff/"
    assert client.post(url, {"rating": "1.4"}).status_code == 200
    assert not version.angoff_ratings.exists()
    assert client.post(url, {"rating": "0.55"}).status_code == 302
    assert float(version.angoff_ratings.get(judge=instructor).rating) == 0.55


def test_import_upload_reports_the_bad_record_and_keeps_the_bank(client, instructor):
    ItemVersionFactory()
    client.force_login(instructor)
    bad = {"format": "ccs-sim-bank", "version": 1, "items": [{"key": "U-1", "domain": 7}]}
    upload = SimpleUploadedFile(
        "bank.json", json.dumps(bad).encode(), content_type="application/json"
    )
    response = client.post(
        "/admin/questionbank/itemversion/import/",
        {"file": upload, "program": program("a").pk},
    )
    assert response.status_code == 400
    assert (
        "Nothing was imported. item 1 (U-1), field &#x27;domain&#x27;" in response.content.decode()
    )
    assert ItemVersion.objects.count() == 1


def test_export_download(client, instructor):
    ItemVersionFactory()
    client.force_login(instructor)
    response = client.get("/admin/questionbank/itemversion/export/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert len(json.loads(response.content)["items"]) == 1


def test_candidate_cannot_reach_admin_tools(client, candidate):
    version = ItemVersionFactory()
    client.force_login(candidate)
    for url in [
        f"/admin/questionbank/itemversion/{version.pk}/preview/",
        "/admin/questionbank/itemversion/import/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_inpatient_case_page_shows_its_ms_drg(client, instructor):
    case = CaseFactory(
        owner_program=program("a"),
        coding={"principal_diagnosis": "A41.9", "secondary_diagnoses": ["N17.9"]},
    )
    client.force_login(instructor)
    response = client.get(f"/admin/questionbank/case/{case.pk}/change/")
    html = response.content.decode()
    assert "MS-DRG 87" in html  # septicemia DRGs 871/872, by CC/MCC
    assert "septicemia" in html.lower()


def test_item_pages_name_people_without_linking_to_the_user_admin(client, instructor, reviewer):
    # Instructors hold no auth.User permission: a link to the user admin would answer 403.
    version = ItemVersionFactory(author=instructor, status="draft")
    item_version_transition(version=version, to_status="in_review", by=instructor)
    rating = AngoffRating.objects.create(item_version=version, judge=reviewer, rating="0.6")
    case = CaseFactory(created_by=instructor, owner_program=program("a"))
    client.force_login(instructor)
    assert client.get(f"/admin/auth/user/{reviewer.pk}/change/").status_code == 403
    item_page = f"/admin/questionbank/itemversion/{version.pk}/change/"
    for url in [
        item_page,
        f"/admin/questionbank/angoffrating/{rating.pk}/change/",
        f"/admin/questionbank/case/{case.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "/admin/auth/user/" not in response.content.decode(), url
    html = client.get(item_page).content.decode()
    assert "Reviewer (reviewer)" in html  # the Angoff judge
    assert "Instr (instr)" in html  # who sent it to review


def test_partial_credit_on_multiple_choice_is_a_form_error_not_a_500(client, instructor):
    client.force_login(instructor)
    response = client.post(ADD_URL, item_post(partial_credit="on"))
    assert response.status_code == 200
    assert b"Partial credit applies to multiple-response and select-all-that-apply items" in (
        response.content
    )
    assert b"Which code is assigned for constipation" in response.content  # input kept
    assert not ItemVersion.objects.exists()


@pytest.mark.parametrize("choose", ["0", "6"])
def test_choose_out_of_range_says_the_allowed_range(client, instructor, choose):
    client.force_login(instructor)
    data = item_post(
        options=[("a", True), ("b", False), ("c", False), ("d", False)],
        kind="multiple",
        choose=choose,
    )
    response = client.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a number from 1 to 5" in html
    assert "itemversion_choose_range" not in html
    assert "asks for 0" not in html and "asks for 6" not in html
    assert not ItemVersion.objects.exists()


def test_too_few_options_says_how_many_an_item_has(client, instructor):
    client.force_login(instructor)
    data = item_post(options=[("a", True), ("b", False)])
    data["options-TOTAL_FORMS"] = "3"  # the third row is left blank
    response = client.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "An item has 3 to 6 options; this one has 2." in html
    assert "This field is required." not in html
    assert not ItemVersion.objects.exists()


def case_post(coding):
    return {
        "key": "IP-T9",
        "title": "Sepsis admission",
        "setting": "inpatient",
        "code_set_year": "2026",
        "coding": coding,
        "documentation": "## Discharge summary\nSepsis with acute kidney failure.",
    }


@pytest.mark.parametrize(
    ("coding", "message"),
    [
        ('["A41.51"]', "The coding must be a JSON object"),
        ('{"principal_diagnosis": "A41.9", "secondary_diagnoses": "N39.0"}', "secondary_diagnoses"),
        ('{"principal_diagnosis": "A41.9", "procedures": [5, "0T9B70Z"]}', "procedures"),
        ('{"principal_diagnosis": ["A41.9"]}', "principal_diagnosis"),
    ],
)
def test_case_coding_must_have_the_bank_format_shape(client, instructor, coding, message):
    client.force_login(instructor)
    response = client.post("/admin/questionbank/case/add/", case_post(coding))
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors.get("coding", []))
    assert message in errors
    assert not Case.objects.exists()
    assert "Sepsis admission" in response.content.decode()  # what was typed is kept


def test_case_coding_in_the_bank_format_is_saved(client, instructor):
    client.force_login(instructor)
    coding = {"principal_diagnosis": "A41.9", "secondary_diagnoses": ["N17.9"], "procedures": []}
    response = client.post("/admin/questionbank/case/add/", case_post(json.dumps(coding)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Case.objects.get(key="IP-T9").coding == coding


def test_code_set_year_defaults_to_the_newest_loaded_and_must_be_loaded(client, instructor):
    from codebook.models import CodeSet

    for year in (2025, 2026):
        CodeSet.objects.get_or_create(
            system="cm", year=year, defaults={"source": "test", "checksum": str(year)}
        )
    newest = CodeSet.objects.filter(system="cm").order_by("-year").first().year
    client.force_login(instructor)
    page = client.get(ADD_URL)
    assert page.context["adminform"].form["code_set_year"].value() == newest

    refused = client.post(ADD_URL, item_post(code_set_year="2031"))
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "No ICD-10-CM code set for FY2031 is loaded" in html and "2025" in html
    assert not ItemVersion.objects.exists()
    assert client.post(ADD_URL, item_post(code_set_year="2025")).status_code == 302
    assert ItemVersion.objects.get().code_set_year == 2025
