"""The shipped sample bank: loads cleanly, twice, and can sit two full CCS forms."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from questionbank.models import Case, Item, ItemVersion

pytestmark = pytest.mark.django_db

# Two forms of the default blueprint with no item shared, plus a pretest pool.
NEEDED_OPERATIONAL = {1: 115, 2: 30, 3: 22, 4: 22, 5: 18}


@pytest.fixture
def loaded():
    call_command("load_sample_bank", stdout=io.StringIO())


def test_sample_bank_meets_the_counts_for_two_forms(loaded):
    operational = dict(
        ItemVersion.objects.operational()
        .values_list("domain__number")
        .annotate(n=Count("id"))
        .values_list("domain__number", "n")
    )
    for domain, needed in NEEDED_OPERATIONAL.items():
        assert operational.get(domain, 0) >= needed, f"domain {domain}"
    assert ItemVersion.objects.pretest().count() >= 30
    assert ItemVersion.objects.pretest().values("domain").distinct().count() == 5
    total = ItemVersion.objects.count()
    assert total >= 240
    assert ItemVersion.objects.filter(kind="multiple").count() >= 0.15 * total


def test_sample_bank_cases_and_their_items(loaded):
    settings = dict(Case.objects.values_list("setting").annotate(n=Count("id")))
    assert settings["inpatient"] >= 8 and settings["outpatient"] >= 6
    for case in Case.objects.annotate(n=Count("item_versions")):
        # A case may carry a sixth, pretest item on how its MS-DRG depends on a query answer.
        assert 3 <= case.n <= 6, case.key
        if case.setting == "inpatient":
            assert case.coding.get("principal_diagnosis"), case.key


def test_every_sample_item_is_complete(loaded):
    for version in ItemVersion.objects.prefetch_related("options", "angoff_ratings"):
        assert version.rationale.strip(), version
        assert version.code_set_year == 2026, version
        assert version.angoff_ratings.count() >= 1, version
        texts = [o.text.casefold() for o in version.options.all()]
        assert not any("all of the above" in t or "none of the above" in t for t in texts), version


def test_case_sets_ask_for_other_diagnoses_and_procedures_as_select_all_that_apply(loaded):
    select_all = ItemVersion.objects.filter(kind="select_all", case__isnull=False)
    assert select_all.count() >= 15
    for version in select_all:
        assert "Select all that apply." in version.stem, version
        assert "Choose" not in version.stem, version


def test_the_sample_enemies_are_declared_both_ways(loaded):
    mue = Item.objects.get(key="D1-0066")
    assert {"D4-0018", "OP2-034"} <= set(mue.enemies.values_list("key", flat=True))
    assert "D1-0066" in Item.objects.get(key="OP2-034").enemies.values_list("key", flat=True)


def test_loading_twice_changes_nothing(loaded, capsys):
    call_command("load_sample_bank")
    out = capsys.readouterr().out
    assert "0 created, 0 revised" in out
