"""The autosave benchmark's baseline view, routed only by benchmarks.urls."""

from __future__ import annotations

from django.db import connection
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from exams.models import Attempt


@require_POST
def bench_baseline(request, pk: int, position: int):
    """The least a logged-in save must do.

    Session and auth middleware, one read of the attempt, one raw upsert, a constant reply.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    attempt = (
        Attempt.objects.filter(pk=pk, candidate_id=request.user.pk)
        .values_list("layout", flat=True)
        .first()
    )
    if attempt is None:
        raise Http404
    form_item_id = attempt[position - 1][0]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO exams_response (attempt_id, form_item_id, selection, flagged, saved_at) "
            f"VALUES (%s, %s, {json_param}, false, %s) "
            "ON CONFLICT (attempt_id, form_item_id) DO UPDATE SET selection = excluded.selection, "
            "saved_at = excluded.saved_at",
            [pk, form_item_id, f"[{attempt[position - 1][2][0]}]", now],
        )
    return HttpResponse("<span>saved</span>")
