import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ccs_sim import health, time_zones
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


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Deadlines, exam windows, attempt times and reports are shown in this zone.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zones.zone_choices()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The person's own settings: the time zone every time is shown in."""
    current = time_zones.session_time_zone(request.session)
    if request.method == "POST":
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["time_zone"]
            time_zones.profile_set_time_zone(
                user=request.user, time_zone=name, session=request.session
            )
            shown = name or f"the site's time zone ({time_zones.site_zone_name()})"
            messages.success(request, f"Times are now shown in {shown}.")
            return redirect("profile")
    else:
        form = TimeZoneForm(initial={"time_zone": current.name if current else ""})
    return render(
        request,
        "profile.html",
        {
            "form": form,
            "zone_name": (current.name if current else "") or time_zones.site_zone_name(),
            "from_site": not (current and current.name),
            "now": timezone.localtime(),
        },
    )


@login_required
@require_POST
def time_zone_report(request):
    """The browser's zone (Intl), reported once by static/js/timezone.js when the person
    has none: 204 stored or kept, 400 for a name that is not a zone."""
    try:
        time_zones.profile_report_browser_zone(
            user=request.user,
            time_zone=request.POST.get("time_zone", ""),
            session=request.session,
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    return HttpResponse(status=204)
