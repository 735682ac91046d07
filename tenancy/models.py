"""Programs (the tenants) and the roles staff hold in them.

A program is a college's course or a hospital's coding department. Cohorts, assignments,
accommodations, and the items and forms a program authors belong to one program; the
shipped sample bank and its forms belong to none (shared content). This app sits at the
bottom of the layout, below the bank, so that every app can say which program a row
belongs to without importing the apps above it (docs/architecture.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from tenancy.audit_base import AuditRecord


class ProgramQuerySet(models.QuerySet):
    def visible_to(self, user):
        from tenancy.scoping import program_q

        return self.filter(program_q(user, "pk"))

    def managed_by(self, user):
        from tenancy.scoping import program_q

        return self.filter(program_q(user, "pk", roles=[StaffRole.MANAGER]))


class Program(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def audit_program(self) -> int | None:
        return self.pk


class StaffRole(models.TextChoices):
    INSTRUCTOR = "instructor", "Instructor"
    MANAGER = "manager", "Program manager"


class ProgramStaffQuerySet(models.QuerySet):
    def visible_to(self, user):
        from tenancy.scoping import program_q

        return self.filter(program_q(user, "program"))


class ProgramStaff(models.Model):
    """A role a person holds in one program; one person may hold roles in several.

    The Django groups (common.roles) stay the coarse layer: what kind of pages a person
    may open at all. These rows say in which programs they may open them.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="program_roles"
    )
    role = models.CharField(max_length=12, choices=StaffRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramStaffQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["program", "role", "user"]
        verbose_name = "program staff role"
        constraints = [
            models.UniqueConstraint(
                fields=["program", "user", "role"], name="programstaff_role_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.program}"

    def audit_program(self) -> int | None:
        return self.program_id
