"""Who changed what, and in which program: the audit trail's plumbing.

Audited models carry `history = HistoricalRecords(bases=[AuditRecord])` (django-simple-
history) and an `audit_program()` method naming the program the row belongs to (None
for shared content). Every historical record is stamped with that program here, so a
program's staff read their trail with one indexed filter. Bulk writes, which bypass the
model's signals, write their records through `history_bulk`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

# The trail's reason column holds 100 characters (django-simple-history's field); the whole
# text stays where the change itself keeps it (a table version, a result's history).
REASON_LENGTH = 100


def trail_reason(reason: str) -> str:
    return reason if len(reason) <= REASON_LENGTH else reason[: REASON_LENGTH - 1] + "…"


@receiver(pre_create_historical_record)
def _stamp_program(sender, instance, history_instance, **kwargs) -> None:
    program = getattr(instance, "audit_program", None)
    if callable(program) and hasattr(history_instance, "audit_program_id"):
        history_instance.audit_program_id = program()


def history_bulk(
    model,
    objects: Iterable,
    *,
    by=None,
    reason: str = "",
    update: bool = False,
    program_of=None,
) -> int:
    """Write one historical record per object (saved by a bulk statement), each stamped
    with its program (`program_of(obj)`, by default `obj.audit_program()`, which may cost
    a query per object); returns how many."""
    program_of = program_of or (lambda obj: obj.audit_program())
    by_program: dict[int | None, list] = defaultdict(list)
    for obj in objects:
        by_program[program_of(obj)].append(obj)
    written = 0
    for program_id, objs in by_program.items():
        rows = model.history.bulk_history_create(
            objs,
            update=update,
            default_user=by,
            default_change_reason=trail_reason(reason),
            custom_historical_attrs={"audit_program_id": program_id},
        )
        written += len(rows or [])
    return written


def with_actor(instance, by, reason: str = ""):
    """Name who makes the change (and why) on an instance about to be saved: services run
    outside requests too (commands, tasks), where no middleware knows the user."""
    if by is not None:
        instance._history_user = by
    if reason:
        # The trail's reason column holds 100 characters (django-simple-history's field);
        # the whole text stays where the change keeps it (a table version, a result history).
        instance._change_reason = trail_reason(reason)
    return instance
