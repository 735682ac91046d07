"""Simulated exam attempts drawn from a Rasch model, so that item analysis can be run and
looked at before real candidates exist (manage.py simulate_responses).

Abilities are N(mean, 1). An item's difficulty is its calibrated one (ItemCalibration)
when it has one; otherwise -logit(mean Angoff rating) plus a little seeded noise (the
rating is the chance that a borderline candidate, ability 0 here, answers correctly);
otherwise a seeded N(0, 1) draw. A wrong answer picks a distractor at random, with
per-item attraction weights, so that distractor tables show something to read. Everything
random comes from one numpy Generator seeded with `seed`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg
from django.utils import timezone

from common.roles import Role
from exams.assembly import attempt_layout
from exams.models import Attempt, AttemptMode, AttemptState, ExamForm, FormKind, Response
from exams.services import form_delivery_rows
from questionbank.models import AngoffRating, Option
from scoring.selectors import calibrated_difficulties

ANGOFF_NOISE_SD = 0.3
BATCH = 500


@dataclass
class Simulated:
    attempts: int
    responses: int
    candidates_created: int
    difficulty_sources: dict[str, int]
    mean_raw_proportion: float


def _difficulties(version_ids: list[int], rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    calibrated = calibrated_difficulties(version_ids)
    rated = dict(
        AngoffRating.objects.filter(item_version_id__in=version_ids)
        .values("item_version_id")
        .annotate(mean=Avg("rating"))
        .values_list("item_version_id", "mean")
    )
    b = np.empty(len(version_ids))
    sources = {"calibration": 0, "angoff": 0, "random": 0}
    # Draw every kind of noise for every item, so that adding a rating to one item does not
    # change what the others get.
    noise = rng.normal(0, ANGOFF_NOISE_SD, len(version_ids))
    draws = rng.normal(0, 1, len(version_ids))
    for j, version_id in enumerate(version_ids):
        if version_id in calibrated:
            b[j] = calibrated[version_id]
            sources["calibration"] += 1
        elif version_id in rated:
            r = min(max(float(rated[version_id]), 0.02), 0.98)
            b[j] = -math.log(r / (1 - r)) + noise[j]
            sources["angoff"] += 1
        else:
            b[j] = draws[j]
            sources["random"] += 1
    return b, sources


def _candidates(prefix: str, count: int) -> tuple[list[int], int]:
    user_model = get_user_model()
    names = [f"{prefix}-{i:05d}" for i in range(1, count + 1)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    user_model.objects.bulk_create(
        [
            user_model(username=name, password=unusable, first_name="Simulated")
            for name in names
            if name not in existing
        ],
        batch_size=BATCH,
    )
    ids = dict(user_model.objects.filter(username__in=names).values_list("username", "pk"))
    group = Group.objects.filter(name=Role.CANDIDATE.value).first()
    if group is not None:
        through = user_model.groups.through
        through.objects.bulk_create(
            [through(user_id=ids[name], group_id=group.pk) for name in names],
            ignore_conflicts=True,
            batch_size=BATCH,
        )
    return [ids[name] for name in names], len(names) - len(existing)


def responses_simulate(
    *,
    form: ExamForm,
    candidates: int,
    seed: int,
    ability_mean: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> Simulated:
    """Write `candidates` submitted EXAM attempts on a published form (practice untouched)."""
    if form.kind != FormKind.EXAM or not form.is_published:
        raise ValidationError(f"{form} is not a published exam form.")
    if candidates < 1:
        raise ValidationError("Simulate at least one candidate.")
    rng = np.random.default_rng(seed)
    rows = form_delivery_rows(form=form)  # (form_item_id, case_id, choose, option ids)
    items = list(form.items.order_by("position").values_list("pk", "item_version_id"))
    version_ids = [v for _, v in items]
    b, sources = _difficulties(version_ids, rng)
    keys: dict[int, list[int]] = defaultdict(list)
    others: dict[int, list[int]] = defaultdict(list)
    for version_id, pk, is_key in (
        Option.objects.filter(version_id__in=version_ids)
        .order_by("version_id", "position")
        .values_list("version_id", "pk", "is_key")
    ):
        (keys if is_key else others)[version_id].append(pk)
    attraction = {
        v: rng.dirichlet(np.full(len(others[v]), 2.0)) if others[v] else None for v in version_ids
    }
    user_ids, created = _candidates(f"sim-{form.pk}-{seed}", candidates)
    theta = rng.normal(ability_mean, 1.0, candidates)
    correct = rng.random((candidates, len(items))) < 1 / (1 + np.exp(-(theta[:, None] - b)))
    now = timezone.now()
    n_responses = 0
    for start in range(0, candidates, BATCH):
        stop = min(start + BATCH, candidates)
        attempts = []
        for i in range(start, stop):
            started = now - dt.timedelta(days=float(rng.uniform(1, 30)))
            used = dt.timedelta(minutes=float(rng.uniform(0.4, 0.95)) * form.time_limit_minutes)
            attempt_seed = int(rng.integers(0, 2**48))
            attempts.append(
                Attempt(
                    candidate_id=user_ids[i],
                    form=form,
                    mode=AttemptMode.EXAM,
                    state=AttemptState.SUBMITTED,
                    started_at=started,
                    deadline=started + dt.timedelta(minutes=form.time_limit_minutes),
                    submitted_at=started + used,
                    seed=attempt_seed,
                    layout=attempt_layout(
                        rows=rows,
                        seed=attempt_seed,
                        shuffle_items=form.shuffle_items,
                        shuffle_options=form.shuffle_options,
                    ),
                    current_position=1,
                )
            )
        with transaction.atomic():
            Attempt.objects.bulk_create(attempts)
            responses = []
            for offset, attempt in enumerate(attempts):
                i = start + offset
                for j, (form_item_id, version_id) in enumerate(items):
                    responses.append(
                        Response(
                            attempt_id=attempt.pk,
                            form_item_id=form_item_id,
                            selection=_selection(
                                bool(correct[i, j]),
                                keys[version_id],
                                others[version_id],
                                attraction[version_id],
                                rng,
                            ),
                            saved_at=attempt.submitted_at,
                        )
                    )
            Response.objects.bulk_create(responses, batch_size=5000)
        n_responses += len(responses)
        if progress:
            progress(stop, candidates)
    return Simulated(
        attempts=candidates,
        responses=n_responses,
        candidates_created=created,
        difficulty_sources=sources,
        mean_raw_proportion=float(correct.mean()),
    )


def _selection(right: bool, keys: list[int], others: list[int], weights, rng) -> list[int]:
    if right or not others:
        return list(keys)
    if len(keys) == 1:
        return [others[int(rng.choice(len(others), p=weights))]]
    # Multiple response: one key swapped for a distractor, so the selection is wrong but
    # still has as many options as the stem asks for.
    dropped = int(rng.integers(len(keys)))
    chosen = keys[:dropped] + keys[dropped + 1 :]
    return [*chosen, others[int(rng.choice(len(others), p=weights))]]
