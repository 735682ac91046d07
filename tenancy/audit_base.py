"""The abstract base of every historical (audit) table: the program a change belongs to.

Kept apart from tenancy.audit so that models can use it without importing signals.
"""

from __future__ import annotations

from django.db import models


class AuditRecord(models.Model):
    # Which program's staff may read this record; null for shared content and platform
    # changes, which only the operator reads. Set from the tracked row's
    # `audit_program()` when the record is written (tenancy.audit).
    audit_program_id = models.IntegerField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True
