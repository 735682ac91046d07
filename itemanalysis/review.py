"""Items flagged for review by a DIF run, and a reviewer's clearing of a flag.

The DIF page (itemanalysis.admin) computes Mantel-Haenszel DIF on the fly; recording a run
(`dif_run_record`) stores what it found and flags each item version in ETS category C on
the item itself (ItemReviewFlag), where the bank's item list and the item's page show it
until a reviewer clears it with a note (`review_flag_clear`). Both writes leave an audit
record (the flag's history).

A flag belongs to the program the run was made for: it names that program's groups
(cohorts, programs), so only that program's staff (and the operator) see it. A later run of
the same comparison updates an open flag with its figures, and does not raise again a flag
a reviewer cleared: they judged the item on that comparison already, and the DIF page says
so beside the item.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from common.lifecycle import log_event
from exams.models import ExamForm
from itemanalysis import selectors
from itemanalysis.models import DifRun, ItemReviewFlag, ReviewFlagSource
from itemanalysis.splits import Split
from tenancy.audit import with_actor
from tenancy.models import StaffRole
from tenancy.scoping import program_ids


def _run_program(user, form: ExamForm) -> int | None:
    """The program a run is made for: the form's own when the user teaches in it, else the
    user's (lowest-numbered) program; None for the operator."""
    ids = program_ids(user, roles=[StaffRole.INSTRUCTOR])
    if ids is None:
        return None
    if not ids:
        raise PermissionDenied("Only instructors of a program may flag items for review.")
    if form.owner_program_id in ids:
        return form.owner_program_id
    return min(ids)


def comparison_label(reference: str, focal: str) -> str:
    return f"{reference} vs {focal}"


@transaction.atomic
def dif_run_record(
    *,
    form: ExamForm,
    split_key: str,
    split: Split,
    reference_key: str = "",
    focal_key: str = "",
    by,
    now: dt.datetime | None = None,
) -> DifRun:
    """Compute the form's DIF for the split, store the run and flag its C items for review.

    Returns the run; its summary counts the categories and lists the item versions it
    flagged ("flagged"), those whose open flag it updated ("updated") and those a reviewer
    had cleared on this comparison before ("cleared_before")."""
    if by is None or not by.has_perm("itemanalysis.add_analysisrun"):
        raise PermissionDenied("You do not have permission to run item analyses.")
    program_id = _run_program(by, form)
    report = selectors.form_dif(form=form, split=split)
    if not report.rows:
        raise ValidationError(
            "There is nothing to record: the two groups have no finished attempts with "
            "answers on this form."
        )
    now = now or timezone.now()
    counts = {c: sum(1 for r in report.rows if r.category == c) for c in "ABC"}
    run = DifRun.objects.create(
        form=form,
        split=split_key,
        reference=report.reference,
        focal=report.focal,
        reference_key=reference_key,
        focal_key=focal_key,
        n_reference=report.n_reference,
        n_focal=report.n_focal,
        program_id=program_id,
        requested_by=by,
        summary=counts,
    )
    comparison = comparison_label(report.reference, report.focal)
    flagged, updated, cleared_before = [], [], []
    for row in report.flagged:
        details = {
            "n_reference": row.n_reference,
            "n_focal": row.n_focal,
            "right_reference": row.right_reference,
            "right_focal": row.right_focal,
            "chi2": row.chi2,
            "p": row.p,
            "favours": row.favours,
            "form": form.name,
            "position": row.position,
        }
        existing = (
            ItemReviewFlag.objects.select_for_update()
            .filter(
                item_version_id=row.version_id,
                source=ReviewFlagSource.DIF,
                split=split_key,
                comparison=comparison,
                program_id=program_id,
            )
            .first()
        )
        if existing is None:
            flag = ItemReviewFlag(
                item_version_id=row.version_id,
                source=ReviewFlagSource.DIF,
                run=run,
                program_id=program_id,
                split=split_key,
                comparison=comparison,
                category=row.category,
                delta=row.delta,
                details=details,
                raised_at=now,
            )
            with_actor(flag, by, f"DIF category C in DIF run #{run.pk} ({comparison})")
            flag.save()
            flagged.append(row.version_id)
        elif existing.is_open:
            existing.run, existing.delta, existing.details = run, row.delta, details
            with_actor(existing, by, f"Still category C in DIF run #{run.pk}")
            existing.save()
            updated.append(row.version_id)
        else:
            cleared_before.append(row.version_id)
    run.summary = {
        **counts,
        "flagged": flagged,
        "updated": updated,
        "cleared_before": cleared_before,
    }
    run.save(update_fields=["summary"])
    log_event(
        "dif.run",
        run_id=run.pk,
        form_id=form.pk,
        split=split_key,
        flagged=len(flagged),
        updated=len(updated),
    )
    return run


@transaction.atomic
def review_flag_clear(*, flag_id: int, note: str, by, now: dt.datetime | None = None):
    """A reviewer clears an open flag with a note saying what they concluded."""
    if by is None or not by.has_perm("itemanalysis.change_itemreviewflag"):
        raise PermissionDenied("You do not have permission to review flagged items.")
    flag = (
        ItemReviewFlag.objects.select_for_update()
        .filter(pk=flag_id)
        .filter(pk__in=ItemReviewFlag.objects.visible_to(by).values("pk"))
        .first()
    )
    if flag is None:
        raise PermissionDenied("This flag belongs to another program's review.")
    if program_ids(by, roles=[StaffRole.INSTRUCTOR]) == set():
        raise PermissionDenied("Only instructors of a program may clear review flags.")
    note = (note or "").strip()
    if not note:
        raise ValidationError("Say what the review concluded; the note is kept on record.")
    if not flag.is_open:
        raise ValidationError(
            f"This flag was already cleared on {flag.cleared_at:%Y-%m-%d} by "
            f"{flag.cleared_by or 'someone no longer registered'}."
        )
    flag.cleared_at = now or timezone.now()
    flag.cleared_by = by
    flag.note = note
    with_actor(flag, by, f"Cleared after review: {note}")
    flag.save()
    log_event("review_flag.cleared", flag_id=flag.pk, item_version_id=flag.item_version_id)
    return flag


def comparison_flags(
    *, user, split_key: str, comparison: str, version_ids: list[int]
) -> dict[int, ItemReviewFlag]:
    """The user's programs' flags of these item versions on this comparison (the DIF page
    shows beside each C item whether it is flagged, or was reviewed and cleared)."""
    return {
        flag.item_version_id: flag
        for flag in ItemReviewFlag.objects.visible_to(user)
        .filter(
            source=ReviewFlagSource.DIF,
            split=split_key,
            comparison=comparison,
            item_version_id__in=version_ids,
        )
        .select_related("cleared_by")
        .order_by("raised_at")
    }
