"""A DIF run's C items are flagged for review on the items themselves: the bank's item
list and the item's page show the flag with its comparison and run until a reviewer clears
it with a note; both writes are in the audit trail; other programs see none of it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cohorts.audit import audit_trail
from itemanalysis import review, splits
from itemanalysis.models import DifRun, ItemReviewFlag
from tests.conftest import make_user, program
from tests.itemanalysis.test_dif import PLANTED, URL
from tests.itemanalysis.test_dif import two_cohorts as two_cohorts  # the fixture

pytestmark = pytest.mark.django_db

ITEM_LIST = "/admin/questionbank/itemversion/"


def _split(instructor, north, south):
    return splits.provider("cohorts").split(
        user=instructor, reference=str(north.pk), focal=str(south.pk)
    )


def _record(client, instructor, form, north, south):
    client.force_login(instructor)
    return client.post(
        URL, {"form": form.pk, "split": "cohorts", "reference": north.pk, "focal": south.pk}
    )


def test_recording_a_dif_run_flags_its_c_item_on_the_item(client, instructor, two_cohorts):
    form, (north, south), versions = two_cohorts
    response = _record(client, instructor, form, north, south)
    assert response.status_code == 302
    assert f"reference={north.pk}" in response.url and "split=cohorts" in response.url

    run = DifRun.objects.get()
    assert (run.form, run.split, run.reference, run.focal) == (form, "cohorts", "North", "South")
    assert (run.n_reference, run.n_focal, run.requested_by) == (300, 300, instructor)
    assert run.program == program("a") and run.summary["C"] == 1
    flag = ItemReviewFlag.objects.get()
    assert flag.item_version_id == versions[PLANTED] and flag.run == run and flag.is_open
    assert (flag.category, flag.comparison, flag.split) == ("C", "North vs South", "cohorts")
    assert flag.delta < -1.5
    assert flag.details["n_reference"] == 300 and flag.details["favours"] == "reference"

    # The DIF page now says the item is flagged, with a link to clear it.
    page = client.get(response.url).content.decode()
    assert f"flagged (run #{run.pk})" in page
    assert reverse("admin:itemanalysis_itemreviewflag_clear", args=[flag.pk]) in page
    # The bank's item list shows the flag, and filters on it.
    listing = client.get(ITEM_LIST, {"review": "open"}).content.decode()
    key = flag.item_version.item.key
    assert "DIF C — review" in listing and key in listing
    assert client.get(ITEM_LIST, {"review": "open"}).context["cl"].result_count == 1
    # The item's page shows the comparison and the run that raised it.
    item_page = client.get(
        reverse("admin:questionbank_itemversion_change", args=[versions[PLANTED]])
    ).content.decode()
    assert 'id="review-flags"' in item_page
    assert "North vs South" in item_page and f"DIF run #{run.pk}" in item_page
    assert "Open — clear after review" in item_page
    # The audit trail has the flag's raising.
    lines = [line for line in audit_trail(user=instructor) if line.label.startswith("Item review")]
    assert lines and lines[0].kind == "created" and f"DIF run #{run.pk}" in lines[0].reason


def test_a_reviewer_clears_the_flag_with_a_note(client, instructor, reviewer, two_cohorts):
    form, (north, south), versions = two_cohorts
    _record(client, instructor, form, north, south)
    flag = ItemReviewFlag.objects.get()
    url = reverse("admin:itemanalysis_itemreviewflag_clear", args=[flag.pk])
    client.force_login(reviewer)
    page = client.get(url).content.decode()
    assert "North vs South" in page and f"DIF run #{flag.run_id}" in page

    # No note: refused, nothing changed.
    response = client.post(url, {"note": "  "})
    assert response.status_code == 200
    flag.refresh_from_db()
    assert flag.is_open

    note = "Checked the wording with both cohorts; kept as is."
    response = client.post(url, {"note": note})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert not flag.is_open and flag.cleared_by == reviewer and flag.note == note
    # Off the list's open filter, and the item page shows the review.
    assert client.get(ITEM_LIST, {"review": "open"}).context["cl"].result_count == 0
    item_page = client.get(
        reverse("admin:questionbank_itemversion_change", args=[versions[PLANTED]])
    ).content.decode()
    assert "Cleared" in item_page and note in item_page
    # In the audit trail, with the reviewer and their note.
    cleared = [line for line in audit_trail(user=reviewer) if line.reason.startswith("Cleared")]
    assert cleared and "reviewer" in cleared[0].who.lower()
    assert note in cleared[0].reason
    # Clearing twice is refused with a clear message.
    with pytest.raises(ValidationError, match="already cleared"):
        review.review_flag_clear(flag_id=flag.pk, note="again", by=reviewer)


def test_a_later_run_updates_an_open_flag_and_never_re_raises_a_cleared_one(
    instructor, reviewer, two_cohorts
):
    form, (north, south), versions = two_cohorts
    split = _split(instructor, north, south)
    first = review.dif_run_record(form=form, split_key="cohorts", split=split, by=instructor)
    second = review.dif_run_record(form=form, split_key="cohorts", split=split, by=instructor)
    assert first.summary["flagged"] == [versions[PLANTED]]
    assert second.summary["flagged"] == [] and second.summary["updated"] == [versions[PLANTED]]
    flag = ItemReviewFlag.objects.get()
    assert flag.run == second
    review.review_flag_clear(flag_id=flag.pk, note="Reviewed.", by=reviewer)
    third = review.dif_run_record(form=form, split_key="cohorts", split=split, by=instructor)
    assert third.summary["cleared_before"] == [versions[PLANTED]]
    assert ItemReviewFlag.objects.count() == 1 and not ItemReviewFlag.objects.get().is_open


def test_another_programs_staff_see_and_clear_none_of_it(
    client, django_user_model, instructor, two_cohorts
):
    form, (north, south), versions = two_cohorts
    _record(client, instructor, form, north, south)
    flag = ItemReviewFlag.objects.get()
    outsider = make_user(django_user_model, "instr-b", "Instructor", staff=True, program_slug="b")
    client.force_login(outsider)
    url = reverse("admin:itemanalysis_itemreviewflag_clear", args=[flag.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"note": "not mine"}).status_code == 404
    with pytest.raises(PermissionDenied):
        review.review_flag_clear(flag_id=flag.pk, note="not mine", by=outsider)
    listing = client.get(ITEM_LIST).content.decode()
    assert "DIF C — review" not in listing
    item_page = client.get(
        reverse("admin:questionbank_itemversion_change", args=[versions[PLANTED]])
    )
    if item_page.status_code == 200:  # shared bank items are readable by every program
        assert "North vs South" not in item_page.content.decode()
    flag.refresh_from_db()
    assert flag.is_open


def test_managers_cannot_record_runs_or_clear_flags(client, manager, instructor, two_cohorts):
    form, (north, south), versions = two_cohorts
    split = _split(instructor, north, south)
    with pytest.raises(PermissionDenied):
        review.dif_run_record(form=form, split_key="cohorts", split=split, by=manager)
    run = review.dif_run_record(form=form, split_key="cohorts", split=split, by=instructor)
    with pytest.raises(PermissionDenied):
        review.review_flag_clear(flag_id=run.flags.get().pk, note="x", by=manager)
    client.force_login(manager)
    response = client.post(
        URL, {"form": form.pk, "split": "cohorts", "reference": north.pk, "focal": south.pk}
    )
    assert response.status_code in (302, 403)
    assert DifRun.objects.count() == 1


def test_recording_with_bad_groups_is_refused_in_place_and_records_nothing(
    client, instructor, two_cohorts
):
    form, (north, _south), _versions = two_cohorts
    client.force_login(instructor)
    response = client.post(
        URL, {"form": form.pk, "split": "cohorts", "reference": north.pk, "focal": north.pk}
    )
    assert response.status_code == 200
    assert "Choose two different groups to compare." in response.content.decode()
    assert not DifRun.objects.exists() and not ItemReviewFlag.objects.exists()


def test_a_split_with_an_empty_group_is_refused_and_records_nothing(instructor, two_cohorts):
    """Every candidate here sat once: first versus repeat attempts has no focal group."""
    form, *_ = two_cohorts
    split = splits.provider("attempt-order").split(user=instructor)
    with pytest.raises(ValidationError, match="nothing to record"):
        review.dif_run_record(form=form, split_key="attempt-order", split=split, by=instructor)
    assert not DifRun.objects.exists()
