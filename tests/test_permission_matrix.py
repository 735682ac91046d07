"""Every URL pattern and every admin model, tried by each kind of person on both programs'
objects: anonymous, a candidate of program A, a candidate of program B, and the instructor
and manager of each program, with GET and POST.

The patterns are read from the URL configuration (the admin's included), so a new URL or
a new admin model without a rule here fails `test_every_url_pattern_has_a_rule`. One test
per pattern, on one data set built once for the module (real objects of both programs,
made through the services where it matters: forms assembled and published by each
program's instructor, attempts started and submitted by their candidates).

The rules, by role class (`REL`): the owner candidate, another candidate, the instructor
and manager of the object's program ("in") and of the other program ("out"). What a
person may not reach answers a refusal that says nothing about the object: 404 (or 405
for a method the page does not take, 403 where the role has no permission on the model at
all), never a page of another program's data. POSTs that an allowed person makes would
change the shared data set, so they are tried only by people who must be refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

ROLES = ["anon", "cand_a", "cand_b", "instr_a", "mgr_a", "instr_b", "mgr_b"]
PROGRAM_OF = {
    "cand_a": "a",
    "cand_b": "b",
    "instr_a": "a",
    "mgr_a": "a",
    "instr_b": "b",
    "mgr_b": "b",
}
LOGIN, ADMIN_LOGIN, OK, ANY = "login", "admin-login", "ok", "any"
HEALTH = "health report"
# A refusal that says nothing about the object: not found, forbidden, or a method the
# page does not take.
REFUSED = "refused"
# Anonymous: sent to sign in, or refused before that (a method the page does not take).
DENIED = "denied"


def relation(role: str, owner: str | None) -> str:
    """anon, own (the candidate the object is theirs), cand, instr_in, mgr_in, instr_out,
    mgr_out; for objects of no program (owner None), staff count as "in"."""
    if role == "anon":
        return "anon"
    kind, program = role.split("_")
    same = owner is None or program == owner
    if kind == "cand":
        return "own" if same and owner is not None else "cand"
    return f"{kind}_{'in' if same else 'out'}"


@dataclass
class Rule:
    """Expected outcome per relation for GET, and for POST by those who must be refused
    (None: not tried, because the person may do it and it would change the data set)."""

    get: dict[str, object]
    post: dict[str, object] = field(default_factory=dict)
    owner_kwargs: dict[str, str] = field(default_factory=dict)  # url kwarg -> world key


def rule(
    *,
    anon=LOGIN,
    own=404,
    cand=404,
    instr_in=200,
    mgr_in=200,
    instr_out=404,
    mgr_out=404,
    post=None,
    kwargs=None,
):
    get = dict(
        anon=anon,
        own=own,
        cand=cand,
        instr_in=instr_in,
        mgr_in=mgr_in,
        instr_out=instr_out,
        mgr_out=mgr_out,
    )
    return Rule(get=get, post=post or {}, owner_kwargs=kwargs or {})


def refusals(get: dict, *, but: dict | None = None) -> dict:
    """The POST outcomes: each refused GET outcome stays; allowed ones are not tried."""
    out = {
        k: (DENIED if v == LOGIN else REFUSED if v in (403, 404, 405, REFUSED) else None)
        for k, v in get.items()
    }
    out.update(but or {})
    return out


# --- The application's pages ---------------------------------------------------------------
# Cohort pages: read by the cohort's instructor and its program's manager; managed by the
# manager only. Candidates and the other program's staff get 404.
COHORT = {"pk": "cohort"}
MEMBER = {"pk": "cohort", "user_id": "candidate"}
ASSIGNMENT = {"pk": "cohort", "assignment_id": "assignment"}
ATTEMPT = {"pk": "attempt"}
ITEM = {"pk": "attempt", "position": "one"}
STAFF_ONLY_GET = dict(own=404, cand=404)


def cohort_read(kwargs, **extra):
    r = rule(**STAFF_ONLY_GET, kwargs=kwargs, **extra)
    r.post = {k: (405 if k != "anon" else LOGIN) for k in r.get}
    return r


def cohort_manage_get(kwargs):
    r = rule(**STAFF_ONLY_GET, instr_in=404, kwargs=kwargs)
    r.post = refusals(r.get)
    return r


def cohort_manage_post_only(kwargs, instr_in=404):
    r = rule(own=405, cand=405, instr_in=405, mgr_in=405, instr_out=405, mgr_out=405, kwargs=kwargs)
    r.post = dict(
        anon=LOGIN, own=404, cand=404, instr_in=instr_in, mgr_in=None, instr_out=404, mgr_out=404
    )
    return r


def attempt_page(kwargs):
    """A candidate's own attempt: theirs alone (staff read results in their dashboards)."""
    r = rule(own=OK, cand=404, instr_in=404, mgr_in=404, kwargs=kwargs)
    r.post = dict(
        anon=LOGIN, own=None, cand=REFUSED, instr_in=REFUSED, mgr_in=REFUSED,
        instr_out=REFUSED, mgr_out=REFUSED,
    )  # fmt: skip
    return r


def attempt_action(kwargs):
    """A POST on the candidate's own attempt: the others are refused whatever the method."""
    r = attempt_page(kwargs)
    r.get = {**r.post, "own": ANY}
    return r


def everyone_signed_in(status=200, anon=LOGIN, post=None):
    r = rule(
        own=status,
        cand=status,
        instr_in=status,
        mgr_in=status,
        instr_out=status,
        mgr_out=status,
        anon=anon,
    )
    r.post = post or {}
    return r


FORM = {"form_id": "form"}
PROGRAM = {"pk": "program"}
STAFF_RELATIONS = ("instr_in", "mgr_in", "instr_out", "mgr_out")

APP_RULES: dict[str, Rule] = {
    # Password reset: public pages that answer everyone alike (they never say whether an
    # account exists); a bad link is refused in the page.
    "password_reset": everyone_signed_in(ANY, anon=ANY),
    "password_reset_done": everyone_signed_in(ANY, anon=ANY),
    "password_reset_confirm": everyone_signed_in(ANY, anon=ANY),
    "password_reset_complete": everyone_signed_in(ANY, anon=ANY),
    "admin_password_reset": everyone_signed_in(ANY, anon=ANY),
    # The candidate's own attempt: the PDF report and adaptive practice's next item.
    "scoring:report_pdf": attempt_page(ATTEMPT),
    "exams:adaptive_next": attempt_action(ATTEMPT),
    # Offline delivery: the attempt's key-free payload and the heartbeat are the candidate's
    # own; the service worker script holds no data and is served to anyone.
    # (409 for the owner here: the data set's attempts are finished.)
    "exams:payload": attempt_action(ATTEMPT),
    "exams:state": attempt_page(ATTEMPT),
    "exams:service_worker": everyone_signed_in(200, anon=200),
    # LTI: the platform's endpoints answer a request without a valid launch with a page
    # that says why (4xx), whoever sends it; the key set is public.
    "lti:login": everyone_signed_in(ANY, anon=ANY),
    "lti:launch": everyone_signed_in(ANY, anon=ANY),
    "lti:jwks": everyone_signed_in(200, anon=200),
    "lti:deep_link": everyone_signed_in(ANY, anon=ANY),
    "lti:link_settings": everyone_signed_in(404, anon=LOGIN),
    "home": everyone_signed_in(302),
    # 200, or 503 naming a part that is down (no Celery worker runs in the tests).
    "healthz": everyone_signed_in(HEALTH, anon=HEALTH),
    "login": everyone_signed_in(302, anon=200),
    # Signing out is everyone's (and would sign these clients out): GET only.
    "logout": everyone_signed_in(
        405, anon=405, post={r: None for r in ("anon", "own", "cand", *STAFF_RELATIONS)}
    ),
    "password_change": everyone_signed_in(200),
    "password_change_done": everyone_signed_in(200),
    # One's own profile (time zone): everyone's, about themselves only; a POST changes the
    # signing-in person's own zone, so it is not tried. The browser's report: POST only,
    # and an empty one is refused as no zone (400).
    "profile": everyone_signed_in(
        200, post={"anon": LOGIN, **{r: None for r in ("own", "cand", *STAFF_RELATIONS)}}
    ),
    "time_zone_report": everyone_signed_in(
        405, post={"anon": LOGIN, **{r: 400 for r in ("own", "cand", *STAFF_RELATIONS)}}
    ),
    # A candidate's pages: staff have none of their own exams to sit.
    "exams:home": everyone_signed_in(200),
    "exams:instructions": rule(own=200, cand=404, instr_in=404, mgr_in=404, kwargs=FORM),
    "exams:start": Rule(
        get=dict(
            anon=LOGIN, own=405, cand=405, instr_in=405, mgr_in=405, instr_out=405, mgr_out=405
        ),
        post=dict(
            anon=LOGIN, own=None, cand=404, instr_in=404, mgr_in=404, instr_out=404, mgr_out=404
        ),
        owner_kwargs=FORM,
    ),
    "exams:practice": everyone_signed_in(200),
    "exams:attempt": attempt_page(ATTEMPT),
    "exams:item": attempt_page(ITEM),
    "exams:save": attempt_action(ITEM),
    "exams:check": attempt_action(ITEM),
    "exams:review": attempt_page(ATTEMPT),
    "exams:submit": attempt_action(ATTEMPT),
    "exams:time_up": attempt_action(ATTEMPT),
    "exams:result": attempt_page(ATTEMPT),
    "scoring:report": attempt_page(ATTEMPT),
    "scoring:history": everyone_signed_in(200),
    # Staff lists: each sees their own programs' rows (asserted in the tests below).
    "cohorts:dashboard": rule(own=404, cand=404, instr_out=200, mgr_out=200),
    "cohorts:dashboard_export": rule(own=404, cand=404, instr_out=200, mgr_out=200),
    "cohorts:audit": rule(own=404, cand=404, instr_out=200, mgr_out=200),
    "cohorts:create": rule(own=404, cand=404, instr_in=404, instr_out=404, mgr_out=200),
    "cohorts:join": everyone_signed_in(200),
    "cohorts:set_password": everyone_signed_in(200, anon=200),
    "cohorts:set_password_done": everyone_signed_in(200, anon=200),
    "cohorts:detail": cohort_read(COHORT),
    "cohorts:detail_export": cohort_read({**COHORT, "table": "=summary"}),
    "cohorts:candidate": cohort_read(MEMBER),
    "cohorts:candidate_export": cohort_read(MEMBER),
    # The PDF of an attempt the drill-down lists: the same readers as the drill-down.
    "cohorts:candidate_report_pdf": cohort_read(
        {"pk": "cohort", "user_id": "candidate", "attempt_id": "attempt"}
    ),
    "cohorts:members": cohort_read(COHORT),
    "cohorts:member_add": cohort_manage_post_only(COHORT),
    "cohorts:roster_upload": cohort_manage_post_only(COHORT),
    "cohorts:member_remove": cohort_manage_get(MEMBER),
    "cohorts:member_invite": cohort_manage_post_only(MEMBER),
    # The cohort's instructor sets accommodations: allowed, so not tried by them.
    "cohorts:accommodation": cohort_manage_post_only(MEMBER, instr_in=None),
    "cohorts:settings": cohort_manage_get(COHORT),
    "cohorts:enrolment": cohort_manage_post_only(COHORT),
    "cohorts:assignment_add": cohort_manage_post_only(COHORT),
    "cohorts:assignment_edit": cohort_manage_get(ASSIGNMENT),
    "cohorts:assignment_delete": cohort_manage_post_only(ASSIGNMENT),
    # Cut changes: each member of a program sees its proposals (the list: their own
    # programs' only) and confirms or rejects another's; other programs' are 404.
    "cohorts:cut_proposals": rule(own=404, cand=404, instr_out=200, mgr_out=200),
    "cohorts:cut_proposal": rule(own=404, cand=404, kwargs={"pk": "cutproposal"}),
    # A program's staff page: its managers only (another program's managers: 404).
    "cohorts:program_staff": rule(own=404, cand=404, instr_in=404, kwargs=PROGRAM),
    "cohorts:program_staff_add": cohort_manage_post_only(PROGRAM),
    "cohorts:program_staff_remove": cohort_manage_get({"pk": "program", "role_id": "staffrole"}),
    # The code book is shared reference data (no code sets are loaded here: 404 pages).
    "codebook:search": everyone_signed_in(200),
    "codebook:panel": everyone_signed_in(200),
    "codebook:panel_search": everyone_signed_in(200),
    "codebook:panel_code": everyone_signed_in(404),
    "codebook:code": everyone_signed_in(404),
    # A case's coding is an answer: its program's instructors only.
    "questionbank:case_drg": rule(
        anon=403, own=403, cand=403, mgr_in=403, mgr_out=403, kwargs={"key": "case"}
    ),
}
for _rule in APP_RULES.values():
    if not _rule.post:
        _rule.post = refusals(_rule.get)

# Patterns that take fixed, harmless arguments rather than an object.
FIXED_KWARGS = {
    "password_reset_confirm": {"uidb64": "=MQ", "token": "=bad-token"},
    # A link that does not exist: 404 for everyone (its readers are the link's course staff).
    "lti:link_settings": {"pk": "=999999"},
    "cohorts:set_password": {"uidb64": "=MQ", "token": "=bad-token"},
    "codebook:panel_code": {"system": "=cm", "code": "=Z99.99"},
    "codebook:code": {"system": "=cm", "code": "=Z99.99"},
}


# --- The admin ----------------------------------------------------------------------------
# Admin pages that are not a model's: who may open them is the admin site's own rule
# (is_staff); each lists only what the user may see.
ADMIN_SITE_RULES = {
    "admin:index": "staff",
    "admin:login": "public",
    "admin:logout": "post-only",
    "admin:password_change": "staff",
    "admin:password_change_done": "staff",
    "admin:autocomplete": "staff-any",
    "admin:jsi18n": "staff",
    "admin:app_list": "staff-any",
    "admin:view_on_site": "staff-any",
    "admin:catch_all": "staff-any",
}
# Custom admin views of a model: (object kwarg or None, the permission it needs, method).
ADMIN_CUSTOM = {
    "admin:exams_examform_assemble": (None, "exams.add_examform"),
    "admin:exams_examform_preview": ("pk", "exams.view_examform"),
    # GET only leads back to the preview; the POST publishes (refused below for others).
    "admin:exams_examform_publish": ("pk", "exams.view_examform"),
    "admin:auth_user_password_change": ("id", "auth.change_user"),
    "admin:questionbank_itemversion_import": (None, "questionbank.add_itemversion"),
    "admin:questionbank_itemversion_export": (None, "questionbank.view_itemversion"),
    "admin:questionbank_itemversion_preview": ("pk", "questionbank.view_itemversion"),
    "admin:questionbank_itemversion_angoff": ("pk", "questionbank.add_angoffrating"),
    # A cut is proposed by one member of the form's program and confirmed or rejected by
    # another (scoring.cut_proposals); the pages refuse other programs' objects with 404.
    "admin:scoring_scaleconversion_propose": ("pk", "scoring.view_scaleconversion"),
    "admin:scoring_cutproposal_decide": ("pk", "scoring.view_cutproposal"),
    "admin:itemanalysis_analysisrun_request": (None, "itemanalysis.add_analysisrun"),
    "admin:itemanalysis_analysisrun_progress": ("pk", "itemanalysis.view_analysisrun"),
    "admin:itemanalysis_formstatistic_report": ("form_id", "itemanalysis.view_formstatistic"),
    "admin:itemanalysis_formstatistic_dif": (None, "itemanalysis.add_analysisrun"),
    # A reviewer clears a DIF review flag of their program's with a note.
    "admin:itemanalysis_itemreviewflag_clear": (
        "flag_id",
        "itemanalysis.change_itemreviewflag",
    ),
    "admin:questionbank_itemversion_import_qti": (None, "questionbank.add_itemversion"),
    "admin:questionbank_itemversion_export_qti": (None, "questionbank.view_itemversion"),
}
# Which world object (per program, or "shared") each admin model is tried on.
ADMIN_OBJECTS = {
    "auth.user": "user",
    "auth.group": "group",
    "tenancy.program": "program",
    "tenancy.programstaff": "staffrole",
    "cohorts.cohort": "cohort",
    "cohorts.assignment": "assignment",
    "cohorts.accommodation": "accommodation",
    "exams.blueprint": "shared:blueprint",
    "exams.examform": "form",
    "exams.attempt": "attempt",
    "questionbank.domain": "shared:domain",
    "questionbank.case": "case",
    "questionbank.itemversion": "item",
    "questionbank.angoffrating": "rating",
    "scoring.scaleconversion": "conversion",
    "scoring.baseform": "baseform",
    "scoring.cutproposal": "cutproposal",
    "scoring.itemcalibration": "calibration",
    "scoring.attemptresult": "result",
    "scoring.resulthistory": "resulthistory",
    "lti.registration": "lti_registration",
    "lti.toolkey": "shared:toolkey",
    # Rows made by launches; none in this data set, so only their lists are tried.
    "lti.ltiuser": "lti_user",
    "lti.context": "lti_context",
    "lti.resourcelink": "lti_link",
    "lti.gradepost": "lti_gradepost",
    "itemanalysis.analysisrun": "run",
    "itemanalysis.itemstatistic": "itemstat",
    "itemanalysis.formstatistic": "formstat",
    "itemanalysis.pretestpromotion": "promotion",
    "itemanalysis.difrun": "difrun",
    "itemanalysis.itemreviewflag": "reviewflag",
    "codebook.codeset": "shared:codeset",
    "codebook.code": "shared:code",
    "codebook.drgweight": "shared:drg",
}
# The custom views' objects: the world key of each.
ADMIN_CUSTOM_OBJECTS = {
    "admin:exams_examform_preview": "form",
    "admin:exams_examform_publish": "form",
    "admin:questionbank_itemversion_preview": "item",
    "admin:questionbank_itemversion_angoff": "item",
    "admin:scoring_scaleconversion_propose": "conversion",
    "admin:scoring_cutproposal_decide": "cutproposal",
    "admin:itemanalysis_analysisrun_progress": "run",
    "admin:itemanalysis_formstatistic_report": "form",
    "admin:itemanalysis_itemreviewflag_clear": "reviewflag",
    "admin:auth_user_password_change": "user",
}
GET_REDIRECTS = {"admin:exams_examform_publish"}


# --- Walking the URL configuration ---------------------------------------------------------
@dataclass(frozen=True)
class Pattern:
    name: str
    route: str
    converters: tuple[str, ...]


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
            elif route.endswith("(?P<url>.*)$"):
                name = "admin:catch_all"
            else:
                # The admin's unnamed "<path:object_id>/" redirect to the change page.
                name = route
            yield Pattern(name, route, tuple(p.pattern.regex.groupindex))


ALL_PATTERNS = list(_walk(get_resolver().url_patterns))


def _model_pattern(pattern: Pattern):
    """(model label, view) of a standard admin pattern, else None."""
    for model, _model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if pattern.name.startswith(info):
            view = pattern.name.removeprefix(info)
            if view in ("changelist", "add", "change", "delete", "history"):
                return model._meta.label_lower, view
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if pattern.name == pattern.route and pattern.route.startswith(prefix):
            return model._meta.label_lower, "redirect"
    return None


def test_every_url_pattern_has_a_rule():
    missing = [
        p.name
        for p in ALL_PATTERNS
        if p.name not in APP_RULES
        and p.name not in ADMIN_SITE_RULES
        and p.name not in ADMIN_CUSTOM
        and _model_pattern(p) is None
    ]
    assert not missing, f"URL patterns without a permission rule: {missing}"
    models = {m._meta.label_lower for m in admin.site._registry}
    assert not models - set(ADMIN_OBJECTS), (
        f"admin models without objects to try: {models - set(ADMIN_OBJECTS)}"
    )


# --- The data set ----------------------------------------------------------------------------
def _build_world() -> dict:
    from django.contrib.auth import get_user_model

    from cohorts.models import Accommodation, Assignment, Cohort, Membership
    from exams import services as exams_services
    from itemanalysis.models import (
        AnalysisRun,
        DifRun,
        FormStatistic,
        ItemReviewFlag,
        ItemStatistic,
        PretestPromotion,
    )
    from lti.keys import active_key
    from lti.models import Registration
    from questionbank.models import AngoffRating, Domain, ItemStatus
    from scoring import services as scoring_services
    from scoring.models import BaseForm, CutProposal, ResultHistory
    from tenancy.models import ProgramStaff
    from tests.conftest import give_role, program
    from tests.factories import (
        CaseFactory,
        ItemVersionFactory,
        blueprint_with,
        calibrate,
        judges,
        operational_versions,
        rate,
        stock_bank,
    )

    users = get_user_model().objects
    w: dict = {"shared": {}, "a": {}, "b": {}}
    people = {}
    for role in ROLES[1:]:
        kind, slug = role.split("_")
        group = {"cand": "Candidate", "instr": "Instructor", "mgr": "Program manager"}[kind]
        user = users.create_user(username=f"m-{role}", password="pw", is_staff=kind == "instr")
        user.groups.add(Group.objects.get(name=group))
        if kind != "cand":
            give_role(user, slug, {"instr": "instructor", "mgr": "manager"}[kind])
        people[role] = user
    w["people"] = people
    stock_bank({1: 3})
    blueprint = blueprint_with({1: 3})
    w["shared"].update(
        blueprint=blueprint.pk, domain=Domain.objects.get(number=1).pk, toolkey=active_key().pk
    )
    panel = judges(2, prefix="matrix-judge")
    for slug in ("a", "b"):
        prog = program(slug)
        instr, mgr, cand = people[f"instr_{slug}"], people[f"mgr_{slug}"], people[f"cand_{slug}"]
        form = exams_services.form_assemble(
            blueprint=blueprint, seed=1, name=f"Matrix form {slug}", by=instr
        )
        rate(operational_versions(form), rating=0.6, judges_=panel)
        form = exams_services.form_publish(form=form, by=instr)
        cohort = Cohort.objects.create(name=f"Matrix cohort {slug}", program=prog)
        cohort.managers.add(mgr)
        cohort.instructors.add(instr)
        Membership.objects.create(
            cohort=cohort, user=cand, joined_at=form.published_at - dt.timedelta(days=1)
        )
        assignment = Assignment.objects.create(cohort=cohort, form=form, max_attempts=3)
        accommodation = Accommodation.objects.create(
            program=prog, user=cand, time_multiplier="1.25"
        )
        attempt = exams_services.attempt_start(form=form, candidate=cand)
        exams_services.attempt_submit(attempt=attempt)
        # Scoring is queued on commit, which this module's transaction never reaches.
        scoring_services.attempt_score(attempt_id=attempt.pk)
        attempt.refresh_from_db()
        case = CaseFactory(owner_program=prog)
        item = ItemVersionFactory(item__owner_program=prog, status=ItemStatus.DRAFT, case=case)
        rating = AngoffRating.objects.create(item_version=item, judge=instr, rating="0.5")
        calibrate([item], [0.2])
        run = AnalysisRun.objects.create(kind="classical", form=form, requested_by=instr)
        now = form.published_at
        itemstat = ItemStatistic.objects.create(
            run=run, item_version=item, form=form, kind="classical", computed_at=now,
            fingerprint="x", n_responses=1,
        )  # fmt: skip
        formstat = FormStatistic.objects.create(
            run=run, form=form, computed_at=now, fingerprint="x", n_attempts=1, n_items=3
        )
        promotion = PretestPromotion.objects.create(
            item_version=item, by=instr, difficulty=0.2, n_responses=1
        )
        difrun = DifRun.objects.create(
            form=form, split="cohorts", reference="R", focal="F", n_reference=1, n_focal=1,
            program=prog, requested_by=instr,
        )  # fmt: skip
        reviewflag = ItemReviewFlag.objects.create(
            item_version=item, run=difrun, program=prog, split="cohorts",
            comparison="R vs F", category="C", raised_at=now,
        )  # fmt: skip
        history = ResultHistory.objects.create(
            attempt=attempt, version=1, raw_score=1, max_raw=3, scored_at=now,
            superseded_at=now, reason="matrix",
        )  # fmt: skip
        registration = Registration.objects.create(
            program=prog, issuer=f"https://lms-{slug}.test", client_id=f"client-{slug}",
            deployment_ids=["d"], auth_login_url="https://lms.test/auth",
            access_token_url="https://lms.test/token", keyset_url="https://lms.test/jwks",
        )  # fmt: skip
        other_blueprint = blueprint_with({1: 3})
        base = BaseForm.objects.create(blueprint=other_blueprint, form=form, set_by=instr)
        proposal = CutProposal.objects.create(
            form=form, cut=form.conversion.cut / 2, reason="matrix", previous_cut=form.conversion.cut,
            based_on_version=form.conversion.version, proposed_by=instr, proposed_at=now,
        )  # fmt: skip
        w[slug].update(
            user=cand.pk,
            candidate=cand.pk,
            group=Group.objects.get(name="Candidate").pk,
            program=prog.pk,
            staffrole=ProgramStaff.objects.get(user=instr).pk,
            cohort=cohort.pk,
            assignment=assignment.pk,
            accommodation=accommodation.pk,
            form=form.pk,
            attempt=attempt.pk,
            case=case.key,
            case_pk=case.pk,
            item=item.pk,
            rating=rating.pk,
            conversion=form.conversion.pk,
            baseform=base.pk,
            cutproposal=proposal.pk,
            calibration=item.calibration.pk,
            result=attempt.score.pk,
            resulthistory=history.pk,
            lti_registration=registration.pk,
            run=run.pk,
            itemstat=itemstat.pk,
            formstat=formstat.pk,
            promotion=promotion.pk,
            difrun=difrun.pk,
            reviewflag=reviewflag.pk,
            one=1,
        )
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end; each test
    runs in a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = _build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    made = {"anon": Client()}
    with django_db_blocker.unblock():
        for role, user in world["people"].items():
            c = Client()
            c.force_login(user)
            made[role] = c
    return made


# --- Checking outcomes -------------------------------------------------------------------------
def _matches(response, expected) -> bool:
    status = response.status_code
    location = response.get("Location", "")
    if expected == ANY:
        return status < 500
    if expected == HEALTH:
        return status == 200 or (status == 503 and "down" in response.json())
    if expected == LOGIN:
        return status == 302 and location.startswith("/login/")
    if expected == ADMIN_LOGIN:
        return status == 302 and "/admin/login/" in location
    if expected == OK:
        return status < 400 and "login/" not in location
    if expected == REFUSED:
        return status in (403, 404, 405)
    if expected == DENIED:
        return status in (403, 404, 405) or (status == 302 and location.startswith("/login/"))
    return status == expected


def _url(pattern: Pattern, values: dict) -> str:
    from django.urls import reverse

    return reverse(pattern.name, kwargs=values) if ":" in pattern.name or pattern.name else ""


def _kwargs(pattern: Pattern, owner_kwargs: dict, world_side: dict) -> dict:
    values = {}
    fixed = FIXED_KWARGS.get(pattern.name, {})
    for name in pattern.converters:
        source = owner_kwargs.get(name) or fixed.get(name)
        assert source is not None, f"{pattern.name}: no value for <{name}>"
        values[name] = source[1:] if source.startswith("=") else world_side[source]
    return values


def _try(clients, method, url, expected, who, failures, data=None):
    if expected is None:
        return
    response = getattr(clients[who], method)(url, data or {})
    if not _matches(response, expected):
        failures.append(
            f"{method.upper()} {url} as {who}: {response.status_code} "
            f"{response.get('Location', '')}, expected {expected}"
        )


APP_PATTERNS = [p for p in ALL_PATTERNS if p.name in APP_RULES]


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", APP_PATTERNS, ids=[p.name for p in APP_PATTERNS])
def test_application_url(pattern, world, clients):
    from django.urls import reverse

    r = APP_RULES[pattern.name]
    failures: list[str] = []
    owners = ["a", "b"] if r.owner_kwargs else [None]
    for owner in owners:
        side = world[owner] if owner else {}
        url = reverse(pattern.name, kwargs=_kwargs(pattern, r.owner_kwargs, side) or None)
        for who in ROLES:
            rel = relation(who, owner)
            _try(clients, "get", url, r.get[rel], who, failures)
            _try(clients, "post", url, r.post.get(rel), who, failures)
    assert not failures, "\n".join(failures)


# --- Admin ----------------------------------------------------------------------------------
def _admin_expected(user, perm: str | None, *, object_side: str | None, who: str, view: str):
    """What a custom admin page answers `who` (user None: anonymous)."""
    if user is None or not user.is_staff:
        return ADMIN_LOGIN
    if perm is not None and not user.has_perm(perm):
        return 403
    if object_side not in (None, "shared") and PROGRAM_OF[who] != object_side:
        return 404  # another program's object: not found, whatever the view
    return 200


def _model_admin_allows(user, label: str, action: str, obj=None) -> bool:
    """The registered ModelAdmin's own permission answer (the roles' coarse layer)."""
    from django.apps import apps
    from django.test import RequestFactory

    model = apps.get_model(label)
    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[model]
    if action == "view":
        return model_admin.has_view_or_change_permission(request, obj)
    return getattr(model_admin, f"has_{action}_permission")(request, *([obj] if obj else []))


ADMIN_MODEL_PATTERNS = [p for p in ALL_PATTERNS if _model_pattern(p) is not None]


def _model_page_expected(user, who: str, label: str, view: str, side: str | None, obj):
    """GET outcome of a model's admin page: the admin site's sign-in for non-staff; the
    model's permission for its own program's and shared rows; 404 (or a refusal where the
    role holds no permission on the model at all) for another program's rows."""
    if user is None or not user.is_staff:
        return ADMIN_LOGIN
    if view == "redirect":
        return OK  # to the change page, which decides
    if view == "changelist":
        return 200 if _model_admin_allows(user, label, "view") else 403
    if view == "add":
        return 200 if _model_admin_allows(user, label, "add") else 403
    other = side not in (None, "shared") and PROGRAM_OF[who] != side
    if other:
        return (
            404
            if view in ("change", "history") and _model_admin_allows(user, label, "view")
            else REFUSED
        )
    if view == "delete":
        return 200 if _model_admin_allows(user, label, "delete", obj) else 403
    return 200 if _model_admin_allows(user, label, "view", obj) else 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pattern", ADMIN_MODEL_PATTERNS, ids=[p.name for p in ADMIN_MODEL_PATTERNS]
)
def test_admin_model_page(pattern, world, clients):
    from django.apps import apps
    from django.urls import reverse

    label, view = _model_pattern(pattern)
    key = ADMIN_OBJECTS[label]
    shared = key.startswith("shared:")
    key = key.removeprefix("shared:")
    failures: list[str] = []
    sides = [None] if view in ("changelist", "add") else ["shared"] if shared else ["a", "b"]
    for side in sides:
        obj = None
        if side is None:
            url = reverse(pattern.name)
        else:
            pk = world[side].get("case_pk" if key == "case" else key)
            if pk is None:
                continue  # no such row in this data set (code sets are not loaded here)
            obj = apps.get_model(label)._default_manager.get(pk=pk)
            if view == "redirect":
                url = "/" + pattern.route.replace("<path:object_id>", str(pk))
            else:
                url = reverse(pattern.name, args=[pk])
        for who in ROLES:
            user = world["people"].get(who)
            expected = _model_page_expected(user, who, label, view, side, obj)
            _try(clients, "get", url, expected, who, failures)
            # POSTs by those who must be refused: anonymous and non-staff people, and staff
            # on another program's rows (nothing changes, nothing is deleted).
            if view != "redirect" and expected in (ADMIN_LOGIN, 404, REFUSED):
                refused = ADMIN_LOGIN if expected == ADMIN_LOGIN else REFUSED
                _try(clients, "post", url, refused, who, failures, data={"post": "yes"})
    assert not failures, "\n".join(failures)


ANY_OWN = "own-object"


def _try_admin(clients, url, expected, who, failures):
    response = clients[who].get(url)
    ok = response.status_code in (200, 403) if expected == ANY_OWN else _matches(response, expected)
    if not ok:
        failures.append(
            f"GET {url} as {who}: {response.status_code} "
            f"{response.get('Location', '')}, expected {expected}"
        )


ADMIN_OTHER_PATTERNS = [
    p for p in ALL_PATTERNS if p.name in ADMIN_SITE_RULES or p.name in ADMIN_CUSTOM
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pattern", ADMIN_OTHER_PATTERNS, ids=[p.name for p in ADMIN_OTHER_PATTERNS]
)
def test_admin_other_page(pattern, world, clients):
    from django.urls import reverse

    failures: list[str] = []
    if pattern.name in ADMIN_SITE_RULES:
        kind = ADMIN_SITE_RULES[pattern.name]
        if pattern.name == "admin:app_list":
            url = reverse(pattern.name, kwargs={"app_label": "cohorts"})
        elif pattern.name == "admin:view_on_site":
            url = reverse(pattern.name, kwargs={"content_type_id": 1, "object_id": 1})
        elif pattern.name == "admin:catch_all":
            url = "/admin/no-such-page/"
        else:
            url = reverse(pattern.name)
        for who in ROLES:
            user = world["people"].get(who)
            staff = user is not None and user.is_staff
            if kind == "public":
                expected = 200 if not staff else 302
            elif kind == "post-only":
                expected = 405 if staff else ANY  # non-staff are sent to the admin first
            elif kind == "staff":
                expected = 200 if staff else ADMIN_LOGIN
            else:  # staff-any: the page's own answer for staff, a sign-in for others
                expected = ANY if staff else ADMIN_LOGIN
            _try(clients, "get", url, expected, who, failures)
        assert not failures, "\n".join(failures)
        return
    kwarg, perm = ADMIN_CUSTOM[pattern.name]
    sides = ["a", "b"] if kwarg else [None]
    for side in sides:
        kwargs = {kwarg: world[side][ADMIN_CUSTOM_OBJECTS[pattern.name]]} if kwarg else {}
        url = reverse(pattern.name, kwargs=kwargs)
        for who in ROLES:
            user = world["people"].get(who)
            expected = _admin_expected(user, perm, object_side=side, who=who, view="custom")
            if expected == 200:
                expected = ANY_OWN if side else OK
            get_expected = expected
            if pattern.name in GET_REDIRECTS and user is not None and user.is_staff:
                get_expected = 302 if expected != 403 else 403
            _try_admin(clients, url, get_expected, who, failures)
            if expected in (ADMIN_LOGIN, 404, 403):
                # Refused people's POSTs are refused too (nothing is published, rated,
                # overridden or run for another program).
                _try(clients, "post", url, expected, who, failures)
    assert not failures, "\n".join(failures)


# --- What the lists show ---------------------------------------------------------------------
@pytest.mark.django_db
def test_each_programs_staff_list_only_their_programs_rows(world, clients):
    from django.urls import reverse

    for who, mine, theirs in (("instr_a", "a", "b"), ("instr_b", "b", "a")):
        pages = {
            "cohorts": clients[who].get(reverse("admin:cohorts_cohort_changelist")),
            "forms": clients[who].get(reverse("admin:exams_examform_changelist")),
            "results": clients[who].get(reverse("admin:scoring_attemptresult_changelist")),
            "attempts": clients[who].get(reverse("admin:exams_attempt_changelist")),
            "accommodations": clients[who].get(reverse("admin:cohorts_accommodation_changelist")),
        }
        for name, response in pages.items():
            html = response.content.decode()
            assert response.status_code == 200, (who, name)
            if name in ("cohorts",):
                assert f"Matrix cohort {mine}" in html and f"Matrix cohort {theirs}" not in html
            if name == "forms":
                assert f"Matrix form {mine}" in html and f"Matrix form {theirs}" not in html
            if name in ("results", "attempts", "accommodations"):
                assert f"m-cand_{theirs}" not in html, (who, name)
    for who, theirs in (("mgr_a", "b"), ("mgr_b", "a")):
        html = clients[who].get(reverse("cohorts:dashboard")).content.decode()
        assert f"Matrix cohort {theirs}" not in html
