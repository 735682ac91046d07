from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from ccs_sim.roles import Role, has_role


@login_required
def dashboard(request):
    """Program managers' landing page; cohort figures arrive with the cohorts work."""
    if not has_role(request.user, Role.MANAGER, Role.INSTRUCTOR):
        raise PermissionDenied("Dashboards are for program managers and instructors.")
    return render(request, "cohorts/dashboard.html", {"cohorts": []})
