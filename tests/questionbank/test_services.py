import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from questionbank import services
from questionbank.models import (
    Domain,
    ItemStatus,
    ItemVersion,
    LockedVersionError,
    Option,
    StatusChange,
)
from questionbank.validation import OptionData, content_errors
from tests.factories import ItemVersionFactory

pytestmark = pytest.mark.django_db

FOUR = [
    OptionData("I10", False),
    OptionData("I11.0", True),
    OptionData("I13.0", False),
    OptionData("I50.9", False),
]


def draft(author, **overrides):
    fields = dict(
        key="D1-9001",
        domain=Domain.objects.get(number=1),
        stem="Which code is assigned for hypertensive heart disease with heart failure?",
        options=FOUR,
        code_set_year=2026,
        author=author,
        rationale="Guideline I.C.9.a.1 presumes the link between hypertension and heart failure.",
    )
    fields.update(overrides)
    return services.item_create(**fields)


# --- validation -------------------------------------------------------------------------
def test_multiple_choice_needs_exactly_one_key():
    two_keys = [OptionData("a", True), OptionData("b", True), OptionData("c", False)]
    errors = content_errors(
        kind="single", choose=1, options=two_keys, stem="s", rationale="r", status="draft"
    )
    assert errors["options"] == ["A multiple-choice item has exactly one key; this one has 2."]


def test_multiple_response_needs_as_many_keys_as_it_asks_and_at_least_two():
    opts = [OptionData(t, k) for t, k in [("a", True), ("b", True), ("c", True), ("d", False)]]
    errors = content_errors(
        kind="multiple", choose=2, options=opts, stem="s", rationale="r", status="draft"
    )
    assert "asks for 2 has exactly 2 keys; this one has 3" in errors["options"][0]
    errors = content_errors(
        kind="multiple", choose=1, options=opts, stem="s", rationale="r", status="draft"
    )
    assert errors["choose"] == ["A multiple-response item asks for at least 2 options."]


def test_options_must_be_distinct_and_three_to_six():
    opts = [OptionData("Same text", True), OptionData(" same  TEXT ", False)]
    errors = content_errors(
        kind="single", choose=1, options=opts, stem="s", rationale="r", status="draft"
    )
    assert any("3 to 6 options" in e for e in errors["options"])
    assert any("Options 1 and 2 have the same text" in e for e in errors["options"])


def test_rationale_required_before_review_not_for_draft():
    opts = [OptionData("a", True), OptionData("b", False), OptionData("c", False)]
    assert (
        content_errors(
            kind="single", choose=1, options=opts, stem="s", rationale="", status="draft"
        )
        == {}
    )
    errors = content_errors(
        kind="single", choose=1, options=opts, stem="s", rationale=" ", status="in_review"
    )
    assert errors == {"rationale": ["A rationale is required before an item goes to review."]}


def test_create_refuses_invalid_content_and_writes_nothing(instructor):
    with pytest.raises(ValidationError) as info:
        draft(instructor, options=FOUR[:2])
    assert "3 to 6 options" in str(info.value)
    assert not ItemVersion.objects.exists()


# --- versioning -------------------------------------------------------------------------
def test_draft_is_edited_in_place(instructor):
    version = draft(instructor)
    revised = services.item_revise(version=version, by=instructor, stem="A clearer stem?")
    assert revised.pk == version.pk
    assert ItemVersion.objects.get(pk=version.pk).stem == "A clearer stem?"


def test_locked_version_is_never_edited_and_a_change_makes_the_next_version(instructor, reviewer):
    version = draft(instructor)
    services.item_versions_lock(version_ids=[version.pk])
    new_options = [OptionData("I11.0", True), OptionData("I10", False), OptionData("I13.10", False)]
    revised = services.item_revise(
        version=version, by=reviewer, stem="Changed?", options=new_options
    )
    assert revised.pk != version.pk
    assert (revised.number, revised.status, revised.author, revised.locked) == (
        2,
        "draft",
        reviewer,
        False,
    )
    old = ItemVersion.objects.get(pk=version.pk)
    assert old.stem.startswith("Which code")  # earlier version stays readable and unchanged
    assert [o.text for o in old.options.all()] == ["I10", "I11.0", "I13.0", "I50.9"]
    assert [o.text for o in revised.options.all()] == ["I11.0", "I10", "I13.10"]


def test_locked_version_refuses_direct_saves_below_the_services(instructor):
    version = draft(instructor)
    services.item_versions_lock(version_ids=[version.pk])
    version.refresh_from_db()
    version.stem = "sneaky edit"
    with pytest.raises(LockedVersionError):
        version.save()
    with pytest.raises(LockedVersionError):
        Option.objects.filter(version=version).first().delete()
    with pytest.raises(LockedVersionError):
        Option(version=version, position=5, text="new", is_key=False).save()


def test_approved_version_change_goes_to_a_new_draft(instructor, reviewer):
    version = draft(instructor)
    services.item_version_transition(version=version, to_status="in_review", by=instructor)
    services.item_version_transition(version=version, to_status="approved", by=reviewer)
    version.refresh_from_db()
    revised = services.item_revise(version=version, by=instructor, stem="Another stem?")
    assert revised.number == 2 and revised.status == "draft"
    version.refresh_from_db()
    assert version.status == "approved"


# --- workflow ---------------------------------------------------------------------------
def test_full_workflow_with_history(instructor, reviewer):
    version = draft(instructor)
    for to_status, by in [("in_review", instructor), ("approved", reviewer), ("pretest", reviewer), ("operational", reviewer), ("retired", reviewer)]:  # fmt: skip
        version = services.item_version_transition(version=version, to_status=to_status, by=by)
        assert version.status == to_status
    history = list(
        StatusChange.objects.filter(item_version=version)
        .order_by("at", "pk")
        .values_list("to_status", flat=True)
    )
    assert history == ["in_review", "approved", "pretest", "operational", "retired"]


def test_author_cannot_approve_their_own_item(instructor):
    version = draft(instructor)
    services.item_version_transition(version=version, to_status="in_review", by=instructor)
    with pytest.raises(PermissionDenied, match="cannot approve their own item"):
        services.item_version_transition(version=version, to_status="approved", by=instructor)
    version.refresh_from_db()
    assert version.status == "in_review"


def test_candidate_cannot_approve_or_activate(instructor, reviewer, candidate):
    version = draft(instructor)
    services.item_version_transition(version=version, to_status="in_review", by=instructor)
    with pytest.raises(PermissionDenied):
        services.item_version_transition(version=version, to_status="approved", by=candidate)
    services.item_version_transition(version=version, to_status="approved", by=reviewer)
    with pytest.raises(PermissionDenied):
        services.item_version_transition(version=version, to_status="operational", by=candidate)


def test_transitions_outside_the_workflow_are_refused(instructor, reviewer):
    version = draft(instructor)
    with pytest.raises(ValidationError, match="cannot go from Draft to Operational"):
        services.item_version_transition(version=version, to_status="operational", by=reviewer)


def test_sending_to_review_needs_a_rationale(instructor):
    version = draft(instructor, rationale="")
    with pytest.raises(ValidationError, match="rationale is required"):
        services.item_version_transition(version=version, to_status="in_review", by=instructor)
    version.refresh_from_db()
    assert version.status == "draft"


def test_activating_a_new_version_retires_the_old_one(instructor, reviewer):
    old = ItemVersionFactory(status=ItemStatus.OPERATIONAL, author=instructor)
    services.item_versions_lock(version_ids=[old.pk])
    new = services.item_revise(version=old, by=instructor, stem="Improved stem?")
    for to_status, by in [
        ("in_review", instructor),
        ("approved", reviewer),
        ("operational", reviewer),
    ]:
        services.item_version_transition(version=new, to_status=to_status, by=by)
    old.refresh_from_db()
    assert old.status == "retired"
    assert ItemVersion.objects.operational().filter(item=old.item).get().pk == new.pk


def test_angoff_rating_one_per_judge_and_bounded(instructor, reviewer):
    version = draft(instructor)
    services.angoff_rating_set(version=version, judge=reviewer, rating="0.6")
    services.angoff_rating_set(version=version, judge=reviewer, rating=0.7)
    assert version.angoff_ratings.count() == 1
    assert float(version.angoff_ratings.get().rating) == 0.7
    with pytest.raises(ValidationError):
        services.angoff_rating_set(version=version, judge=reviewer, rating=1.2)
