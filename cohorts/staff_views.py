"""The staff page of a program: its managers (and the operator) list, add and remove the
people holding instructor and manager roles. Anyone else gets 404 for the program."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cohorts import staff
from cohorts.forms import StaffAddForm
from cohorts.models import Cohort
from tenancy.models import Program, ProgramStaff, StaffRole
from tenancy.scoping import forget_roles


def _program_for(request, pk: int) -> Program:
    program = Program.objects.filter(pk=pk).first()
    if program is None or not staff.may_manage_staff(request.user, program):
        raise Http404("No such program.")
    return program


def _render(request, program: Program, *, add_form=None, status: int = 200):
    rows = list(
        ProgramStaff.objects.filter(program=program)
        .select_related("user")
        .order_by("role", "user__last_name", "user__first_name", "user__username")
    )
    managers = sum(1 for r in rows if r.role == StaffRole.MANAGER)
    return render(
        request,
        "cohorts/program_staff.html",
        {
            "program": program,
            "rows": rows,
            "manager_count": managers,
            "add_form": add_form or StaffAddForm(),
        },
        status=status,
    )


@login_required
@require_GET
def program_staff(request, pk: int):
    return _render(request, _program_for(request, pk))


@login_required
@require_POST
def program_staff_add(request, pk: int):
    program = _program_for(request, pk)
    form = StaffAddForm(request.POST)
    if form.is_valid():
        try:
            result = staff.program_staff_add(
                program=program,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                by=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    for error in errors:
                        form.add_error(field, error)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, result.summary())
            return redirect("cohorts:program_staff", program.pk)
    return _render(request, program, add_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def program_staff_remove(request, pk: int, role_id: int):
    """A confirmation page, then the removal."""
    program = _program_for(request, pk)
    row = ProgramStaff.objects.filter(program=program, pk=role_id).select_related("user").first()
    if request.method == "GET":
        if row is None:
            raise Http404("No such role.")
        cohorts = Cohort.objects.filter(
            program=program,
            **{"managers" if row.role == StaffRole.MANAGER else "instructors": row.user},
        )
        return render(
            request,
            "cohorts/program_staff_remove.html",
            {
                "program": program,
                "row": row,
                "cohorts": list(cohorts.order_by("name")),
                "last_manager": row.role == StaffRole.MANAGER
                and not ProgramStaff.objects.filter(program=program, role=StaffRole.MANAGER)
                .exclude(pk=row.pk)
                .exists(),
                "self_removal": row.user_id == request.user.pk,
            },
        )
    try:
        row = staff.program_staff_remove(program=program, role_id=role_id, by=request.user)
    except ValidationError as exc:  # the last manager, or removed meanwhile
        messages.error(request, " ".join(exc.messages))
        return redirect("cohorts:program_staff", program.pk)
    except PermissionDenied:
        raise Http404("No such program.") from None
    person = row.user.get_full_name() or row.user.username
    messages.success(
        request, f"{person} no longer holds the role of {row.get_role_display().lower()}."
    )
    forget_roles(request.user)  # their own role may be the one removed
    if not staff.may_manage_staff(request.user, program):
        return redirect("cohorts:dashboard")
    return redirect("cohorts:program_staff", program.pk)
