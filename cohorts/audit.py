"""The audit trail: who changed what, when, with the values before and after.

Every sensitive model keeps its history with django-simple-history (tenancy.audit stamps
each record with its program). This module reads those tables for a page: a program's
staff read their programs' records; the platform operator reads everything, shared
content and platform changes included. Reads only: nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cohorts.models import Accommodation, Assignment, Cohort, Membership
from exams.models import ExamForm
from itemanalysis.models import ItemReviewFlag
from questionbank.models import AngoffRating, Item, ItemVersion
from scoring.models import AttemptResult, CutProposal, ScaleConversion
from tenancy.models import Program, ProgramStaff
from tenancy.scoping import program_ids

# What is audited, in the words of the page.
AUDITED = [
    (ItemVersion, "Item version (content and status)"),
    (Item, "Item (program)"),
    (AngoffRating, "Angoff rating"),
    (ExamForm, "Exam form (publication, availability)"),
    (ScaleConversion, "Conversion table and cut"),
    (CutProposal, "Cut proposal (proposed, confirmed, rejected)"),
    (AttemptResult, "Attempt result"),
    (ItemReviewFlag, "Item review flag (DIF)"),
    (Accommodation, "Accommodation"),
    (Membership, "Cohort membership"),
    (Cohort, "Cohort"),
    (Assignment, "Assignment"),
    (ProgramStaff, "Staff role"),
    (Program, "Program"),
]
KINDS = {"+": "created", "~": "changed", "-": "deleted"}
# Bookkeeping columns that are not what anyone changed.
IGNORED = {"updated_at", "rated_at", "set_at", "created_at"}


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class AuditLine:
    at: dt.datetime
    who: str
    what: str
    label: str
    kind: str
    reason: str
    object_id: int
    program_id: int | None
    changes: list[Change]


def _who(record) -> str:
    user = record.history_user
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def _changes(record) -> list[Change]:
    fields = [f for f in record.instance_type._meta.concrete_fields if f.attname not in IGNORED]
    if record.history_type == "~":
        previous = record.prev_record
        if previous is not None:
            delta = record.diff_against(previous, foreign_keys_are_objs=False)
            return [Change(c.field, c.old, c.new) for c in delta.changes if c.field not in IGNORED]
    values = [(f.name, getattr(record, f.attname, None)) for f in fields if f.name != "id"]
    if record.history_type == "-":
        return [Change(name, value, None) for name, value in values]
    return [Change(name, None, value) for name, value in values]


def audit_trail(
    *, user, program_id: int | None = None, limit: int = 100, kind: str | None = None
) -> list[AuditLine]:
    """The latest `limit` audit records the user may read, newest first, optionally of
    one program and one model (`kind`, the model's label)."""
    allowed = program_ids(user)
    lines: list[AuditLine] = []
    for model, label in AUDITED:
        if kind and model._meta.label_lower != kind:
            continue
        records = model.history.select_related("history_user")
        if allowed is not None:
            records = records.filter(audit_program_id__in=sorted(allowed))
        if program_id is not None:
            records = records.filter(audit_program_id=program_id)
        for record in records.order_by("-history_date", "-history_id")[:limit]:
            lines.append(
                AuditLine(
                    at=record.history_date,
                    who=_who(record),
                    what=str(record.instance),
                    label=label,
                    kind=KINDS.get(record.history_type, record.history_type),
                    reason=record.history_change_reason or "",
                    object_id=record.id,
                    program_id=record.audit_program_id,
                    changes=_changes(record),
                )
            )
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:limit]
