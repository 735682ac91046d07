"""Enemies: items that must never share a form, declared both ways, kept through import,
export and the admin."""

from __future__ import annotations

import copy

import pytest

from questionbank.exchange import BankImportError, bank_export, bank_import
from questionbank.models import Item, enemy_pairs
from questionbank.services import EnemyError, item_enemies_set
from tests.factories import ItemVersionFactory
from tests.questionbank.test_admin import item_post

pytestmark = pytest.mark.django_db


def item(key: str, **fields) -> dict:
    return {
        "key": key,
        "domain": 1,
        "kind": "single",
        "choose": 1,
        "stem": f"Stem of {key}?",
        "options": [
            {"text": "A41.9", "key": True},
            {"text": "A41.51", "key": False},
            {"text": "R65.20", "key": False},
        ],
        "rationale": "Because.",
        "code_set_year": 2026,
        "status": "operational",
        **fields,
    }


def document(items, enemies=None) -> dict:
    doc = {"format": "ccs-sim-bank", "version": 1, "cases": [], "items": items}
    if enemies is not None:
        doc["enemies"] = enemies
    return doc


def keys_of_pairs() -> set[frozenset[str]]:
    key = dict(Item.objects.values_list("pk", "key"))
    return {frozenset(key[pk] for pk in pair) for pair in enemy_pairs()}


def test_enemies_are_symmetric_and_an_item_is_not_its_own_enemy():
    a, b = (ItemVersionFactory(item__key=k).item for k in ("E-A", "E-B"))
    item_enemies_set(item=a, enemies=[b])
    assert list(b.enemies.all()) == [a]
    with pytest.raises(EnemyError, match="own enemy"):
        item_enemies_set(item=a, enemies=[a])


def test_import_declares_enemies_per_item_and_in_groups_and_export_lists_both_sides():
    bank_import(
        document(
            [item("E-1", enemies=["E-2"]), item("E-2"), item("E-3"), item("E-4")],
            enemies=[["E-3", "E-4", "E-1"]],
        )
    )
    assert keys_of_pairs() == {
        frozenset(p) for p in [("E-1", "E-2"), ("E-1", "E-3"), ("E-1", "E-4"), ("E-3", "E-4")]
    }
    exported = {i["key"]: i["enemies"] for i in bank_export()["items"]}
    assert exported == {
        "E-1": ["E-2", "E-3", "E-4"],
        "E-2": ["E-1"],
        "E-3": ["E-1", "E-4"],
        "E-4": ["E-1", "E-3"],
    }


def test_export_then_import_reproduces_the_enemies_and_changes_nothing():
    bank_import(document([item("E-1", enemies=["E-2"]), item("E-2")]))
    exported = bank_export()
    result = bank_import(copy.deepcopy(exported))
    assert (result.enemies_added, result.enemies_removed, result.items_unchanged) == (0, 0, 2)
    assert bank_export() == exported


def test_an_items_listed_enemies_replace_its_pairs_with_other_items_of_the_file():
    bank_import(document([item("E-1", enemies=["E-2", "E-3"]), item("E-2"), item("E-3")]))
    result = bank_import(document([item("E-1", enemies=["E-3"]), item("E-2"), item("E-3")]))
    assert (result.enemies_added, result.enemies_removed) == (0, 1)
    assert keys_of_pairs() == {frozenset(("E-1", "E-3"))}
    # A file that does not list an item's enemies leaves them as they are.
    bank_import(document([item("E-1"), item("E-3")]))
    assert keys_of_pairs() == {frozenset(("E-1", "E-3"))}


def test_an_enemy_may_be_an_item_already_in_the_bank():
    ItemVersionFactory(item__key="E-OLD")
    bank_import(document([item("E-NEW", enemies=["E-OLD"])]))
    assert keys_of_pairs() == {frozenset(("E-NEW", "E-OLD"))}


@pytest.mark.parametrize(
    ("doc", "record", "field", "message"),
    [
        (document([item("E-1", enemies=["E-9"])]), "item 1 (E-1)", "enemies", "'E-9'"),
        (document([item("E-1", enemies=["E-1"])]), "item 1 (E-1)", "enemies", "own enemy"),
        (document([item("E-1", enemies="E-2")]), "item 1 (E-1)", "enemies", "list of item"),
        (document([item("E-1")], enemies=[["E-1"]]), "enemies group 1", "(group)", "two or more"),
        (document([item("E-1")], enemies=[["E-1", "E-1"]]), "enemies group 1", "(group)", "twice"),
        (document([item("E-1")], enemies=[["E-1", "E-X"]]), "enemies", "enemies", "'E-X'"),
    ],
)
def test_bad_enemy_declarations_name_the_record_and_import_nothing(doc, record, field, message):
    with pytest.raises(BankImportError, match=message) as caught:
        bank_import(doc)
    assert (caught.value.record, caught.value.field) == (record, field)
    assert not Item.objects.exists()


def test_the_admin_edits_an_items_enemies_without_making_a_new_version(client, instructor):
    other = ItemVersionFactory(item__key="D1-7999").item
    client.force_login(instructor)
    response = client.post(
        "/admin/questionbank/itemversion/add/", item_post(enemies=[str(other.pk)])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Item.objects.get(key="D1-7001")
    assert list(other.enemies.all()) == [created]
    version = created.versions.get()
    page = client.get(f"/admin/questionbank/itemversion/{version.pk}/change/").content.decode()
    assert "D1-7999" in page


def test_a_case_coding_carries_the_query_answer_it_assumes_through_import_and_export():
    case = {
        "key": "IP-Q1",
        "title": "Query case",
        "setting": "inpatient",
        "code_set_year": 2026,
        "sections": [{"heading": "Discharge summary", "body": "Hyponatremia?"}],
        "coding": {"principal_diagnosis": "E87.1", "assumes_query_answer": "Confirmed SIADH."},
    }
    doc = document([item("E-1", case="IP-Q1")])
    doc["cases"] = [case]
    bank_import(doc)
    (exported,) = bank_export()["cases"]
    assert exported["coding"]["assumes_query_answer"] == "Confirmed SIADH."
    bad = copy.deepcopy(doc)
    bad["cases"][0]["coding"]["assumes_query_answer"] = ["yes"]
    with pytest.raises(BankImportError, match="must be text") as caught:
        bank_import(bad)
    assert caught.value.field == "coding.assumes_query_answer"


def test_an_editor_keeps_the_pairs_of_items_they_cannot_see():
    # A program's instructor paired their own item with a shared one; the operator, editing
    # the shared item, chooses among shared items only and must not drop that pairing.
    shared, other_shared, programs_own = (
        ItemVersionFactory(item__key=k).item for k in ("E-S", "E-X", "E-P")
    )
    item_enemies_set(item=programs_own, enemies=[shared])
    visible = Item.objects.filter(pk__in=[shared.pk, other_shared.pk])
    item_enemies_set(item=shared, enemies=[other_shared], visible=visible)
    assert set(shared.enemies.all()) == {other_shared, programs_own}
    # Without the editor's view, the list given is the whole truth.
    item_enemies_set(item=shared, enemies=[])
    assert not shared.enemies.exists()
