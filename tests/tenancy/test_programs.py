"""Programs side by side: the import respects the review workflow, accommodations are a
program's own, and every sensitive change leaves an audit record with before and after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from cohorts import services as cohort_services
from cohorts.audit import audit_trail
from cohorts.models import Accommodation, Assignment, Cohort, Membership
from exams import services as exam_services
from exams.models import Attempt
from questionbank import services as bank_services
from questionbank.exchange import FORMAT, FORMAT_VERSION, bank_import
from questionbank.models import AngoffRating, Item, ItemStatus, ItemVersion
from scoring import services as scoring_services
from tenancy.models import ProgramStaff
from tests.conftest import give_role, program
from tests.factories import (
    ItemVersionFactory,
    blueprint_with,
    operational_versions,
    rate,
    stock_bank,
)

pytestmark = pytest.mark.django_db


def _doc(*items):
    return {"format": FORMAT, "version": FORMAT_VERSION, "cases": [], "items": list(items)}


def _item(key, status="operational", angoff=()):
    return {
        "key": key,
        "domain": 1,
        "kind": "single",
        "choose": 1,
        "stem": f"Stem of {key}: which code is assigned?",
        "options": [
            {"text": "A41.9", "key": True},
            {"text": "A41.89", "key": False},
            {"text": "A40.9", "key": False},
        ],
        "rationale": "Because the guideline says so.",
        "code_set_year": 2026,
        "status": status,
        "angoff": [{"judge": j, "rating": r} for j, r in angoff],
    }


# --- The import ------------------------------------------------------------------------------
def test_an_import_cannot_activate_content_it_lands_in_review(instructor):
    result = bank_import(
        _doc(_item("IMP-1", "operational"), _item("IMP-2", "approved"), _item("IMP-3", "draft")),
        by=instructor,
        program=program("a"),
    )
    statuses = dict(
        ItemVersion.objects.filter(item__key__startswith="IMP-").values_list("item__key", "status")
    )
    assert statuses == {
        "IMP-1": ItemStatus.IN_REVIEW,
        "IMP-2": ItemStatus.IN_REVIEW,
        "IMP-3": ItemStatus.DRAFT,
    }
    assert result.held_for_review == 2 and "second person" in result.summary()
    assert set(
        Item.objects.filter(key__startswith="IMP-").values_list("owner_program", flat=True)
    ) == {program("a").pk}


def test_an_import_never_moves_a_reviewed_version(instructor):
    bank_import(_doc(_item("IMP-9", "draft")), by=instructor, program=program("a"))
    version = ItemVersion.objects.get(item__key="IMP-9")
    ItemVersion.objects.filter(pk=version.pk).update(status=ItemStatus.APPROVED)
    bank_import(_doc(_item("IMP-9", "operational")), by=instructor, program=program("a"))
    assert ItemVersion.objects.get(item__key="IMP-9").status == ItemStatus.APPROVED


def test_an_import_stores_only_the_importers_own_angoff_ratings(instructor, reviewer):
    result = bank_import(
        _doc(_item("IMP-4", angoff=[(instructor.username, 0.7), (reviewer.username, 0.2)])),
        by=instructor,
        program=program("a"),
    )
    ratings = list(AngoffRating.objects.values_list("judge__username", "rating"))
    assert ratings == [(instructor.username, Decimal("0.700"))]
    assert any(reviewer.username in m and "ignored" in m for m in result.messages)


def test_an_import_cannot_change_shared_or_another_programs_items(instructor, manager_b):
    ItemVersionFactory(item__key="SHARED-1")  # the sample bank: no program
    before = ItemVersion.objects.get(item__key="SHARED-1").stem
    from questionbank.exchange import BankImportError

    with pytest.raises(BankImportError, match="taken by content you cannot change"):
        bank_import(_doc(_item("SHARED-1")), by=instructor, program=program("a"))
    assert ItemVersion.objects.get(item__key="SHARED-1").stem == before
    with pytest.raises(PermissionDenied):
        bank_import(_doc(_item("IMP-5")), by=instructor, program=program("b"))
    assert not Item.objects.filter(key="IMP-5").exists()


def test_the_operators_restore_brings_back_a_full_state_recorded_as_such(tmp_path):
    import json

    file = tmp_path / "bank.json"
    file.write_text(json.dumps(_doc(_item("RST-1", "operational", angoff=[("panel-9", 0.6)]))))
    call_command("restore_bank", str(file))
    version = ItemVersion.objects.get(item__key="RST-1")
    assert version.status == ItemStatus.OPERATIONAL and version.item.owner_program is None
    assert AngoffRating.objects.get(item_version=version).judge.username == "panel-9"
    reasons = set(version.history.values_list("history_change_reason", flat=True))
    assert any(r.startswith("Operator restore (bank.json)") for r in reasons)
    rating = AngoffRating.objects.get(item_version=version)
    assert rating.history.get().history_change_reason.startswith("Operator restore")


# --- Accommodations ---------------------------------------------------------------------------
@pytest.fixture
def two_programs(candidate, instructor, manager, manager_b, django_user_model):
    """The same candidate in a cohort of program A and one of program B, each assigning
    its own published form."""
    from tests.conftest import make_user

    instructor_b = make_user(
        django_user_model, "instr-b", "Instructor", staff=True, program_slug="b"
    )
    stock_bank({1: 4})
    blueprint = blueprint_with({1: 2})
    forms, cohorts = {}, {}
    for slug, instr, mgr in (("a", instructor, manager), ("b", instructor_b, manager_b)):
        form = exam_services.form_assemble(
            blueprint=blueprint, seed=1 if slug == "a" else 2, name=f"Form {slug}", by=instr
        )
        rate(operational_versions(form), rating=0.6)
        forms[slug] = exam_services.form_publish(form=form, by=instr)
        cohort = Cohort.objects.create(name=f"Cohort {slug}", program=program(slug))
        cohort.managers.add(mgr)
        cohort.instructors.add(instr)
        Membership.objects.create(
            cohort=cohort, user=candidate, joined_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
        Assignment.objects.create(
            cohort=cohort, form=forms[slug], opens_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
        cohorts[slug] = cohort
    return {"forms": forms, "cohorts": cohorts, "instructor_b": instructor_b}


def test_changing_an_accommodation_in_program_a_leaves_program_bs_exams_alone(
    two_programs, candidate, instructor
):
    forms, cohorts = two_programs["forms"], two_programs["cohorts"]
    cohort_services.accommodation_set(
        cohort=cohorts["a"], candidate_id=candidate.pk, multiplier=Decimal("2.00"), by=instructor
    )
    in_b = exam_services.attempt_start(form=forms["b"], candidate=candidate)
    in_a = exam_services.attempt_start(form=forms["a"], candidate=candidate)
    assert (in_a.time_multiplier, in_a.program_id) == (Decimal("2.00"), program("a").pk)
    assert (in_b.time_multiplier, in_b.program_id) == (Decimal("1.00"), program("b").pk)
    # A later change touches neither a running attempt nor the other program's.
    cohort_services.accommodation_set(
        cohort=cohorts["a"], candidate_id=candidate.pk, multiplier=Decimal("3.00"), by=instructor
    )
    assert Attempt.objects.get(pk=in_a.pk).time_multiplier == Decimal("2.00")
    assert Attempt.objects.get(pk=in_b.pk).time_multiplier == Decimal("1.00")
    assert not Accommodation.objects.filter(program=program("b")).exists()


def test_staff_of_another_program_cannot_set_or_read_an_accommodation(
    client, two_programs, candidate, instructor
):
    cohort_a = two_programs["cohorts"]["a"]
    with pytest.raises(PermissionDenied):
        cohort_services.accommodation_set(
            cohort=cohort_a,
            candidate_id=candidate.pk,
            multiplier=Decimal("3.50"),
            by=two_programs["instructor_b"],
        )
    client.force_login(two_programs["instructor_b"])
    url = reverse("cohorts:accommodation", args=[cohort_a.pk, candidate.pk])
    assert client.post(url, {"time_multiplier": "3.50"}).status_code == 404
    assert not Accommodation.objects.exists()
    Accommodation.objects.create(
        program=program("a"), user=candidate, time_multiplier="1.50", note="ADA letter"
    )
    page = client.get(reverse("admin:cohorts_accommodation_changelist")).content.decode()
    assert "ADA letter" not in page


# --- The audit trail ------------------------------------------------------------------------
def _records(user, label):
    return [line for line in audit_trail(user=user, limit=500) if line.label.startswith(label)]


def _change(line, field):
    return next((c.before, c.after) for c in line.changes if c.field == field)


def test_accommodations_are_audited_with_before_and_after(two_programs, candidate, instructor):
    cohort = two_programs["cohorts"]["a"]
    for value in ("1.50", "2.25"):
        cohort_services.accommodation_set(
            cohort=cohort, candidate_id=candidate.pk, multiplier=Decimal(value), by=instructor
        )
    latest = _records(instructor, "Accommodation")[0]
    assert latest.who == instructor.get_full_name() and latest.kind == "changed"
    assert _change(latest, "time_multiplier") == (Decimal("1.50"), Decimal("2.25"))
    # Program B's staff do not read program A's trail.
    assert not _records(two_programs["instructor_b"], "Accommodation")


def test_item_status_angoff_ratings_publication_and_cut_overrides_are_audited(instructor, reviewer):
    version = bank_services.item_create(
        key="AUD-1",
        domain=ItemVersionFactory().domain,
        stem="Which code?",
        options=[
            bank_services.OptionData("A", True),
            bank_services.OptionData("B", False),
            bank_services.OptionData("C", False),
        ],
        rationale="Because.",
        code_set_year=2026,
        author=instructor,
    )
    bank_services.item_version_transition(
        version=version, to_status=ItemStatus.IN_REVIEW, by=instructor
    )
    line = _records(reviewer, "Item version")[0]
    assert _change(line, "status") == (ItemStatus.DRAFT, ItemStatus.IN_REVIEW)
    assert line.who == instructor.get_full_name()

    bank_services.angoff_rating_set(version=version, judge=reviewer, rating="0.40")
    bank_services.angoff_rating_set(version=version, judge=reviewer, rating="0.55")
    line = _records(instructor, "Angoff rating")[0]
    assert _change(line, "rating") == (Decimal("0.400"), Decimal("0.550"))
    assert line.who == reviewer.get_full_name()

    stock_bank({1: 2})
    form = exam_services.form_assemble(
        blueprint=blueprint_with({1: 2}), seed=3, name="Audited form", by=instructor
    )
    rate(operational_versions(form), rating=0.6)
    exam_services.form_publish(form=form, by=instructor)
    line = next(x for x in _records(instructor, "Exam form") if x.reason == "Published")
    assert _change(line, "status") == ("draft", "published")
    scoring_services.form_cut_override(form=form, cut=1.0, reason="panel too strict", by=instructor)
    line = _records(instructor, "Conversion table")[0]
    before, after = _change(line, "cut")
    assert after == 1.0 and before != 1.0 and "panel too strict" in line.reason


def test_memberships_staff_roles_and_results_are_audited(two_programs, candidate, manager):
    cohort = two_programs["cohorts"]["a"]
    cohort_services.member_remove(cohort=cohort, user_id=candidate.pk)
    line = _records(manager, "Cohort membership")[0]
    assert line.kind == "deleted" and _change(line, "user")[0] == candidate.pk
    give_role(candidate, "a", "instructor")
    assert _records(manager, "Staff role")[0].kind == "created"
    ProgramStaff.objects.filter(user=candidate).delete()
    assert _records(manager, "Staff role")[0].kind == "deleted"

    attempt = exam_services.attempt_start(form=two_programs["forms"]["b"], candidate=candidate)
    exam_services.attempt_submit(attempt=attempt)
    scoring_services.attempt_score(attempt_id=attempt.pk)
    b_manager = Cohort.objects.get(pk=two_programs["cohorts"]["b"].pk).managers.get()
    result = _records(b_manager, "Attempt result")[0]
    assert result.kind == "created" and _change(result, "passed")[0] is None
    assert not _records(manager, "Attempt result")  # sat under program B


def test_the_audit_page_shows_a_programs_staff_their_own_trail_only(
    client, two_programs, candidate, instructor, manager
):
    cohort_services.accommodation_set(
        cohort=two_programs["cohorts"]["b"],
        candidate_id=candidate.pk,
        multiplier=Decimal("1.75"),
        note="Letter from B",
        by=two_programs["instructor_b"],
    )
    client.force_login(manager)
    page = client.get(reverse("cohorts:audit")).content.decode()
    assert "Audit trail" in page and "1.75" not in page
    client.force_login(two_programs["instructor_b"])
    assert "1.75" in client.get(reverse("cohorts:audit")).content.decode()


def test_saving_an_answer_writes_no_audit_record(two_programs, candidate):
    """The hot path stays one statement: no history table is written by a save."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    attempt = exam_services.attempt_start(form=two_programs["forms"]["a"], candidate=candidate)
    with CaptureQueriesContext(connection) as queries:
        exam_services.response_save(attempt=attempt, position=1, choices=["0"], flagged=False)
    writes = [q["sql"] for q in queries.captured_queries if "historical" in q["sql"].lower()]
    assert not writes and len(queries.captured_queries) <= 2
