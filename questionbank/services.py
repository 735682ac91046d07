"""Writes to the question bank: authoring, versioning, the review workflow and ratings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from questionbank.models import (
    AngoffRating,
    Case,
    Domain,
    Item,
    ItemStatus,
    ItemVersion,
    Option,
    StatusChange,
)
from questionbank.validation import OptionData, content_errors, normalised_choose
from tenancy.audit import history_bulk, with_actor
from tenancy.scoping import AUTHORS_PROGRAM, may_change, owner_for

SHARED_REFUSAL = (
    "Shared items (the sample bank) are the platform operator's to change; "
    "copy what you need into an item of your program."
)


def _owner_of(version: ItemVersion) -> int | None:
    return Item.objects.filter(pk=version.item_id).values_list("owner_program", flat=True)[0]


def item_check_may_change(*, version: ItemVersion, by) -> None:
    """Refuse a change by someone outside the item's program (shared items: the operator
    alone). `by` None is the system itself (a command run by the operator)."""
    if by is not None and not may_change(by, _owner_of(version)):
        raise PermissionDenied(SHARED_REFUSAL)


CONTENT_FIELDS = (
    "domain",
    "case",
    "kind",
    "choose",
    "partial_credit",
    "stem",
    "rationale",
    "references",
    "code_set_year",
)

# Who may move a version from one status to another is decided in item_version_transition.
TRANSITIONS: dict[str, set[str]] = {
    ItemStatus.DRAFT: {ItemStatus.IN_REVIEW, ItemStatus.RETIRED},
    ItemStatus.IN_REVIEW: {ItemStatus.APPROVED, ItemStatus.DRAFT},
    ItemStatus.APPROVED: {ItemStatus.OPERATIONAL, ItemStatus.PRETEST, ItemStatus.RETIRED},
    ItemStatus.PRETEST: {ItemStatus.OPERATIONAL, ItemStatus.RETIRED},
    ItemStatus.OPERATIONAL: {ItemStatus.RETIRED},
    ItemStatus.RETIRED: set(),
}
ACTIVE_STATUSES = {ItemStatus.OPERATIONAL, ItemStatus.PRETEST}
# Versions in these states are edited in place; anything further along has been reviewed,
# so a change makes a new draft version that goes through review again.
EDITABLE_IN_PLACE = {ItemStatus.DRAFT, ItemStatus.IN_REVIEW}


def _check_content(version: ItemVersion, options: Sequence[OptionData]) -> None:
    version.choose = normalised_choose(version.kind, version.choose, options)
    errors = content_errors(
        kind=version.kind,
        choose=version.choose,
        options=options,
        stem=version.stem,
        rationale=version.rationale,
        status=version.status,
        partial_credit=version.partial_credit,
    )
    if errors:
        raise ValidationError(errors)


def _write_options(version: ItemVersion, options: Sequence[OptionData]) -> None:
    Option.objects.filter(version=version).delete()
    Option.objects.bulk_create(
        Option(version=version, position=i, text=o.text.strip(), is_key=o.is_key)
        for i, o in enumerate(options)
    )


def version_options(version: ItemVersion) -> list[OptionData]:
    return [OptionData(o.text, o.is_key) for o in version.options.order_by("position")]


@transaction.atomic
def item_create(
    *,
    key: str,
    domain: Domain,
    stem: str,
    options: Sequence[OptionData],
    code_set_year: int,
    author=None,
    kind: str = "single",
    choose: int = 1,
    case: Case | None = None,
    rationale: str = "",
    references: str = "",
    partial_credit: bool = False,
    status: str = ItemStatus.DRAFT,
    item: Item | None = None,
    owner_program_id=AUTHORS_PROGRAM,
    reason: str = "",
) -> ItemVersion:
    """A new item with its first version, or the first version of `item`, an identity left
    without versions (its versions deleted). Status other than draft is for imports.

    The item belongs to `owner_program_id`: by default the author's program; None makes
    shared content, which only the operator authors.
    """
    owner_program_id = owner_for(owner_program_id, author)
    if author is not None and not may_change(author, owner_program_id):
        raise PermissionDenied(SHARED_REFUSAL)
    if item is None:
        item = with_actor(Item(key=key, owner_program_id=owner_program_id), author, reason)
        item.full_clean()
        item.save()
    version = ItemVersion(
        item=item,
        number=1,
        domain=domain,
        case=case,
        kind=kind,
        choose=choose,
        partial_credit=partial_credit,
        stem=stem,
        rationale=rationale,
        references=references,
        code_set_year=code_set_year,
        status=status,
        author=author,
    )
    _check_content(version, options)
    version.full_clean(exclude=["item"])
    with_actor(version, author, reason or "Created")
    version.save()
    _write_options(version, options)
    return version


@transaction.atomic
def item_revise(
    *,
    version: ItemVersion,
    by,
    options: Sequence[OptionData] | None = None,
    **changes,
) -> ItemVersion:
    """Apply content changes; returns the version that holds them.

    A draft or in-review version that has never been delivered is edited in place. A
    locked version, or one that has been approved, is left as it is and the change becomes
    the item's next version, in draft.
    """
    unknown = set(changes) - set(CONTENT_FIELDS)
    if unknown:
        raise TypeError(f"not content fields: {sorted(unknown)}")
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    item_check_may_change(version=version, by=by)
    new_options = list(options) if options is not None else version_options(version)
    if not version.locked and version.status in EDITABLE_IN_PLACE:
        target = version
    else:
        next_number = (
            ItemVersion.objects.filter(item=version.item_id).aggregate(n=Max("number"))["n"] + 1
        )
        target = ItemVersion(
            item_id=version.item_id,
            number=next_number,
            status=ItemStatus.DRAFT,
            author=by,
            **{field: getattr(version, field) for field in CONTENT_FIELDS},
        )
    for field, value in changes.items():
        setattr(target, field, value)
    _check_content(target, new_options)
    target.full_clean(exclude=["item"])
    with_actor(target, by, "Revised")
    target.save()
    _write_options(target, new_options)
    return target


def _may(user, perm: str) -> bool:
    return user is not None and user.has_perm(f"questionbank.{perm}")


@transaction.atomic
def item_version_transition(
    *, version: ItemVersion, to_status: str, by, note: str = ""
) -> ItemVersion:
    """Move a version through the review workflow, enforcing who may do what."""
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if by is not None and not may_change(by, _owner_of(version)):
        raise PermissionDenied(SHARED_REFUSAL)
    from_status = version.status
    if to_status not in TRANSITIONS.get(from_status, set()):
        raise ValidationError(
            f"{version} cannot go from {ItemStatus(from_status).label} "
            f"to {ItemStatus(to_status).label}."
        )
    is_author = by is not None and version.author_id == by.pk
    if to_status == ItemStatus.IN_REVIEW:
        if not (is_author or _may(by, "change_itemversion")):
            raise PermissionDenied("Only the author or an instructor can send an item to review.")
    elif from_status == ItemStatus.IN_REVIEW and to_status == ItemStatus.APPROVED:
        if not _may(by, "review_itemversion"):
            raise PermissionDenied("You do not have permission to approve items.")
        if is_author:
            raise PermissionDenied("An author cannot approve their own item; ask another reviewer.")
    elif from_status == ItemStatus.IN_REVIEW and to_status == ItemStatus.DRAFT:
        if not (is_author or _may(by, "review_itemversion")):
            raise PermissionDenied("Only the author or a reviewer can return an item to draft.")
    elif from_status == ItemStatus.DRAFT and to_status == ItemStatus.RETIRED:
        if not (is_author or _may(by, "activate_itemversion")):
            raise PermissionDenied("Only the author or an instructor can retire a draft.")
    elif not _may(by, "activate_itemversion"):
        raise PermissionDenied(
            f"You do not have permission to make items {ItemStatus(to_status).label.lower()}."
        )

    if to_status == ItemStatus.IN_REVIEW:
        # The content rules for the status it is going to, checked before anything is written.
        version.status = to_status
        _check_content(version, version_options(version))
        version.status = from_status
    return item_version_status_set(version=version, to_status=to_status, by=by, note=note)


def item_version_status_set(
    *, version: ItemVersion, to_status: str, by, note: str = ""
) -> ItemVersion:
    """Write a status and its history, keeping one live version per item.

    No workflow or permission check: callers (the review workflow, a bank import restoring
    a state) decide whether the move is allowed.
    """
    from_status = version.status
    version.status = to_status
    with_actor(version, by, note or f"{from_status} → {to_status}")
    version.save(update_fields=["status", "updated_at"], allow_locked=True)
    if to_status in ACTIVE_STATUSES:
        # One live version per item: the one just activated replaces any earlier one.
        for older in ItemVersion.objects.filter(
            item_id=version.item_id, status__in=ACTIVE_STATUSES
        ).exclude(pk=version.pk):
            StatusChange.objects.create(
                item_version=older,
                from_status=older.status,
                to_status=ItemStatus.RETIRED,
                by=by,
                note=f"Replaced by version {version.number}.",
            )
            older.status = ItemStatus.RETIRED
            with_actor(older, by, f"Replaced by version {version.number}")
            older.save(update_fields=["status", "updated_at"], allow_locked=True)
    StatusChange.objects.create(
        item_version=version, from_status=from_status, to_status=to_status, by=by, note=note
    )
    return version


def item_versions_lock(*, version_ids: Sequence[int]) -> int:
    """Mark versions as delivered: from now on they are never edited."""
    return ItemVersion.objects.filter(pk__in=version_ids, locked=False).update(locked=True)


def angoff_value(rating: Decimal | float | str) -> Decimal:
    """A rating as stored: a finite probability between 0 and 1, else ValidationError."""
    try:
        value = Decimal(str(rating))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise ValidationError({"rating": "An Angoff rating is a probability between 0 and 1."})
    return value


@transaction.atomic
def angoff_rating_set(
    *, version: ItemVersion, judge, rating: Decimal | float | str
) -> AngoffRating:
    """The judge's own rating of an item of their program (shared items: the operator's
    panel, brought in by a restore)."""
    if not may_change(judge, _owner_of(version)):
        raise PermissionDenied(SHARED_REFUSAL)
    value = angoff_value(rating)
    obj = AngoffRating.objects.filter(item_version=version, judge=judge).first() or (
        AngoffRating(item_version=version, judge=judge)
    )
    obj.rating = value
    with_actor(obj, judge)
    obj.save()
    return obj


def angoff_ratings_set(
    *, ratings: Sequence[tuple[ItemVersion, object, Decimal]], by=None, reason: str = ""
) -> int:
    """Set many (version, judge, rating) at once: one upsert, whatever their number.

    No permission check: callers (an import keeping only the importer's own ratings, the
    operator's restore) decide whose ratings are written. Each rating's audit record is
    written here, since a bulk statement sends no signals.
    """
    rows = [
        AngoffRating(item_version=version, judge=judge, rating=angoff_value(rating))
        for version, judge, rating in ratings
    ]
    AngoffRating.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["item_version", "judge"],
        update_fields=["rating", "rated_at"],
    )
    if rows:
        wanted = {(r.item_version.pk, r.judge.pk) for r in rows}
        stored = [
            r
            for r in AngoffRating.objects.filter(
                item_version__in={v for v, _ in wanted}, judge__in={j for _, j in wanted}
            ).select_related("item_version__item")
            if (r.item_version_id, r.judge_id) in wanted
        ]
        history_bulk(
            AngoffRating,
            stored,
            by=by,
            reason=reason,
            update=True,
            program_of=lambda r: r.item_version.item.owner_program_id,
        )
    return len(rows)


class EnemyError(ValidationError):
    """An enemy declaration that cannot hold (an item as its own enemy)."""


@transaction.atomic
def item_enemies_set(*, item: Item, enemies: Iterable[Item], visible=None) -> None:
    """Make `enemies` exactly the items `item` must never share a form with (both ways).

    `visible` (a queryset of items) is what the editor could see and choose from: pairs
    with items outside it are kept. A shared item may be paired with a program's own item
    by that program's staff, and the operator editing the shared item never sees, and so
    must not drop, that pairing.
    """
    enemies = list(enemies)
    if any(enemy.pk == item.pk for enemy in enemies):
        raise EnemyError({"enemies": f"{item.key} cannot be its own enemy."})
    if visible is not None:
        enemies += list(item.enemies.exclude(pk__in=visible.values("pk")))
    item.enemies.set(enemies)


@transaction.atomic
def item_enemy_pairs_apply(
    *, add: Iterable[frozenset[int]] = (), remove: Iterable[frozenset[int]] = ()
) -> tuple[int, int]:
    """Add and remove enemy pairs (sets of two item ids); returns (added, removed) pairs.

    The relation is symmetric, so each pair is one row each way in the through table.
    """
    through = Item.enemies.through
    add, remove = set(add), set(remove) - set(add)
    for pair in add | remove:
        if len(pair) != 2:
            raise EnemyError({"enemies": "An item cannot be its own enemy."})
    stored = {
        frozenset(p)
        for p in through.objects.values_list("from_item_id", "to_item_id")
        if p[0] != p[1]
    }
    new = add - stored
    gone = remove & stored
    through.objects.bulk_create(
        [through(from_item_id=a, to_item_id=b) for pair in new for a, b in _both_ways(pair)]
    )
    for pair in gone:
        through.objects.filter(from_item_id__in=pair, to_item_id__in=pair).delete()
    return len(new), len(gone)


def _both_ways(pair: frozenset[int]) -> list[tuple[int, int]]:
    a, b = sorted(pair)
    return [(a, b), (b, a)]
