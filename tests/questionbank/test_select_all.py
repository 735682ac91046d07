"""Select all that apply: the count is not stated; scoring is all or nothing unless the item
declares partial credit. From authoring through import, delivery, scoring and analysis."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from exams import services as exam_services
from exams.models import Response
from itemanalysis.models import AnalysisKind, ItemStatistic
from itemanalysis.selectors import distractor_table
from psychometrics.items import score_item
from questionbank.exchange import BankImportError, bank_export, bank_import
from questionbank.models import Domain, ItemVersion
from questionbank.services import item_create
from questionbank.validation import OptionData, content_errors
from scoring import services as scoring_services
from tests.conftest import PASSWORD
from tests.factories import bank_items, finished_attempt, published_form, scored_form
from tests.itemanalysis.helpers import run

OPTIONS = [("E11.22", True), ("N18.31", True), ("I10", False), ("E11.9", False), ("I12.9", False)]


def options(specs=OPTIONS):
    return [OptionData(text, key) for text, key in specs]


# --- Content rules ----------------------------------------------------------------------
def rules(specs, **kwargs):
    return content_errors(
        kind="select_all",
        choose=kwargs.pop("choose", 1),
        options=options(specs),
        stem="Which other diagnoses are reported? Select all that apply.",
        rationale="Because.",
        status="operational",
        **kwargs,
    )


def test_select_all_needs_a_key_and_an_option_that_is_not_one():
    assert rules(OPTIONS) == {}
    assert "at least one key" in rules([(t, False) for t, _ in OPTIONS])["options"][0]
    assert "not a key" in rules([(t, True) for t, _ in OPTIONS])["options"][0]


def test_select_all_states_no_count_so_choose_is_not_checked_and_partial_credit_is_allowed():
    assert rules(OPTIONS, choose=1) == {}
    assert rules(OPTIONS, choose=4, partial_credit=True) == {}


@pytest.mark.django_db
def test_the_stored_choose_of_a_select_all_item_is_its_number_of_keys():
    version = item_create(
        key="SA-1",
        domain=Domain.objects.get(number=1),
        kind="select_all",
        choose=1,
        stem="Which other diagnoses are reported?",
        options=options(),
        code_set_year=2026,
    )
    assert version.kind == "select_all" and version.choose == 2
    with pytest.raises(ValidationError, match="not a key"):
        item_create(
            key="SA-2",
            domain=Domain.objects.get(number=1),
            kind="select_all",
            stem="?",
            options=options([(t, True) for t, _ in OPTIONS]),
            code_set_year=2026,
        )


# --- Import and export ------------------------------------------------------------------
def document(**item_fields):
    item = {
        "key": "SA-0001",
        "domain": 1,
        "kind": "select_all",
        "stem": "Which other diagnoses are reported? Select all that apply.",
        "options": [{"text": text, "key": key} for text, key in OPTIONS],
        "rationale": "E11.22 and N18.31 are supported; the others are not.",
        "code_set_year": 2026,
        "status": "operational",
        "partial_credit": True,
        **item_fields,
    }
    return {"format": "ccs-sim-bank", "version": 1, "cases": [], "items": [item]}


@pytest.mark.django_db
def test_select_all_round_trips_through_export_and_import():
    bank_import(document())
    exported = bank_export()
    (item,) = exported["items"]
    assert (item["kind"], item["choose"], item["partial_credit"]) == ("select_all", 2, True)
    assert [o["key"] for o in item["options"]] == [k for _, k in OPTIONS]
    result = bank_import(copy.deepcopy(exported))
    assert (result.items_created, result.items_revised, result.items_unchanged) == (0, 0, 1)


@pytest.mark.django_db
def test_a_select_all_item_with_a_stated_count_other_than_its_keys_is_refused():
    with pytest.raises(BankImportError, match="states no count") as caught:
        bank_import(document(choose=3))
    assert caught.value.field == "choose"
    assert not ItemVersion.objects.exists()


# --- Scoring ----------------------------------------------------------------------------
def test_select_all_is_all_or_nothing_by_default():
    keys = {"a", "b"}
    assert score_item("select_all", keys, ["b", "a"]) == 1.0
    assert score_item("select_all", keys, ["a"]) == 0.0
    assert score_item("select_all", keys, ["a", "b", "c"]) == 0.0
    assert score_item("select_all", keys, ["a", "b", "c", "d", "e"]) == 0.0
    assert score_item("select_all", keys, None) == 0.0


def test_select_all_partial_credit_subtracts_wrong_choices_so_ticking_everything_earns_nothing():
    keys = {"a", "b", "c"}
    assert score_item("select_all", keys, ["a", "b"], partial=True) == pytest.approx(2 / 3)
    assert score_item("select_all", keys, ["a", "b", "d"], partial=True) == pytest.approx(1 / 3)
    assert score_item("select_all", keys, ["a", "b", "c", "d", "e"], partial=True) == (
        pytest.approx(1 / 3)
    )
    assert score_item("select_all", keys, ["d", "e"], partial=True) == 0.0


# --- Delivery ---------------------------------------------------------------------------
@pytest.fixture
def select_all_form():
    (version,) = bank_items(1, 1, kind="select_all", choose=2, options=OPTIONS)
    return published_form({1: 1}, stock=False, name="Select all"), version


@pytest.mark.django_db
def test_the_page_says_select_all_that_apply_and_never_states_the_count(
    client, candidate, select_all_form
):
    form, _ = select_all_form
    attempt = exam_services.attempt_start(form=form, candidate=candidate)
    # The layout the page works from allows every option and carries no number of keys.
    assert attempt.layout[0][1] == len(OPTIONS)
    client.login(username=candidate.username, password=PASSWORD)
    html = client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    assert "Select all that apply." in html
    assert "Choose 2" not in html and 'data-choose="2"' not in html
    assert html.count('type="checkbox" name="choice"') == len(OPTIONS)


@pytest.mark.django_db
def test_a_candidate_may_choose_any_number_of_options(candidate, select_all_form):
    form, _ = select_all_form
    attempt = exam_services.attempt_start(form=form, candidate=candidate)
    exam_services.response_save(
        attempt=attempt, position=1, choices=["0", "1", "2", "3", "4"], flagged=False
    )
    assert len(Response.objects.get().selection) == 5


@pytest.mark.django_db
def test_scoring_an_attempt_uses_the_items_declared_rule(candidate):
    bank_items(1, 1, kind="select_all", choose=2, options=OPTIONS, partial_credit=True)
    bank_items(1, 1, kind="select_all", choose=2, options=OPTIONS)
    form = scored_form({1: 2}, stock=False, rating=0.5)
    attempt = finished_attempt(form, candidate, correct=None)
    for form_item in form.items.select_related("item_version"):
        first_key = form_item.item_version.options.get(position=0).pk
        Response.objects.create(
            attempt=attempt, form_item=form_item, selection=[first_key], saved_at=attempt.started_at
        )
    result = scoring_services.attempt_score(attempt_id=attempt.pk)
    # One of the two keys and nothing wrong: half credit with partial credit, else nothing.
    scores = {
        fi.item_version.partial_credit: result.item_scores[str(fi.pk)]
        for fi in form.items.select_related("item_version")
    }
    assert scores == {True: 0.5, False: 0.0}
    assert result.raw_score == 0.5


# --- Item analysis ----------------------------------------------------------------------
@pytest.mark.django_db
def test_option_rates_of_a_select_all_item_are_per_option(candidate, other_candidate):
    (version,) = bank_items(1, 1, kind="select_all", choose=2, options=OPTIONS)
    bank_items(1, 3)
    form = scored_form({1: 4}, stock=False, rating=0.5)
    keys = list(version.options.filter(is_key=True).values_list("pk", flat=True))
    wrong = list(version.options.filter(is_key=False).values_list("pk", flat=True))
    for person, selection in ((candidate, keys), (other_candidate, keys + wrong[:1])):
        attempt = finished_attempt(form, person, correct=True)
        Response.objects.filter(attempt=attempt, form_item__item_version=version).update(
            selection=selection
        )
    assert run(AnalysisKind.CLASSICAL, form=form).status == "done"
    statistic = ItemStatistic.objects.get(item_version=version, kind=AnalysisKind.CLASSICAL)
    assert statistic.key == "A+B"
    assert statistic.p == pytest.approx(0.5)
    rows = {row.label: row for row in distractor_table(version=version, statistic=statistic)}
    assert rows["A"].is_key and rows["B"].is_key and not rows["C"].is_key
    assert rows["A"].all == pytest.approx(1.0) and rows["C"].all == pytest.approx(0.5)
    assert rows["D"].all == 0.0
