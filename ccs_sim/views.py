import logging

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ccs_sim import health
from common.roles import Role, user_role

logger = logging.getLogger(__name__)


@login_required
def home(request):
    """Send each role to where it works."""
    role = user_role(request.user)
    if role is Role.MANAGER:
        return redirect("cohorts:dashboard")
    if role is Role.INSTRUCTOR:
        return redirect("admin:questionbank_itemversion_changelist")
    if role is Role.CANDIDATE:
        return redirect("exams:home")
    return render(request, "no_role.html", status=403)


@never_cache
@require_GET
def healthz(request):
    """200 when every part answers, 503 naming the parts that do not (ccs_sim.health)."""
    status = health.parts_status()
    down = [name for name, value in status.items() if value.startswith("down")]
    for name in down:
        logger.warning("healthz: %s is %s", name, status[name])
    body = {"status": "ok" if not down else "down", "checks": status}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
