import copy
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from questionbank.exchange import (
    BankImportError,
    bank_export,
    bank_import,
    bank_import_file,
    bank_restore,
)
from questionbank.models import AngoffRating, Case, Item, ItemVersion, StatusChange
from questionbank.services import item_versions_lock

pytestmark = pytest.mark.django_db


def document():
    return {
        "format": "ccs-sim-bank",
        "version": 1,
        "cases": [
            {
                "key": "IP-T1",
                "title": "Heart failure admission",
                "setting": "inpatient",
                "code_set_year": 2026,
                "sections": [
                    {"heading": "History and physical", "body": "Dyspnea and edema."},
                    {
                        "heading": "Discharge summary",
                        "body": "Acute on chronic diastolic heart failure.",
                    },
                ],
                "coding": {"principal_diagnosis": "I50.33"},
            }
        ],
        "items": [
            {
                "key": "T-0001",
                "domain": 1,
                "case": "IP-T1",
                "kind": "single",
                "choose": 1,
                "stem": "Which code describes the heart failure?",
                "options": [
                    {"text": "I50.33", "key": True},
                    {"text": "I50.32", "key": False},
                    {"text": "I50.9", "key": False},
                    {"text": "I50.23", "key": False},
                ],
                "rationale": "Acute on chronic diastolic is I50.33.",
                "references": "ICD-10-CM Tabular I50",
                "code_set_year": 2026,
                "status": "operational",
                "angoff": [{"judge": "panel-1", "rating": 0.7}],
            },
            {
                "key": "T-0002",
                "domain": 3,
                "kind": "multiple",
                "choose": 2,
                "stem": "Which TWO query elements are compliant? Choose 2.",
                "options": [
                    {"text": "Clinical indicators from the record", "key": True},
                    {"text": "Multiple clinically reasonable options", "key": True},
                    {"text": "The financial impact of the answer", "key": False},
                    {"text": "Only the diagnosis the coder prefers", "key": False},
                ],
                "rationale": "Compliant queries include indicators and reasonable options.",
                "code_set_year": 2026,
                "status": "pretest",
            },
        ],
    }


def snapshot():
    return json.dumps(bank_export(), sort_keys=True)


def test_import_creates_cases_items_and_ratings():
    result = bank_restore(document())
    assert (result.cases_created, result.items_created, result.ratings) == (1, 2, 1)
    version = ItemVersion.objects.get(item__key="T-0001")
    assert version.case.key == "IP-T1" and version.status == "operational"
    assert [o.is_key for o in version.options.all()] == [True, False, False, False]
    judge = AngoffRating.objects.get().judge
    assert judge.username == "panel-1" and not judge.has_usable_password()


@pytest.mark.parametrize(
    "mutate, record, field",
    [
        (lambda d: d["items"][1].update(domain=9), "item 2 (T-0002)", "domain"),
        (lambda d: d["items"][0]["options"][1].update(key=True), "item 1 (T-0001)", "options"),
        (lambda d: d["items"][1].update(choose=3), "item 2 (T-0002)", "options"),
        (lambda d: d["items"][1].update(case="NOPE"), "item 2 (T-0002)", "case"),
        (lambda d: d["items"][1].update(rationale=""), "item 2 (T-0002)", "rationale"),
        (lambda d: d["items"][1].update(code_set_year="soon"), "item 2 (T-0002)", "code_set_year"),
        (lambda d: d["cases"][0].update(setting="ward"), "case 1 (IP-T1)", "setting"),
        (lambda d: d["cases"][0].update(sections=[]), "case 1 (IP-T1)", "sections"),
        (lambda d: d["items"].append(copy.deepcopy(d["items"][0])), "item 4 (T-0001)", "key"),
        (
            lambda d: d["items"][0]["angoff"][0].update(rating=1.5),
            "item 1 (T-0001)",
            "angoff[1].rating",
        ),
        # Wrong JSON types are named errors, not crashes.
        (lambda d: d["items"][0].update(angoff=5), "item 1 (T-0001)", "angoff"),
        (lambda d: d["items"][1].update(domain=[1]), "item 2 (T-0002)", "domain"),
        (lambda d: d["items"][1].update(case={"key": "IP-T1"}), "item 2 (T-0002)", "case"),
        (
            lambda d: d["items"][0]["angoff"][0].update(rating="NaN"),
            "item 1 (T-0001)",
            "angoff[1].rating",
        ),
        (
            lambda d: d["items"][0]["angoff"][0].update(rating=float("nan")),
            "item 1 (T-0001)",
            "angoff[1].rating",
        ),
        (
            lambda d: d["items"][0]["angoff"][0].update(rating="Infinity"),
            "item 1 (T-0001)",
            "angoff[1].rating",
        ),
        (
            lambda d: d["items"][0]["angoff"][0].update(rating=[0.5]),
            "item 1 (T-0001)",
            "angoff[1].rating",
        ),
        (
            lambda d: d["cases"][0]["sections"][0].update(heading=5),
            "case 1 (IP-T1)",
            "sections[1]",
        ),
        (
            lambda d: d["cases"][0]["coding"].update(secondary_diagnoses="I10"),
            "case 1 (IP-T1)",
            "coding.secondary_diagnoses",
        ),
        # The model's rules, as the admin applies them.
        (lambda d: d["items"][1].update(key="bad key!"), "item 2 (bad key!)", "key"),
        (lambda d: d["items"][1].update(key="T-" + "0" * 39), "item 2 (T-" + "0" * 39 + ")", "key"),
        (
            lambda d: d["items"][1]["options"][2].update(text="x" * 501),
            "item 2 (T-0002)",
            "options[3].text",
        ),
        (lambda d: d["cases"][0].update(key="bad key!"), "case 1 (bad key!)", "key"),
        (lambda d: d["cases"][0].update(title="x" * 201), "case 1 (IP-T1)", "title"),
    ],
)
def test_a_bad_record_is_named_and_the_bank_is_unchanged(mutate, record, field):
    bank_restore(document())
    before = snapshot()
    bad = document()
    bad["items"][0]["stem"] = "Changed stem that must not land?"
    bad["items"].append(dict(bad["items"][1], key="T-0003"))
    mutate(bad)
    with pytest.raises(BankImportError) as info:
        bank_restore(bad)
    assert info.value.record == record
    assert info.value.field == field
    assert snapshot() == before
    assert not Item.objects.filter(key="T-0003").exists()


def test_an_import_ignores_other_judges_and_only_a_restore_creates_them():
    # An import stores the importer's own ratings only; with nobody importing, none.
    result = bank_import(document())
    assert not AngoffRating.objects.exists()
    assert any("panel-1" in m and "ignored" in m for m in result.messages)
    Item.objects.all().delete()
    Case.objects.all().delete()
    bank_restore(document())
    assert AngoffRating.objects.filter(judge__username="panel-1").exists()


def test_export_then_import_reproduces_the_bank():
    bank_restore(document())
    exported = bank_export()
    Item.objects.all().delete()
    Case.objects.all().delete()
    bank_restore(exported)  # the full state, statuses included: the operator's restore
    assert bank_export() == exported


def test_reimporting_the_same_file_changes_nothing():
    bank_restore(document())
    rated_at = list(AngoffRating.objects.values_list("rated_at", flat=True))
    result = bank_restore(document())
    assert (result.items_created, result.items_revised, result.items_unchanged) == (0, 0, 2)
    assert ItemVersion.objects.count() == 2
    # Ratings are written only when new or changed: their dates say when a judge rated.
    assert result.ratings == 0
    assert list(AngoffRating.objects.values_list("rated_at", flat=True)) == rated_at


def test_reimporting_unchanged_cases_keeps_them_and_their_creator(django_user_model):
    # A restore is the platform operator's: both are superusers.
    author = django_user_model.objects.create_superuser("author")
    importer = django_user_model.objects.create_superuser("importer")
    bank_restore(document(), by=author)
    result = bank_restore(document(), by=importer)
    assert (result.cases_created, result.cases_updated) == (0, 0)
    assert Case.objects.get().created_by == author
    changed = document()
    changed["cases"][0]["title"] = "Heart failure readmission"
    result = bank_restore(changed, by=importer)
    assert (result.cases_created, result.cases_updated) == (0, 1)
    case = Case.objects.get()
    assert (case.title, case.created_by) == ("Heart failure readmission", author)


def test_importing_an_item_whose_versions_were_all_deleted_gives_it_a_first_version():
    bank_restore(document())
    ItemVersion.objects.filter(item__key="T-0001").delete()
    result = bank_restore(document())
    assert (result.items_created, result.items_unchanged) == (1, 1)
    version = ItemVersion.objects.get(item__key="T-0001")
    assert (version.number, version.status) == (1, "operational")
    assert [o.text for o in version.options.all()] == ["I50.33", "I50.32", "I50.9", "I50.23"]
    assert version.angoff_ratings.get().rating == Decimal("0.7")
    assert Item.objects.count() == 2


def test_reimporting_a_changed_locked_item_makes_a_new_version():
    bank_restore(document())
    item_versions_lock(version_ids=list(ItemVersion.objects.values_list("pk", flat=True)))
    changed = document()
    changed["items"][0]["stem"] = "Which code describes the documented heart failure?"
    result = bank_restore(changed)
    assert result.items_revised == 1
    versions = ItemVersion.objects.filter(item__key="T-0001").order_by("number")
    assert [(v.number, v.locked) for v in versions] == [(1, True), (2, False)]
    assert versions[0].stem == "Which code describes the heart failure?"


def test_reimport_updates_ratings_in_one_statement_whatever_their_number(
    django_assert_max_num_queries,
):
    bank_restore(document())
    changed = document()
    for item in changed["items"]:
        item["angoff"] = [{"judge": f"panel-{n}", "rating": 0.5 + n / 100} for n in range(1, 9)]
    bank_restore(changed)  # creates the new judges
    for item in changed["items"]:
        for rating in item["angoff"]:
            rating["rating"] -= 0.1
    changed["items"][0]["angoff"][0]["rating"] = 0.42
    with django_assert_max_num_queries(25):
        result = bank_restore(changed)
    assert result.ratings == 16
    assert AngoffRating.objects.count() == 16
    assert AngoffRating.objects.get(
        item_version__item__key="T-0001", judge__username="panel-1"
    ).rating == Decimal("0.42")


def test_importing_an_operational_revision_retires_the_version_it_replaces():
    bank_restore(document())
    item_versions_lock(version_ids=list(ItemVersion.objects.values_list("pk", flat=True)))
    changed = document()
    changed["items"][0]["stem"] = "Which code describes the documented heart failure?"
    bank_restore(changed)
    versions = ItemVersion.objects.filter(item__key="T-0001").order_by("number")
    # One live version per item, as in the review workflow: forms never draw both.
    assert [(v.number, v.status) for v in versions] == [(1, "retired"), (2, "operational")]
    history = StatusChange.objects.filter(item_version=versions[0]).order_by("pk")
    assert history.last().to_status == "retired"
    assert history.last().note == "Replaced by version 2."


CSV_OK = (
    "key,domain,kind,choose,stem,option_a,option_b,option_c,option_d,option_e,option_f,keys,rationale,references,code_set_year,status\n"
    "C-1,4,single,1,Which rule adopts ICD-10-CM as a HIPAA code set?,45 CFR 162.1002,42 CFR 412,45 CFR 164.502,,,,A,The code set rule.,,2026,approved\n"
    "C-2,5,multiple,2,Which TWO are messaging standards?,HL7 v2,X12 837I,SNOMED CT,LOINC,,,A;B,HL7 and X12 carry messages.,,2026,draft\n"
)  # fmt: skip


def test_csv_import_of_simple_items():
    result = bank_import_file(name="items.csv", content=CSV_OK.encode())
    assert result.items_created == 2
    version = ItemVersion.objects.get(item__key="C-2")
    assert (version.kind, version.choose) == ("multiple", 2)
    assert [o.is_key for o in version.options.all()] == [True, True, False, False]


def test_csv_error_names_the_line_and_imports_nothing():
    bad = CSV_OK.replace(",A;B,", ",A,")
    with pytest.raises(BankImportError) as info:
        bank_import_file(name="items.csv", content=bad.encode())
    assert info.value.record == "line 3"
    assert not Item.objects.exists()


def test_malformed_json_names_the_line():
    with pytest.raises(BankImportError, match="JSON line 2"):
        bank_import_file(name="x.json", content=b'{"format":\n  oops}')


def test_import_and_export_commands(tmp_path):
    source = tmp_path / "bank.json"
    source.write_text(json.dumps(document()))
    call_command("restore_bank", str(source))
    target = tmp_path / "out.json"
    call_command("export_items", str(target))
    assert json.loads(target.read_text())["items"][0]["key"] == "T-0001"
    bad = document()
    bad["items"][0]["kind"] = "essay"
    source.write_text(json.dumps(bad))
    with pytest.raises(
        CommandError, match="nothing was restored.*item 1 \\(T-0001\\), field 'kind'"
    ):
        call_command("restore_bank", str(source))
