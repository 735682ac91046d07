"""Reads for exam delivery.

What a candidate sees during an attempt is built here and only here, from the attempt's
layout: the dataclasses below carry no key, rationale, status or pretest flag, so a
template cannot leak what it is never given.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import string
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404

from common.rows import RowReader
from exams import eligibility
from exams.models import Attempt, AttemptMode, ExamForm, FormItem, FormKind, Response
from questionbank.models import Case, Option, enemy_pairs


def forms_available_to(*, user, now=None):
    """Published exam forms the user may sit (exams.eligibility: assigned through a cohort
    with an open window, or open to everyone); each with its `item_total`."""
    return (
        eligibility.forms_available_to(user=user, now=now)
        .annotate(item_total=Count("items"))
        .order_by("name")
    )


def form_is_available_to(*, form: ExamForm, user) -> bool:
    # Without forms_available_to's item count: a bare EXISTS needs no join of the items.
    return eligibility.forms_available_to(user=user).filter(pk=form.pk).exists()


def own_attempt(*, user, pk: int) -> Attempt:
    """The user's own attempt, or 404: others' attempts do not exist for them."""
    return get_object_or_404(
        Attempt.objects.select_related("form", "candidate"), pk=pk, candidate=user
    )


def attempt_for_delivery(*, user, pk: int) -> Attempt:
    """own_attempt for the item page, a move's one read of the attempt: one plain SELECT of
    the row, built once (common.rows: the ORM's query building cost more than the query),
    and its form from this worker's memory when published (a published form's fields never
    change, except available_to_all, which delivery does not read). The candidate is not
    loaded: the page names request.user."""
    attempt = _own_attempt_row.get([pk, user.pk])
    if attempt is None:
        raise Http404("No such attempt.")
    attempt.form = delivered_form(attempt.form_id)
    return attempt


_own_attempt_row = RowReader(Attempt, "id = %s AND candidate_id = %s")


_forms: dict[int, ExamForm] = {}


def delivered_form(form_id: int) -> ExamForm:
    """The form `form_id`: a published one from this worker's memory (its fields never
    change, except available_to_all, which the caller reads itself if it needs it), any
    other read each time. A copy: nothing one request sets on it reaches another."""
    form = _forms.get(form_id)
    if form is None:
        form = ExamForm.objects.get(pk=form_id)
        if not form.is_published:
            return form  # a practice set or a draft: read each time
        _keep(_forms, form_id, form)
    return copy.copy(form)


_form_rows: dict[int, tuple] = {}


def published_form_rows(form_id: int, load: Callable[[], Sequence[tuple]]) -> tuple:
    """A published form's delivery rows (exams.services.form_delivery_rows) from this
    worker's memory, `load()`ed the first time: they never change once it is published.
    Tuples all the way down, as every start of every candidate shares them."""
    rows = _form_rows.get(form_id)
    if rows is None:
        rows = tuple(
            (pk, case_id, choose, tuple(option_ids)) for pk, case_id, choose, option_ids in load()
        )
        _keep(_form_rows, form_id, rows)
    return rows


def _keep(store: dict, form_id: int, value) -> None:
    """Keep what never changes of a published form; bounded by emptying the store."""
    if len(store) >= 1000:
        store.clear()
    store[form_id] = value


def attempts_of(*, user):
    return Attempt.objects.of(user).select_related("form").order_by("-started_at")


@dataclass(frozen=True)
class OptionView:
    index: int  # position in this attempt's display order; the form field's value
    letter: str
    text: str
    selected: bool


@dataclass(frozen=True)
class CaseView:
    title: str
    sections: list


@dataclass(frozen=True)
class ItemView:
    position: int
    total: int
    stem: str
    kind: str  # "single", "multiple" or "select_all"
    choose: int
    options: list[OptionView]
    case: CaseView | None
    flagged: bool
    answered: bool


@dataclass(frozen=True)
class Feedback:
    """Practice only: shown after the candidate checks an answer."""

    correct: bool
    key_letters: list[str]
    rationale: str
    references: str


class Cell(NamedTuple):
    position: int
    answered: bool
    flagged: bool


@dataclass(frozen=True)
class QuestionPage:
    item: ItemView
    # (position, answered, flagged) of every position: what the navigator's markup needs
    # (exams.navigator.cells_html), without making a Cell of each on every move.
    positions: list[tuple[int, bool, bool]]
    feedback: Feedback | None

    @property
    def cells(self) -> list[Cell]:
        return [Cell._make(p) for p in self.positions]


class _Answer(NamedTuple):
    selection: list
    flagged: bool
    checked_at: dt.datetime | None


# --- What a candidate is shown, cached ---------------------------------------------------
# An attempt's form items never change (a published form is frozen; a practice set is built
# once), nor do the versions delivered on them, so their text is cached by form item: an
# item page reads it from the cache instead of joining the bank. Case records are not
# versioned, so they are kept for a few minutes only.
CONTENT_SECONDS = 60 * 60
CASE_SECONDS = 5 * 60


@dataclass(frozen=True)
class ItemContent:
    stem: str
    kind: str
    case_id: int | None
    options: dict[int, str]  # option id -> text, for the attempt's layout to order


def _content_key(form_item_id: int) -> str:
    return f"exams:item-content:v1:{form_item_id}"


def _case_key(case_id: int) -> str:
    return f"exams:case-sections:v1:{case_id}"


# In front of the shared cache, each worker keeps what it read for a short while: a move
# then reads its item's text without a round trip to Redis. Bounded by emptying it.
LOCAL_SECONDS = 60
LOCAL_MAX = 20_000
_local: dict[str, tuple[float, object]] = {}


def _cache_get_many(keys: list[str]) -> dict:
    now = time.monotonic()
    found = {}
    for key in keys:
        hit = _local.get(key)
        if hit is not None and hit[0] > now:
            found[key] = hit[1]
    missing = [k for k in keys if k not in found]
    if missing:
        shared = cache.get_many(missing)
        _local_set_many(shared)
        found.update(shared)
    return found


def clear_local_cache() -> None:
    """Forget what this worker kept (with cache.clear(): tests reuse ids on SQLite)."""
    _local.clear()
    _forms.clear()
    _form_rows.clear()


def _local_set_many(values: dict) -> None:
    if len(_local) + len(values) > LOCAL_MAX:
        _local.clear()
    expires = time.monotonic() + LOCAL_SECONDS
    for key, value in values.items():
        _local[key] = (expires, value)


def item_contents(
    *, form_item_ids: list[int], load_with: Sequence[int] = ()
) -> dict[int, ItemContent]:
    """Stem, kind, case and option texts of each form item (no key, no rationale).

    On a miss the items of `load_with` (the rest of the attempt's form) are made and cached
    in the same two queries: when a cohort starts at once, the first item pages (each
    candidate's is a different item) then read the cache instead of each making its own."""
    keys = {fi: _content_key(fi) for fi in form_item_ids}
    found = _cache_get_many(list(keys.values()))
    out = {fi: found[key] for fi, key in keys.items() if key in found}
    missing = [fi for fi in form_item_ids if fi not in out]
    if missing:
        made = list(dict.fromkeys([*missing, *load_with]))
        keys.update((fi, _content_key(fi)) for fi in made if fi not in keys)
        rows = list(
            FormItem.objects.filter(pk__in=made).values_list(
                "pk",
                "item_version_id",
                "item_version__stem",
                "item_version__kind",
                "item_version__case_id",
            )
        )
        texts: dict[int, dict[int, str]] = defaultdict(dict)
        for version_id, pk, text in (
            Option.objects.filter(version_id__in=[r[1] for r in rows])
            .order_by()
            .values_list("version_id", "pk", "text")
        ):
            texts[version_id][pk] = text
        fresh = {
            pk: ItemContent(stem, kind, case_id, texts[version_id])
            for pk, version_id, stem, kind, case_id in rows
        }
        cache.set_many({keys[fi]: c for fi, c in fresh.items()}, CONTENT_SECONDS)
        out.update((fi, fresh[fi]) for fi in missing if fi in fresh)
    return out


def case_sections(*, case_ids: list[int]) -> dict[int, list]:
    """The record of each case, by id: the sections a candidate reads (not the title)."""
    keys = {cid: _case_key(cid) for cid in set(case_ids)}
    found = _cache_get_many(list(keys.values()))
    out = {cid: found[key] for cid, key in keys.items() if key in found}
    missing = [cid for cid in keys if cid not in out]
    if missing:
        fresh = {
            pk: list(sections)
            for pk, sections in Case.objects.filter(pk__in=missing).values_list("pk", "sections")
        }
        cache.set_many({keys[cid]: v for cid, v in fresh.items()}, CASE_SECONDS)
        out.update(fresh)
    return out


def attempt_question(*, attempt: Attempt, position: int) -> QuestionPage:
    """The item at `position`, the navigator and (practice) the feedback of a checked item.

    The attempt's responses are read once, for the item and the navigator alike; the
    item's text comes from the cache (item_contents).
    """
    form_item_id, choose, option_ids = attempt.layout[position - 1]
    # The selections as the database's text: the navigator needs only whether each is
    # empty, so only the item shown has its JSON decoded (a late move reads ~100 rows).
    state: dict[int, tuple[bool, bool]] = {}
    answer = None
    with connection.cursor() as cursor:
        # A plain SELECT: the ORM's query building cost more than the query. checked_at
        # is only asked whether it is set (SQLite returns it as text or naive).
        cursor.execute(_responses_sql(), [attempt.pk])
        rows = cursor.fetchall()
    for fi, text, flagged, checked_at in rows:
        if fi == form_item_id:
            answer = _Answer(json.loads(text) if text else [], bool(flagged), checked_at)
            state[fi] = (bool(answer.selection), answer.flagged)
        else:
            state[fi] = (_answered(text), bool(flagged))
    content = item_contents(
        form_item_ids=[form_item_id], load_with=[row[0] for row in attempt.layout]
    )[form_item_id]
    return QuestionPage(
        item=_item_view(attempt, position, content, choose, option_ids, answer),
        positions=_positions(attempt, state),
        feedback=_practice_feedback(attempt, form_item_id, option_ids, answer),
    )


@functools.cache
def _responses_sql() -> str:
    return (
        "SELECT form_item_id, CAST(selection AS text), flagged, checked_at "
        f"FROM {Response._meta.db_table} WHERE attempt_id = %s"
    )


def _answered(selection_text: str | None) -> bool:
    """A stored selection, as text, holds at least one option ("[]" and null do not)."""
    return selection_text not in (None, "", "[]", "null")


def _item_view(attempt: Attempt, position: int, content: ItemContent, choose, option_ids, answer):
    selected = set(answer.selection) if answer else set()
    options = [
        OptionView(i, string.ascii_uppercase[i], content.options[pk], pk in selected)
        for i, pk in enumerate(option_ids)
    ]
    case = None
    if content.case_id is not None:
        sections = case_sections(case_ids=[content.case_id])[content.case_id]
        # A case's title is for authors and can name the diagnosis: never sent.
        case = CaseView("", sections)
    return ItemView(
        position=position,
        total=len(attempt.layout),
        stem=content.stem,
        kind=content.kind,
        choose=choose,
        options=options,
        case=case,
        flagged=bool(answer and answer.flagged),
        answered=bool(selected),
    )


def _practice_feedback(attempt: Attempt, form_item_id: int, option_ids, answer: _Answer | None):
    """Key and rationale of a checked practice item; None in an exam, always."""
    if attempt.mode != AttemptMode.PRACTICE or attempt.form.kind != FormKind.PRACTICE:
        return None
    if answer is None or answer.checked_at is None:
        return None
    version = FormItem.objects.select_related("item_version").get(pk=form_item_id).item_version
    keys = set(
        Option.objects.filter(version_id=version.pk, is_key=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    letters = [string.ascii_uppercase[i] for i, pk in enumerate(option_ids) if pk in keys]
    return Feedback(
        correct=set(answer.selection) == keys,
        key_letters=letters,
        rationale=version.rationale,
        references=version.references,
    )


def _positions(attempt: Attempt, state: dict[int, tuple[bool, bool]]) -> list[tuple]:
    blank = (False, False)
    return [
        (position, *state.get(row[0], blank))
        for position, row in enumerate(attempt.layout, start=1)
    ]


def _cells(attempt: Attempt, state: dict[int, tuple[bool, bool]]) -> list[Cell]:
    return [Cell._make(p) for p in _positions(attempt, state)]


def _form_content_key(form_id: int) -> str:
    return f"exams:form-content:v1:{form_id}"


def attempt_payload(*, attempt: Attempt) -> dict:
    """Everything the page needs to deliver the attempt with no network, in its order.

    Items by position with their options in this attempt's display order, the case
    records they share (numbered in order of first use, never by bank id), the deadline
    and the warning times. Nothing else: no key, rationale, status, pretest marker, bank
    id or case title, as on the server-rendered pages. The item text of a published form
    is cached once for all its attempts; each attempt only reorders it.
    """
    key = _form_content_key(attempt.form_id)
    contents = cache.get(key) if attempt.form.is_published else None
    if contents is None:
        contents = item_contents(form_item_ids=[row[0] for row in attempt.layout])
        if attempt.form.is_published:
            cache.set(key, contents, CONTENT_SECONDS)
    case_numbers: dict[int, int] = {}
    items = []
    for form_item_id, choose, option_ids in attempt.layout:
        content = contents[form_item_id]
        case = None
        if content.case_id is not None:
            case = case_numbers.setdefault(content.case_id, len(case_numbers))
        items.append(
            {
                "stem": content.stem,
                "kind": content.kind,
                "choose": choose,
                "options": [content.options[pk] for pk in option_ids],
                "case": case,
            }
        )
    sections = case_sections(case_ids=list(case_numbers))
    cases = [None] * len(case_numbers)
    for case_id, number in case_numbers.items():
        cases[number] = [
            {"heading": s.get("heading", ""), "body": s.get("body", "")} for s in sections[case_id]
        ]
    return {
        "version": 1,
        "total": len(items),
        "items": items,
        "cases": cases,
        "deadline": _ms(attempt.deadline),
        "warnings": attempt.form.warnings,
    }


def _ms(value: dt.datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def attempt_answers(*, attempt: Attempt) -> dict[str, dict]:
    """The stored answers by position, as the page holds them: option indexes in this
    attempt's display order and the flag; positions never answered nor flagged omitted."""
    stored = {
        fi: (selection or [], flagged)
        for fi, selection, flagged in Response.objects.filter(attempt=attempt).values_list(
            "form_item_id", "selection", "flagged"
        )
    }
    out = {}
    for position, (form_item_id, _choose, option_ids) in enumerate(attempt.layout, start=1):
        if form_item_id in stored:
            selection, flagged = stored[form_item_id]
            chosen = set(selection)
            out[str(position)] = {
                "choices": [i for i, pk in enumerate(option_ids) if pk in chosen],
                "flagged": bool(flagged),
            }
    return out


def attempt_cells(*, attempt: Attempt) -> list[Cell]:
    """Navigator state of every position, from one query."""
    state = {
        fi: (bool(sel), flagged)
        for fi, sel, flagged in Response.objects.filter(attempt=attempt).values_list(
            "form_item_id", "selection", "flagged"
        )
    }
    return _cells(attempt, state)


def attempt_counts(*, cells: list[Cell]) -> dict[str, int]:
    return {
        "total": len(cells),
        "answered": sum(c.answered for c in cells),
        "unanswered": sum(not c.answered for c in cells),
        "flagged": sum(c.flagged for c in cells),
    }


def filter_cells(cells: list[Cell], show: str) -> list[Cell]:
    if show == "answered":
        return [c for c in cells if c.answered]
    if show == "unanswered":
        return [c for c in cells if not c.answered]
    if show == "flagged":
        return [c for c in cells if c.flagged]
    return cells


def form_preview(*, form: ExamForm):
    """Instructors' view of a form: every item with its domain, status and keys."""
    items = list(
        form.items.select_related(
            "item_version__item", "item_version__domain", "item_version__case"
        )
        .prefetch_related("item_version__options")
        .order_by("position")
    )
    per_domain = (
        form.items.filter(is_pretest=False)
        .values("item_version__domain__number")
        .annotate(n=Count("pk"), cases=Count("item_version__case", distinct=True))
        .order_by("item_version__domain__number")
    )
    return items, list(per_domain)


def attempt_history(*, user):
    attempts = attempts_of(user=user)
    return {
        "in_progress": [a for a in attempts if a.is_in_progress],
        "past": [a for a in attempts if not a.is_in_progress],
    }


@dataclass(frozen=True)
class ReviewedOption:
    letter: str
    text: str
    is_key: bool
    selected: bool


@dataclass(frozen=True)
class ReviewedItem:
    position: int
    stem: str
    options: list[ReviewedOption]
    correct: bool
    rationale: str
    domain: int | None = None
    domain_name: str = ""
    flagged: bool = False
    answered: bool = False
    # The health record of a case item (its sections; never the author's title).
    case_sections: tuple = ()


def attempt_answer_review(*, attempt: Attempt) -> list[ReviewedItem]:
    """Answers with keys and rationales, for a finished attempt whose form allows review."""
    if attempt.is_in_progress:
        raise ValueError("keys are never shown while an attempt is in progress")
    form_items = {
        fi.pk: fi
        for fi in FormItem.objects.filter(form_id=attempt.form_id).select_related(
            "item_version__domain", "item_version__case"
        )
    }
    options = {
        o.pk: o
        for o in Option.objects.filter(
            version_id__in=[fi.item_version_id for fi in form_items.values()]
        )
    }
    responses = {
        form_item_id: (selection, flagged)
        for form_item_id, selection, flagged in Response.objects.filter(
            attempt=attempt
        ).values_list("form_item_id", "selection", "flagged")
    }
    reviewed = []
    for position, (form_item_id, _choose, option_ids) in enumerate(attempt.layout, start=1):
        if form_items[form_item_id].is_pretest:
            # Pretest items are unidentified during the exam and stay so after it: they
            # never appear in a candidate's review (and are not scored for them).
            continue
        selection, flagged = responses.get(form_item_id, (None, False))
        chosen = set(selection or [])
        opts = [
            ReviewedOption(
                string.ascii_uppercase[i], options[pk].text, options[pk].is_key, pk in chosen
            )
            for i, pk in enumerate(option_ids)
        ]
        keys = {pk for pk in option_ids if options[pk].is_key}
        version = form_items[form_item_id].item_version
        domain = version.domain
        reviewed.append(
            ReviewedItem(
                position,
                version.stem,
                opts,
                chosen == keys,
                version.rationale,
                domain=domain.number if domain else None,
                domain_name=domain.name if domain else "",
                flagged=bool(flagged),
                answered=bool(chosen),
                case_sections=tuple(version.case.sections) if version.case else (),
            )
        )
    return reviewed


REVIEW_SHOWS = {"all": "All items", "wrong": "Not correct", "flagged": "Flagged"}


@dataclass(frozen=True)
class ReviewFilter:
    """Which reviewed items to show: from the page's GET parameters, so the filter works
    without JavaScript (static/js/report.js applies the same rule in the page)."""

    show: str = "all"
    domain: int | None = None

    @classmethod
    def from_params(cls, params) -> ReviewFilter:
        show = params.get("show", "all")
        domain = params.get("domain", "")
        # Unknown values are read as "no filter", never as an error: a hand-edited URL
        # still shows the review.
        return cls(
            show=show if show in REVIEW_SHOWS else "all",
            domain=int(domain) if domain.isdigit() and len(domain) < 4 else None,
        )

    def matches(self, item: ReviewedItem) -> bool:
        if self.show == "wrong" and item.correct:
            return False
        if self.show == "flagged" and not item.flagged:
            return False
        return self.domain is None or item.domain == self.domain

    @property
    def active(self) -> bool:
        return self.show != "all" or self.domain is not None


@dataclass(frozen=True)
class ReviewRow:
    item: ReviewedItem
    shown: bool


@dataclass(frozen=True)
class AnswerReview:
    """The answer review of a page: every item with whether the filter shows it, the
    filter itself and its choices."""

    rows: list[ReviewRow]
    filter: ReviewFilter
    domains: list[tuple[int, str]]
    shows: tuple = tuple(REVIEW_SHOWS.items())

    @property
    def shown(self) -> int:
        return sum(row.shown for row in self.rows)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def wrong(self) -> int:
        return sum(not row.item.correct for row in self.rows)

    @property
    def flagged(self) -> int:
        return sum(row.item.flagged for row in self.rows)


def answer_review(*, items: list[ReviewedItem], params) -> AnswerReview:
    """The review of `items` filtered by the page's GET `params` (show=wrong|flagged,
    domain=N). Items the filter leaves out are still rendered, hidden, so the page's
    script can show them again without a request."""
    chosen = ReviewFilter.from_params(params)
    domains = sorted({(i.domain, i.domain_name) for i in items if i.domain is not None})
    if chosen.domain is not None and chosen.domain not in {d for d, _ in domains}:
        chosen = ReviewFilter(show=chosen.show)
    return AnswerReview(
        rows=[ReviewRow(item, chosen.matches(item)) for item in items],
        filter=chosen,
        domains=domains,
    )


def unsaved_positions(raw: str, *, count: int) -> list[int]:
    """Question numbers from `?unsaved=3,7,12`, kept only when they exist on the attempt."""
    out = set()
    for part in raw.split(",")[:count]:
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= count:
            out.add(int(part))
    return sorted(out)


def form_enemy_pairs(*, form: ExamForm) -> list[tuple[str, str]]:
    """Pairs of enemy items (by key) that are both on `form`: none, if assembly did its job
    and nobody edited the enemies afterwards."""
    on_form = dict(
        FormItem.objects.filter(form=form).values_list(
            "item_version__item_id", "item_version__item__key"
        )
    )
    pairs = [sorted(on_form[i] for i in pair) for pair in enemy_pairs() if pair <= on_form.keys()]
    return sorted((a, b) for a, b in pairs)
