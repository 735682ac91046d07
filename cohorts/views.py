"""Program managers' and instructors' pages: thin views over cohorts.services and selectors.

Who sees what: a cohort exists, for a user, only if they manage it or teach it (404
otherwise, so that another program's cohorts cannot even be probed). Managers change
things; instructors read, and set accommodations.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cohorts import audit, exports, selectors, services
from cohorts.forms import (
    AccommodationForm,
    AssignmentForm,
    CandidateAddForm,
    CohortForm,
    FilterForm,
    JoinForm,
    RosterForm,
)
from cohorts.models import Cohort
from common.roles import Role, has_role
from exams.models import Attempt
from psychometrics import charts
from scoring.cut_proposals import cut_proposals_decidable
from scoring.report_pdf import attempt_report_pdf_response
from tenancy.models import Program

# The readiness list shows those who need help most; "show all" and the CSV have everyone.
READINESS_SHOWN = 100


# --- Access -----------------------------------------------------------------------------
def _cohort_for(request, pk: int, *, manage: bool = False) -> Cohort:
    """The cohort if the user manages it (or, unless `manage`, teaches it); else 404."""
    cohorts = (
        Cohort.objects.managed_by(request.user)
        if manage
        else Cohort.objects.visible_to(request.user)
    )
    return get_object_or_404(cohorts.select_related("program"), pk=pk)


def _can_manage(request, cohort: Cohort) -> bool:
    return Cohort.objects.managed_by(request.user).filter(pk=cohort.pk).exists()


def _require_dashboard_role(request) -> None:
    if request.user.is_superuser:
        return
    if not has_role(request.user, Role.MANAGER, Role.INSTRUCTOR):
        raise Http404("No such page.")


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


# --- Cohort list ------------------------------------------------------------------------
@login_required
@require_GET
def dashboard(request):
    """The cohorts the user manages or teaches, each with its figures."""
    _require_dashboard_role(request)
    rows = selectors.cohort_list(user=request.user)
    return render(
        request,
        "cohorts/dashboard.html",
        {
            "rows": rows,
            "is_manager": has_role(request.user, Role.MANAGER),
            # The programs whose staff page the user may open (managers; the operator: all).
            "managed_programs": Program.objects.managed_by(request.user),
            "waiting_cuts": cut_proposals_decidable(user=request.user)
            .filter(status="pending")
            .count(),
        },
    )


@login_required
@require_GET
def dashboard_export(request):
    _require_dashboard_role(request)
    rows = selectors.cohort_list(user=request.user)
    return exports.csv_response("cohorts.csv", *exports.cohort_list_table(rows))


# --- Audit trail ------------------------------------------------------------------------
@login_required
@require_GET
def audit_trail(request):
    """Who changed what in the user's programs (the operator: everywhere)."""
    _require_dashboard_role(request)
    programs = list(Program.objects.visible_to(request.user))
    selected = next((p for p in programs if p.slug == request.GET.get("program")), None)
    kinds = [(m._meta.label_lower, label) for m, label in audit.AUDITED]
    kind = request.GET.get("kind") or None
    if kind not in dict(kinds):
        kind = None
    lines = audit.audit_trail(
        user=request.user, program_id=selected.pk if selected else None, kind=kind
    )
    return render(
        request,
        "cohorts/audit.html",
        {
            "lines": lines,
            "programs": programs,
            "selected": selected,
            "kinds": kinds,
            "kind": kind,
            "is_operator": request.user.is_superuser,
        },
    )


COHORT_FIELDS = ("name", "program", "start_date", "end_date", "instructors", "managers")


def _cohort_fields(form) -> dict:
    return {name: form.cleaned_data[name] for name in COHORT_FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def cohort_create(request):
    if not has_role(request.user, Role.MANAGER):
        raise Http404("No such page.")
    form = CohortForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = services.cohort_create(by=request.user, **_cohort_fields(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied:
            raise Http404("No such program.") from None
        else:
            messages.success(request, f"{cohort.name} created. Add candidates next.")
            return redirect("cohorts:members", cohort.pk)
    return render(request, "cohorts/cohort_form.html", {"form": form, "cohort": None})


# --- Cohort page ------------------------------------------------------------------------
def _filters(request, cohort: Cohort) -> tuple[FilterForm, selectors.Filters]:
    form = FilterForm(request.GET or None, forms_list=selectors.cohort_forms(cohort=cohort))
    return form, form.filters()


@login_required
@require_GET
def detail(request, pk: int):
    cohort = _cohort_for(request, pk)
    filter_form, filters = _filters(request, cohort)
    page = selectors.cohort_page(cohort=cohort, filters=filters)
    has_scores = page.figures.scored_attempts > 0
    show_all = request.GET.get("all") == "1"
    query = request.GET.copy()
    query.pop("all", None)
    context = {
        "cohort": cohort,
        "page": page,
        "filter_form": filter_form,
        "query": query.urlencode(),
        "readiness": page.readiness if show_all else page.readiness[:READINESS_SHOWN],
        "readiness_hidden": 0 if show_all else max(0, len(page.readiness) - READINESS_SHOWN),
        "can_manage": _can_manage(request, cohort),
        "has_scores": has_scores,
        "has_assignments": cohort.assignments.exists(),
        "tab": "dashboard",
    }
    if has_scores:
        context["histogram"] = mark_safe(charts.histogram(page.bins))
        context["trend_chart"] = mark_safe(charts.pass_rate_over_time(page.periods))
    if any(d.cohort_percent is not None for d in page.domains):
        context["domain_chart"] = mark_safe(charts.domain_bars(page.domains))
    return render(request, "cohorts/detail.html", context)


@login_required
@require_GET
def detail_export(request, pk: int, table: str):
    if table not in exports.EXPORT_TABLES:
        raise Http404("No such table.")
    cohort = _cohort_for(request, pk)
    _, filters = _filters(request, cohort)
    page = selectors.cohort_page(cohort=cohort, filters=filters)
    name = f"{exports.slug(cohort.name)}-{table}.csv"
    return exports.csv_response(name, *exports.cohort_page_table(page, filters, table))


# --- Candidate drill-down ---------------------------------------------------------------
def _candidate_page(request, pk: int, user_id: int):
    cohort = _cohort_for(request, pk)
    page = selectors.candidate_page(cohort=cohort, user_id=user_id)
    if page is None:
        raise Http404("No such candidate in this cohort.")
    return cohort, page


@login_required
@require_GET
def candidate(request, pk: int, user_id: int):
    cohort, page = _candidate_page(request, pk, user_id)
    scored = [a for a in page.attempts if a.scaled is not None]
    return render(
        request,
        "cohorts/candidate.html",
        {
            "cohort": cohort,
            "page": page,
            "chart": mark_safe(charts.domain_lines(page.attempts, page.domains))
            if scored
            else None,
            "accommodation_form": AccommodationForm(
                initial={"time_multiplier": page.time_multiplier or "1.00", "note": page.note}
            ),
            "can_manage": _can_manage(request, cohort),
            "tab": "dashboard",
        },
    )


@login_required
@require_GET
def candidate_export(request, pk: int, user_id: int):
    cohort, page = _candidate_page(request, pk, user_id)
    name = f"{exports.slug(cohort.name)}-{exports.slug(page.candidate.username)}.csv"
    return exports.csv_response(name, *exports.candidate_table(page))


# --- Members, rosters, accommodations ---------------------------------------------------
@login_required
@require_GET
def candidate_report_pdf(request, pk: int, user_id: int, attempt_id: int):
    """A member's score report as a PDF, for the cohort's managers and instructors.

    Only an attempt the drill-down lists (a finished exam attempt since joining) is offered,
    through the same access check, so the PDF never shows more than the page does.
    """
    _cohort, page = _candidate_page(request, pk, user_id)
    if attempt_id not in {a.attempt_id for a in page.attempts}:
        raise Http404("No such attempt of this candidate in this cohort.")
    attempt = get_object_or_404(Attempt.objects.select_related("form", "candidate"), pk=attempt_id)
    if attempt.is_in_progress:
        raise Http404("This attempt is still in progress; it has no report yet.")
    return attempt_report_pdf_response(attempt=attempt)


def _members_context(request, cohort: Cohort, **extra) -> dict:
    search = request.GET.get("q", "")[:100]
    members = selectors.cohort_members(cohort=cohort, search=search, page=request.GET.get("page"))
    return {
        "cohort": cohort,
        "members": members,
        "search": search,
        "member_count": cohort.memberships.count() if search else members.paginator.count,
        "can_manage": _can_manage(request, cohort),
        "add_form": CandidateAddForm(),
        "roster_form": RosterForm(),
        "tab": "members",
        **extra,
    }


@login_required
@require_GET
def members(request, pk: int):
    cohort = _cohort_for(request, pk)
    return render(request, "cohorts/members.html", _members_context(request, cohort))


@login_required
@require_POST
def member_add(request, pk: int):
    cohort = _cohort_for(request, pk, manage=True)
    form = CandidateAddForm(request.POST)
    if form.is_valid():
        try:
            result = services.cohort_candidate_add(
                cohort=cohort,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                base_url=_base_url(request),
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, result.summary())
            return redirect("cohorts:members", cohort.pk)
    return render(
        request,
        "cohorts/members.html",
        _members_context(request, cohort, add_form=form),
        status=400,
    )


@login_required
@require_POST
def roster_upload(request, pk: int):
    cohort = _cohort_for(request, pk, manage=True)
    form = RosterForm(request.POST, request.FILES)
    roster_errors: list[str] = []
    if form.is_valid():
        try:
            result = services.roster_import(
                cohort=cohort,
                data=form.cleaned_data["roster"].read(),
                base_url=_base_url(request),
                by=request.user,
            )
        except services.RosterError as exc:
            roster_errors = exc.errors
        else:
            messages.success(request, f"Roster imported: {result.summary()}")
            return redirect("cohorts:members", cohort.pk)
    return render(
        request,
        "cohorts/members.html",
        _members_context(request, cohort, roster_form=form, roster_errors=roster_errors),
        status=400,
    )


def _members_url(cohort: Cohort, back: str) -> str:
    """Back to the members page the manager came from (its search and page kept)."""
    members = reverse("cohorts:members", args=[cohort.pk])
    return back if back.startswith(members) else members


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request, pk: int, user_id: int):
    """A confirmation page, then the removal (managers only)."""
    cohort = _cohort_for(request, pk, manage=True)
    membership = get_object_or_404(cohort.memberships.select_related("user"), user_id=user_id)
    if request.method == "POST":
        try:
            name = services.member_remove(cohort=cohort, user_id=user_id)
        except ValidationError as exc:  # removed meanwhile, by another manager
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"{name} was removed from {cohort.name}. Their account and results are kept.",
            )
        return redirect(_members_url(cohort, request.POST.get("next", "")))
    attempts = selectors.member_exam_attempts(membership=membership)
    return render(
        request,
        "cohorts/member_remove.html",
        {
            "cohort": cohort,
            "member": membership.user,
            "attempts": attempts,
            "next": _members_url(cohort, request.GET.get("next", "")),
            "can_manage": True,
            "tab": "members",
        },
    )


@login_required
@require_POST
def member_invite(request, pk: int, user_id: int):
    """E-mail a new set-password link to a member who has not chosen a password yet."""
    cohort = _cohort_for(request, pk, manage=True)
    get_object_or_404(cohort.memberships, user_id=user_id)
    try:
        email = services.member_invitation_resend(
            cohort=cohort, user_id=user_id, base_url=_base_url(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"A new link to set a password was sent to {email}.")
    return redirect(_members_url(cohort, request.POST.get("next", "")))


@login_required
@require_POST
def accommodation(request, pk: int, user_id: int):
    """Managers and instructors of the cohort set a member's time multiplier."""
    cohort = _cohort_for(request, pk)
    form = AccommodationForm(request.POST)
    back = request.POST.get("next", "")
    # Only back to a page of this site ("//elsewhere" starts with a slash too).
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("cohorts:members", args=[cohort.pk])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        services.accommodation_set(
            cohort=cohort,
            candidate_id=user_id,
            multiplier=form.cleaned_data["time_multiplier"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except PermissionDenied:
        raise Http404("No such cohort.") from None
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from None
    messages.success(
        request,
        f"Time multiplier set to {form.cleaned_data['time_multiplier']} for exams of "
        f"{cohort.program} started from now on.",
    )
    return redirect(back)


# --- Settings: the cohort, enrolment, assignments (managers) ------------------------------
def _settings_context(request, cohort: Cohort, **extra) -> dict:
    return {
        "cohort": cohort,
        "cohort_form": CohortForm(instance=cohort, user=request.user),
        "assignments": selectors.cohort_assignments(cohort=cohort),
        "assignment_form": AssignmentForm(
            initial={"opens_at": timezone.localtime()}, program_id=cohort.program_id
        ),
        "join_url": request.build_absolute_uri(reverse("cohorts:join"))
        + f"?code={cohort.enrolment_code}",
        "can_manage": True,
        "tab": "settings",
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def cohort_settings(request, pk: int):
    cohort = _cohort_for(request, pk, manage=True)
    if request.method == "POST":
        form = CohortForm(request.POST, instance=cohort, user=request.user)
        if form.is_valid():
            try:
                services.cohort_update(cohort=cohort, by=request.user, **_cohort_fields(form))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Cohort saved.")
                return redirect("cohorts:settings", cohort.pk)
        cohort.refresh_from_db()
        context = _settings_context(request, cohort, cohort_form=form)
        return render(request, "cohorts/settings.html", context, status=400)
    return render(request, "cohorts/settings.html", _settings_context(request, cohort))


@login_required
@require_POST
def enrolment(request, pk: int):
    cohort = _cohort_for(request, pk, manage=True)
    action = request.POST.get("action")
    if action == "open":
        services.cohort_enrolment_set_open(cohort=cohort, is_open=True)
        messages.success(request, "Enrolment by code is on.")
    elif action == "close":
        services.cohort_enrolment_set_open(cohort=cohort, is_open=False)
        messages.success(request, "Enrolment by code is off; the code no longer works.")
    elif action == "regenerate":
        services.cohort_enrolment_code_regenerate(cohort=cohort)
        messages.success(request, f"New code {cohort.display_code}: the old code no longer works.")
    else:
        return HttpResponse("Unknown action.", status=400)
    return redirect("cohorts:settings", cohort.pk)


ASSIGNMENT_TERMS = ("opens_at", "closes_at", "max_attempts", "review_policy")


def _assignment_terms(form) -> dict:
    return {name: form.cleaned_data[name] for name in ASSIGNMENT_TERMS}


@login_required
@require_POST
def assignment_add(request, pk: int):
    cohort = _cohort_for(request, pk, manage=True)
    form = AssignmentForm(request.POST, program_id=cohort.program_id)
    if form.is_valid():
        try:
            services.assignment_create(
                cohort=cohort,
                form=form.cleaned_data["form"],
                by=request.user,
                **_assignment_terms(form),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{form.cleaned_data['form']} assigned.")
            return redirect("cohorts:settings", cohort.pk)
    context = _settings_context(request, cohort, assignment_form=form)
    return render(request, "cohorts/settings.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request, pk: int, assignment_id: int):
    cohort = _cohort_for(request, pk, manage=True)
    assignment = get_object_or_404(cohort.assignments.select_related("form"), pk=assignment_id)
    form = AssignmentForm(request.POST or None, instance=assignment)
    if request.method == "POST" and form.is_valid():
        try:
            services.assignment_update(
                assignment=assignment, by=request.user, **_assignment_terms(form)
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Assignment of {assignment.form} saved.")
            return redirect("cohorts:settings", cohort.pk)
    return render(
        request,
        "cohorts/assignment_form.html",
        {
            "cohort": cohort,
            "assignment": assignment,
            "form": form,
            "tab": "settings",
            "can_manage": True,
        },  # fmt: skip
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def assignment_delete(request, pk: int, assignment_id: int):
    cohort = _cohort_for(request, pk, manage=True)
    assignment = get_object_or_404(cohort.assignments.select_related("form"), pk=assignment_id)
    services.assignment_delete(assignment=assignment)
    messages.success(request, f"{assignment.form} is no longer assigned; past attempts stay.")
    return redirect("cohorts:settings", cohort.pk)


# --- Candidates: joining, first password ------------------------------------------------
JOIN_FAILURES_ALLOWED = 10
JOIN_FAILURE_WINDOW = 60 * 60


@login_required
@require_http_methods(["GET", "POST"])
def join(request):
    """A candidate types the enrolment code their program gave them."""
    form = JoinForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    # Codes are short enough to guess at scale; a few wrong tries an hour are plenty.
    failures_key = f"cohorts:join-failures:{request.user.pk}"
    if request.method == "POST" and form.is_valid():
        if cache.get(failures_key, 0) >= JOIN_FAILURES_ALLOWED:
            form.add_error("code", "Too many wrong codes: try again in an hour.")
        else:
            try:
                cohort, created = services.cohort_join(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except ValidationError as exc:
                cache.add(failures_key, 0, JOIN_FAILURE_WINDOW)
                cache.incr(failures_key)
                form.add_error("code", exc)
            else:
                if created:
                    messages.success(request, f"Welcome to {cohort.name}.")
                else:
                    messages.info(request, f"You are already in {cohort.name}.")
                return redirect("exams:home")
    status = 400 if form.errors else 200
    return render(request, "cohorts/join.html", {"form": form}, status=status)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The link in the enrolment e-mail: Django's password-reset confirmation."""

    template_name = "cohorts/set_password.html"
    success_url = reverse_lazy("cohorts:set_password_done")
    post_reset_login = False


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "cohorts/set_password_done.html"
