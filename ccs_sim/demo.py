"""Plausible cohorts, candidates, exam attempts and scores, inserted in bulk: the one
place demo data is made (with `seed_demo`, which loads the bank and forms and calls this).

Used by `manage.py generate_demo_data` (the demo set-up and load data for the dashboards'
benchmark). Every candidate has an ability, their cohort shifts it and each retake adds a
little. With ``answers`` (the demo set-up) each attempt on a form with items gets its
answers (Response rows) drawn from the Rasch model: item i is answered right with
probability logistic(ability + domain offset - b_i), b_i the item's calibrated difficulty
or, uncalibrated, -logit(its mean Angoff rating) (the rating is the chance that a
borderline candidate, ability 0, gets it right); a wrong answer picks a distractor. Those
attempts are then scored by scoring's own service, so item analysis, DIF and the reports
see a realistic picture (seed_demo leaves them unscored here, calibrates the items from
their answers, then scores them, so that every result has its ability estimate). The demo
plants one drifting anchor (DEMO_DRIFT) and one item harder for the second cohort
(DEMO_DIF), for the linking report and the DIF page to find.

Without ``answers`` (bulk load data for the dashboards' benchmark) scores come from the
same ability model per domain, without answers, and are stored in bulk; raw scores map to
the 100–400 scale with the form's conversion table when it has one, else linearly through
a cut of 64 of 97.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Avg
from django.utils import timezone

from cohorts.models import Assignment, Cohort, Membership, MembershipSource, new_enrolment_code
from common.roles import Role
from exams.assembly import attempt_layout
from exams.models import (
    Attempt,
    AttemptMode,
    AttemptState,
    ExamForm,
    FormItem,
    FormKind,
    FormStatus,
    Response,
    ReviewPolicy,
)
from exams.services import form_delivery_rows
from psychometrics import results as scoring_results
from questionbank.models import AngoffRating, Option
from scoring.models import ScaleConversion
from scoring.selectors import calibrated_difficulties
from scoring.services import (
    attempt_score,
    attempt_summary_fields,
    domain_results_json,
    results_store_bulk,
)
from tenancy.models import Program, ProgramStaff, StaffRole

# The default CCS blueprint's scored items per domain (docs/architecture.md).
DOMAIN_ITEMS = {1: 55, 2: 14, 3: 10, 4: 10, 5: 8}
# Cohorts tend to be weaker in queries and compliance than in coding itself.
DOMAIN_OFFSET = {1: 0.1, 2: 0.0, 3: -0.35, 4: -0.2, 5: 0.15}
MAX_RAW = sum(DOMAIN_ITEMS.values())
# Generated candidates answer every question: the 97 scored and the 10 pretest items.
ITEMS_ANSWERED = MAX_RAW + 10
DEFAULT_CUT = 64.0
# The answers' ability in logits is the candidate's ability (mean 0, the borderline
# candidate's ability being 0 on the Angoff difficulties) plus ANSWER_SHIFT, plus
# RETAKE_GAIN per earlier attempt: about 60% of demo attempts pass, a realistic share for
# candidates still preparing (the real exam's first-time rate, ~84%, is of those who sit it).
ANSWER_SHIFT = 0.05
RETAKE_GAIN = 0.2
BATCH = 5000
FIRST_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farah",
    "Gabe",
    "Hana",
    "Ivan",
    "Jada",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Johnson",
    "Kim",
    "Lopez",
    "Mensah",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Walker",
    "Xu",
    "Young",
    "Zimmer",
]


@dataclass
class Generated:
    cohorts: list = field(default_factory=list)
    users: int = 0
    attempts: int = 0
    forms: list = field(default_factory=list)


def _scaled_linear(raw: float, cut: float = DEFAULT_CUT, max_raw: int = MAX_RAW) -> int:
    # Piecewise linear: 100 at raw 0, 300 at the cut, 400 at the top.
    below = raw <= cut
    value = 100 + 200 * raw / cut if below else 300 + 100 * (raw - cut) / (max_raw - cut)
    return int(round(min(400, max(100, value))))


def _conversions(forms) -> dict[int, tuple[float, list[int] | None, int]]:
    """(cut, table or None, max_raw) per form, from its conversion table when it has one."""
    found = {
        c.form_id: (float(c.cut), list(c.table), int(c.max_raw))
        for c in ScaleConversion.objects.filter(form__in=forms)
    }
    return {f.pk: found.get(f.pk, (DEFAULT_CUT, None, MAX_RAW)) for f in forms}


def _conversion_versions(forms) -> dict[int, int]:
    return dict(ScaleConversion.objects.filter(form__in=forms).values_list("form_id", "version"))


@dataclass
class _FormItems:
    """What answering a form needs: its items in position order, each one's difficulty,
    domain, keys and distractors, and the delivery rows an attempt's layout is built from."""

    form_item_ids: list[int]
    b: np.ndarray
    offsets: np.ndarray
    keys: list[list[int]]
    others: list[list[int]]
    rows: list


def _form_items(form: ExamForm, drift: dict[int, float] | None = None) -> _FormItems | None:
    """`drift`: item version id -> logits added to its difficulty on this form only (an
    anchor that behaves differently here, e.g. because it was exposed)."""
    drift = drift or {}
    items = list(
        FormItem.objects.filter(form=form)
        .order_by("position")
        .values_list("pk", "item_version_id", "item_version__domain__number")
    )
    if not items:
        return None
    versions = [v for _, v, _ in items]
    calibrated = calibrated_difficulties(versions)
    rated = dict(
        AngoffRating.objects.filter(item_version_id__in=versions)
        .values("item_version_id")
        .annotate(mean=Avg("rating"))
        .values_list("item_version_id", "mean")
    )
    keys: dict[int, list[int]] = {v: [] for v in versions}
    others: dict[int, list[int]] = {v: [] for v in versions}
    for version_id, pk, is_key in (
        Option.objects.filter(version_id__in=versions)
        .order_by("version_id", "position")
        .values_list("version_id", "pk", "is_key")
    ):
        (keys if is_key else others)[version_id].append(pk)

    def difficulty(version_id: int) -> float:
        if version_id in calibrated:
            return calibrated[version_id]
        r = min(max(float(rated.get(version_id) or 0.6), 0.02), 0.98)
        return -math.log(r / (1 - r))

    return _FormItems(
        form_item_ids=[pk for pk, _, _ in items],
        b=np.array([difficulty(v) + drift.get(v, 0.0) for _, v, _ in items]),
        offsets=np.array([DOMAIN_OFFSET.get(d, 0.0) for _, _, d in items]),
        keys=[keys[v] for _, v, _ in items],
        others=[others[v] for _, v, _ in items],
        rows=form_delivery_rows(form=form),
    )


def _answers(
    rng, items: _FormItems, ability: float, harder: np.ndarray | None = None
) -> list[list[int]]:
    """One selection per item, right with the Rasch probability (see the module docstring);
    `harder`: logits added to each item's difficulty for this candidate's group."""
    b = items.b if harder is None else items.b + harder
    right = rng.random(b.size) < 1 / (1 + np.exp(-(ability + items.offsets - b)))
    selections = []
    for j, ok in enumerate(right):
        keys, others = items.keys[j], items.others[j]
        if ok or not others:
            selections.append(list(keys))
        elif len(keys) <= 1:
            selections.append([others[int(rng.integers(len(others)))]])
        else:
            # Multiple response: one key swapped for a distractor.
            dropped = int(rng.integers(len(keys)))
            selections.append(
                keys[:dropped] + keys[dropped + 1 :] + [others[int(rng.integers(len(others)))]]
            )
    return selections


def demo_forms(*, limit: int = 3) -> list[ExamForm]:
    """Published exam forms to attach results to; a minimal empty one if there is none.

    The minimal form has no items: it exists only so that generated attempts have a form.
    It is never made available to anyone.
    """
    forms = list(ExamForm.objects.exams().published().order_by("created_at")[:limit])
    if forms:
        return forms
    form, _ = ExamForm.objects.get_or_create(
        name="Generated results form",
        defaults={
            "kind": FormKind.EXAM,
            "status": FormStatus.PUBLISHED,
            "published_at": timezone.now(),
            "time_limit_minutes": 240,
            "available_to_all": False,
        },
    )
    return [form]


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _attempt_result(rng, ability: float, conversion) -> tuple[dict, list]:
    """A score row's fields and its domain results, as scoring would store them."""
    cut, table, max_raw = conversion
    domains = {}
    raw = 0
    for number, total in DOMAIN_ITEMS.items():
        p = 1 / (1 + math.exp(-(ability + 0.75 + DOMAIN_OFFSET[number])))
        correct = int(rng.binomial(total, p))
        raw += correct
        domains[number] = (correct, total)
    expected = 100 * cut / MAX_RAW
    domain_results = [
        scoring_results.DomainResult(
            domain=number,
            score=float(correct),
            items=total,
            percent=100 * correct / total,
            expected=expected,
            expected_from=scoring_results.FROM_ANGOFF,
            band=scoring_results.band(100 * correct / total, expected),
        )
        for number, (correct, total) in domains.items()
    ]
    if table is not None:
        scaled = int(table[min(len(table) - 1, round(raw * max_raw / MAX_RAW))])
    else:
        scaled = _scaled_linear(raw, cut)
    share = raw / MAX_RAW
    se = max(1.0, math.sqrt(MAX_RAW * share * (1 - share)))
    fields = {
        "raw_score": float(raw),
        "max_raw": MAX_RAW,
        "scaled_score": scaled,
        "passed": scaled >= 300,
        "scaled_low": max(100, scaled - 14),
        "scaled_high": min(400, scaled + 14),
        "pass_probability": round(_phi((raw + 0.5 - cut) / se), 4),
        "domain_results": domain_results_json(domain_results),
    }
    return fields, domain_results


def _bulk(model, objects, batch: int = BATCH):
    created = []
    for i in range(0, len(objects), batch):
        created += model.objects.bulk_create(objects[i : i + batch])
    return created


def _candidate_group() -> Group:
    return Group.objects.get(name=Role.CANDIDATE.value)


@transaction.atomic
def generate(
    *,
    cohorts: int,
    candidates: int,
    attempts: int,
    managers: list | None = None,
    instructors: list | None = None,
    cohort_names: list[str] | None = None,
    seed: int | None = None,
    now: dt.datetime | None = None,
    months: int = 12,
    assign: bool = True,
    tag: str | None = None,
    answers: bool = False,
    score: bool = True,
    drift: dict[int, dict[int, float]] | None = None,
    dif: dict[int, dict[int, float]] | None = None,
    program: Program | None = None,
    stdout=None,
) -> Generated:
    """Insert `cohorts` cohorts of `program` (default: a generated program) sharing
    `candidates` new candidates and `attempts` exam attempts (each with a score), in bulk;
    the managers and instructors get their roles in the program. With `answers`, attempts
    on forms with items carry their answers and are scored from them (see the module
    docstring); with `score` False those are left submitted and unscored, for the caller
    to calibrate the items first and score them after (seed_demo), as the scoring sweep
    would. `drift`: form id -> {item version id: logits added to its difficulty on that
    form}, to plant an anchor that drifts; `dif`: cohort index -> {item version id: logits
    added to its difficulty for that cohort's candidates}, to plant an item that functions
    differently for one cohort. Returns what was made."""
    rng = np.random.default_rng(seed)
    now = now or timezone.now()
    tag = tag or secrets.token_hex(3)
    user_model = get_user_model()
    say = (lambda msg: stdout.write(f"{msg}\n")) if stdout else (lambda *_: None)
    out = Generated(forms=demo_forms())
    conversion = _conversions(out.forms)
    versions = _conversion_versions(out.forms)
    drift = drift or {}
    form_items = {f.pk: _form_items(f, drift.get(f.pk)) for f in out.forms} if answers else {}
    # Per form and cohort: the planted DIF as an array over the form's items.
    harder = {
        (form_id, cohort): np.array(
            [
                shifts.get(v, 0.0)
                for v in FormItem.objects.filter(form_id=form_id)
                .order_by("position")
                .values_list("item_version_id", flat=True)
            ]
        )
        for form_id in form_items
        for cohort, shifts in (dif or {}).items()
    }

    if not managers:
        manager, _ = user_model.objects.get_or_create(
            username=f"gen-{tag}-manager",
            defaults={
                "first_name": "Generated",
                "last_name": "Manager",
                "password": make_password(None),
            },
        )
        manager.groups.add(Group.objects.get(name=Role.MANAGER.value))
        managers = [manager]
    if program is None:
        program, _ = Program.objects.get_or_create(
            slug=f"gen-{tag}", defaults={"name": f"Generated program ({tag})"}
        )
    for person, role in [(m, StaffRole.MANAGER) for m in managers] + [
        (u, StaffRole.INSTRUCTOR) for u in instructors or []
    ]:
        ProgramStaff.objects.get_or_create(program=program, user=person, role=role)

    # Cohorts start over the last `months` months and run for six.
    codes: set[str] = set()
    cohort_objs = []
    starts = []
    for i in range(cohorts):
        code = new_enrolment_code()
        while code in codes:
            code = new_enrolment_code()
        codes.add(code)
        start = (now - dt.timedelta(days=int(rng.integers(30, 30 * months + 30)))).date()
        starts.append(start)
        name = cohort_names[i] if cohort_names and i < len(cohort_names) else None
        cohort_objs.append(
            Cohort(
                name=name or f"Cohort {i + 1:03d} ({tag})",
                program=program,
                start_date=start,
                end_date=start + dt.timedelta(days=182),
                enrolment_code=code,
            )
        )
    out.cohorts = _bulk(Cohort, cohort_objs)
    Cohort.managers.through.objects.bulk_create(
        [
            Cohort.managers.through(cohort_id=c.pk, user_id=m.pk)
            for c in out.cohorts
            for m in managers
        ]
    )
    if instructors:
        Cohort.instructors.through.objects.bulk_create(
            [
                Cohort.instructors.through(cohort_id=c.pk, user_id=u.pk)
                for c in out.cohorts
                for u in instructors
            ]
        )
    # Only forms with items are offered: the minimal stand-in form is never sat.
    offered = [f for f in out.forms if f.items.exists()]
    if assign and offered:
        Assignment.objects.bulk_create(
            [
                Assignment(
                    cohort=c,
                    form=f,
                    opens_at=timezone.make_aware(dt.datetime.combine(c.start_date, dt.time(8))),
                    closes_at=None,
                    max_attempts=5,
                )
                for c in out.cohorts
                for f in offered
            ]
        )

    # Cohort sizes vary (a gamma draw), as real programs do.
    weights = rng.gamma(2.0, 1.0, cohorts)
    cohort_of = rng.choice(cohorts, size=candidates, p=weights / weights.sum())
    cohort_effect = rng.normal(0, 0.4, cohorts)
    ability = rng.normal(0, 1.0, candidates) + cohort_effect[cohort_of]
    password = make_password(None)  # unusable: generated people never sign in
    users = [
        user_model(
            username=f"gen-{tag}-{i:06d}",
            email=f"gen-{tag}-{i:06d}@example.org",
            first_name=FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))],
            last_name=LAST_NAMES[int(rng.integers(len(LAST_NAMES)))],
            password=password,
        )
        for i in range(candidates)
    ]
    users = _bulk(user_model, users)
    out.users = len(users)
    group = _candidate_group()
    links = user_model.groups.through
    _bulk(links, [links(user_id=u.pk, group_id=group.pk) for u in users])
    memberships = []
    for i, user in enumerate(users):
        c = int(cohort_of[i])
        joined = timezone.make_aware(dt.datetime.combine(starts[c], dt.time(9)))
        memberships.append(
            Membership(
                cohort_id=out.cohorts[c].pk,
                user_id=user.pk,
                joined_at=joined,
                source=MembershipSource.GENERATED,
            )
        )
    _bulk(Membership, memberships)

    # About one candidate in seven never sits an exam; the others sit in proportion to an
    # engagement draw, so some retake several times.
    engagement = rng.gamma(1.5, 1.0, candidates) * (rng.random(candidates) > 0.14)
    if engagement.sum() == 0:
        engagement[:] = 1
    who = np.sort(rng.choice(candidates, size=attempts, p=engagement / engagement.sum()))
    per_candidate = np.bincount(who, minlength=candidates)
    attempt_objs: list[Attempt] = []
    results: list[dict] = []
    answer_sets: list[list[list[int]] | None] = []
    for i in np.nonzero(per_candidate)[0]:
        c = int(cohort_of[i])
        start = timezone.make_aware(dt.datetime.combine(starts[c], dt.time(9)))
        span = max(1.0, min((now - start).total_seconds(), 182 * 86400.0))
        n = int(per_candidate[i])
        times = sorted(start + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, span, n))
        for j, started in enumerate(times):
            form = out.forms[int(rng.integers(len(out.forms)))]
            last = j == n - 1
            in_progress = last and rng.random() < 0.01 and (now - started).days < 1
            items = form_items.get(form.pk)
            # The same ability in logits for the answers: 0 is the borderline candidate.
            theta = float(ability[i]) + RETAKE_GAIN * j + ANSWER_SHIFT
            answer_sets.append(
                None
                if in_progress or items is None
                else _answers(rng, items, theta, harder.get((form.pk, c)))
            )
            result = (
                None
                if in_progress
                else _attempt_result(rng, float(ability[i]) + RETAKE_GAIN * j, conversion[form.pk])
            )
            if result is not None:
                result[0]["conversion_version"] = versions.get(form.pk)
            submitted_at = (
                None if in_progress else started + dt.timedelta(minutes=int(rng.integers(110, 240)))
            )
            summary = {}
            if result is not None and (score or items is None):
                # As scoring leaves a scored attempt: its copy of the result on the row.
                fields = result[0]
                summary = {
                    "scored_at": submitted_at + dt.timedelta(seconds=5),
                    **attempt_summary_fields(
                        raw=fields["raw_score"],
                        max_raw=fields["max_raw"],
                        scaled=fields["scaled_score"],
                        passed=fields["passed"],
                        answered=ITEMS_ANSWERED,
                    ),
                }
            attempt_objs.append(
                Attempt(
                    candidate_id=users[i].pk,
                    form_id=form.pk,
                    mode=AttemptMode.EXAM,
                    state=AttemptState.IN_PROGRESS
                    if in_progress
                    else (AttemptState.EXPIRED if rng.random() < 0.03 else AttemptState.SUBMITTED),
                    started_at=started,
                    deadline=started + dt.timedelta(minutes=240),
                    submitted_at=submitted_at,
                    time_multiplier=Decimal("1.00"),
                    # Sat under the cohort's assignment: its program's attempt.
                    program_id=program.pk,
                    seed=(attempt_seed := int(rng.integers(0, 2**47))),
                    layout=[]
                    if items is None or not answers
                    else attempt_layout(
                        rows=items.rows,
                        seed=attempt_seed,
                        shuffle_items=form.shuffle_items,
                        shuffle_options=form.shuffle_options,
                    ),
                    **summary,
                )
            )
            results.append(result)
    created = _bulk(Attempt, attempt_objs)
    out.attempts = len(created)
    answered = [(a, s) for a, s in zip(created, answer_sets, strict=True) if s is not None]
    _bulk(
        Response,
        [
            Response(
                attempt_id=a.pk,
                form_item_id=form_item_id,
                selection=selection,
                saved_at=a.submitted_at,
            )
            for a, selections in answered
            for form_item_id, selection in zip(
                form_items[a.form_id].form_item_ids, selections, strict=True
            )
        ],
    )
    with_answers = {a.pk for a, _ in answered}
    # Results are written by scoring's own service, as for a live attempt: scored from
    # their answers where they have them, else stored as the ability model gave them.
    if score:
        for attempt_id in sorted(with_answers):
            attempt_score(attempt_id=attempt_id)
    scored = [
        (a, r)
        for a, r in zip(created, results, strict=True)
        if r is not None and a.pk not in with_answers
    ]
    results_store_bulk(
        rows=[(a.pk, fields, domains) for a, (fields, domains) in scored], batch_size=BATCH
    )
    say(
        f"{program.name}: {len(out.cohorts)} cohort(s), {len(users)} candidates, "
        f"{len(created)} exam attempts"
        + (f", {len(with_answers)} with their answers" if with_answers else "")
        + ("" if score or not with_answers else " (those left to be scored)")
    )
    return out


DEMO_COHORTS = ["HIM 210 · Spring cohort", "Coder track · St Luke's"]
DEMO_OTHER = "Other program (not yours)"
# The demo staff's program, and another with its own staff, cohort and candidates, so
# that after `make run` each side can be seen not to see the other.
DEMO_PROGRAM = ("demo", "Demo program")
OTHER_PROGRAM = ("riverside", "Riverside College HIM (another program)")


def demo_programs() -> tuple[Program, Program]:
    made = []
    for slug, name in (DEMO_PROGRAM, OTHER_PROGRAM):
        program, _ = Program.objects.get_or_create(slug=slug, defaults={"name": name})
        made.append(program)
    return made[0], made[1]


# Enough attempts per form (about 400 on each of the three demo forms) for a Rasch
# calibration of every operational item: with the ~50 per form of earlier demos, an easy
# item that every candidate answered right (or a hard one nobody did) has no conditional
# ML estimate, so its form could not be equated, and the difficulties of the common items
# moved so much between forms (SE ~0.35 logit each) that half the anchors looked drifting.
DEMO_CANDIDATES = 320
DEMO_ATTEMPTS = 1150
# One anchor is planted as drifting on the last demo form (it became easier there, as an
# exposed item does), so the linking report has a real drift to show.
DEMO_DRIFT = -1.2


def demo_drift(forms: list[ExamForm]) -> dict[int, dict[int, float]]:
    """The planted drift: the first common item of the demo forms (by id) made easier by
    DEMO_DRIFT logits on the last of them."""
    if len(forms) < 2:
        return {}
    common = None
    for form in forms:
        versions = set(
            FormItem.objects.filter(form=form, is_pretest=False).values_list(
                "item_version_id", flat=True
            )
        )
        common = versions if common is None else common & versions
    if not common:
        return {}
    return {forms[-1].pk: {min(common): DEMO_DRIFT}}


# And one item of the base form is planted as harder (by DEMO_DIF logits) for the second
# demo cohort's candidates than for the first's of the same ability (a setting the second
# cohort's training never covered), so the DIF page has a C item to flag for review.
DEMO_DIF = 1.6


def demo_dif(forms: list[ExamForm]) -> dict[int, dict[int, float]]:
    """The planted DIF: the first operational item (by position) of the first demo form
    that no other demo form has, harder for the second cohort (index 1)."""
    if not forms:
        return {}
    others = set(
        FormItem.objects.filter(form__in=forms[1:]).values_list("item_version_id", flat=True)
    )
    first = (
        FormItem.objects.filter(form=forms[0], is_pretest=False)
        .exclude(item_version_id__in=others)
        .order_by("position")
        .values_list("item_version_id", flat=True)
        .first()
    )
    return {} if first is None else {1: {first: DEMO_DIF}}


def generate_demo(*, stdout=None, seed: int = 2026, score: bool = True) -> Generated | None:
    """Two cohorts with results for demo-manager, and one that belongs to someone else.

    demo-instructor teaches the two (read-only dashboards) and demo-candidate and
    demo-candidate2 are members of the first without results of their own, so that
    they can sit its assigned forms. Does nothing if the demo cohorts exist. With
    `score` False the attempts with answers are left for the caller to score (seed_demo
    calibrates the items first).
    """
    user_model = get_user_model()
    say = (lambda msg: stdout.write(f"{msg}\n")) if stdout else (lambda *_: None)
    if Cohort.objects.filter(name=DEMO_COHORTS[0]).exists():
        say("demo cohorts already exist; nothing to do")
        return None
    manager = user_model.objects.filter(username="demo-manager").first()
    if manager is None:
        raise LookupError("demo-manager does not exist: run seed_demo first")
    instructors = list(user_model.objects.filter(username="demo-instructor"))
    ours_program, other_program = demo_programs()
    offered = [f for f in demo_forms() if f.items.exists()]
    drift = demo_drift(offered)
    ours = generate(
        program=ours_program,
        cohorts=2,
        candidates=DEMO_CANDIDATES,
        attempts=DEMO_ATTEMPTS,
        managers=[manager],
        instructors=instructors,
        cohort_names=DEMO_COHORTS,
        seed=seed,
        months=4,
        tag="demo",
        answers=True,
        score=score,
        drift=drift,
        dif=demo_dif(offered),
        stdout=stdout,
    )
    other_manager, _ = user_model.objects.get_or_create(
        username="demo-other-manager",
        defaults={"first_name": "Olive", "last_name": "Other", "password": make_password(None)},
    )
    other_manager.groups.add(Group.objects.get(name=Role.MANAGER.value))
    generate(
        program=other_program,
        instructors=list(user_model.objects.filter(username="demo-other-instructor")),
        cohorts=1,
        candidates=12,
        attempts=30,
        managers=[other_manager],
        cohort_names=[DEMO_OTHER],
        seed=seed + 1,
        months=4,
        tag="demo-other",
        answers=True,
        score=score,
        drift=drift,
        stdout=stdout,
    )
    first = ours.cohorts[0]
    # The demo candidates' first assigned form shows its answer review as soon as an
    # attempt is submitted ("scored items at once"), so the review can be seen after
    # `make run`; whatever the assignment default becomes, this one keeps it.
    review_form = (
        Assignment.objects.filter(cohort=first, form__items__isnull=False)
        .order_by("form__created_at", "form_id")
        .values_list("form_id", flat=True)
        .first()
    )
    if review_form is not None:
        Assignment.objects.filter(cohort=first, form_id=review_form).update(
            review_policy=ReviewPolicy.AFTER_SUBMISSION
        )
        say("the demo cohort's first form shows its answer review on submission")
    for username in ("demo-candidate", "demo-candidate2"):
        user = user_model.objects.filter(username=username).first()
        if user is not None:
            Membership.objects.get_or_create(
                cohort=first, user=user, defaults={"source": MembershipSource.ADDED}
            )
    return ours
