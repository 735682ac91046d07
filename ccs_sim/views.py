import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    ping = getattr(cache, "ping", None)
    if ping is not None:
        ping()
        return
    cache.set("healthz", "ok", 5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was stored")


def _check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from ccs_sim.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=1)


@never_cache
@require_GET
def healthz(request):
    """200 when every part answers, 503 naming the parts that do not."""
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    status = {}
    for name, check in checks.items():
        try:
            check()
            status[name] = "ok"
        except Exception as exc:  # any failure of a dependency is reported, not raised
            logger.warning("healthz: %s is down: %s", name, exc)
            status[name] = f"down: {type(exc).__name__}"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        status["broker"] = "eager (no broker configured)"
    down = [name for name, value in status.items() if value.startswith("down")]
    body = {"status": "ok" if not down else "down", "checks": status}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
