"""Import and export of the bank (format: docs/bank-format.md).

An import validates every record before writing anything and runs in one transaction: a
bad record raises BankImportError naming the record and the field, and the bank is left
exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch

from common.errors import ApplicationError
from common.lifecycle import log_event
from questionbank.models import (
    CODE_SET_YEAR_MAX,
    CODE_SET_YEAR_MIN,
    AngoffRating,
    Case,
    Domain,
    Item,
    ItemStatus,
    ItemVersion,
    Option,
    Setting,
    case_sections_errors,
    coding_errors,
    enemy_pairs,
)
from questionbank.services import (
    angoff_ratings_set,
    angoff_value,
    item_create,
    item_enemy_pairs_apply,
    item_revise,
    item_version_status_set,
)
from questionbank.validation import OptionData, content_errors, keys_of
from tenancy.scoping import is_operator, may_change

FORMAT = "ccs-sim-bank"
FORMAT_VERSION = 1
CSV_COLUMNS = [
    "key", "domain", "kind", "choose", "stem",
    "option_a", "option_b", "option_c", "option_d", "option_e", "option_f",
    "keys", "rationale", "references", "code_set_year", "status",
]  # fmt: skip


class BankImportError(ApplicationError):
    """A record that cannot be imported; nothing was written."""

    def __init__(self, record: str, field_name: str, message: str):
        self.record = record
        self.field = field_name
        self.message = message
        super().__init__(f"{record}, field '{field_name}': {message}")


@dataclass
class ImportResult:
    cases_created: int = 0
    cases_updated: int = 0
    items_created: int = 0
    items_revised: int = 0
    items_unchanged: int = 0
    ratings: int = 0
    # Items the file marked further along than an import goes (held in review).
    held_for_review: int = 0
    enemies_added: int = 0
    enemies_removed: int = 0
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"cases: {self.cases_created} created, {self.cases_updated} updated; "
            f"items: {self.items_created} created, {self.items_revised} revised, "
            f"{self.items_unchanged} unchanged; Angoff ratings new or changed: {self.ratings}; "
            f"enemy pairs: {self.enemies_added} added, {self.enemies_removed} removed"
        )
        if self.held_for_review:
            text += (
                f"; {self.held_for_review} item(s) marked approved or further in the file "
                "land in review (or stay as they are), for a second person to approve"
            )
        return text


def _year(value, record: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BankImportError(record, "code_set_year", "must be a year such as 2026")
    try:
        year = int(value)
    except ValueError:
        raise BankImportError(record, "code_set_year", f"{value!r} is not a year") from None
    if not CODE_SET_YEAR_MIN <= year <= CODE_SET_YEAR_MAX:
        raise BankImportError(record, "code_set_year", f"{year} is not a plausible code-set year")
    return year


def _text(obj: dict, name: str, record: str, *, required: bool = True) -> str:
    value = obj.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BankImportError(record, name, "must be text")
    if required and not value.strip():
        raise BankImportError(record, name, "is required")
    return value


def _model_value(model, name: str, value, record: str, field_name: str = "") -> None:
    """Apply the model field's own validators (slug, max_length), as the admin would."""
    try:
        model._meta.get_field(name).run_validators(value)
    except ValidationError as exc:
        raise BankImportError(record, field_name or name, " ".join(exc.messages)) from None


def _coding(raw, record: str) -> dict:
    coding = raw.get("coding") or {}
    problems = coding_errors(coding)
    if problems:
        key, message = problems[0]
        raise BankImportError(record, f"coding.{key}" if key else "coding", message)
    return coding


def _rating(value, record: str, field_name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BankImportError(record, field_name, "must be a number between 0 and 1")
    try:
        return angoff_value(value)
    except ValidationError:
        raise BankImportError(record, field_name, "must be a number between 0 and 1") from None


def _clean_case(raw, index: int) -> dict:
    record = f"case {index + 1}"
    if not isinstance(raw, dict):
        raise BankImportError(record, "(record)", "must be an object")
    key = _text(raw, "key", record)
    record = f"case {index + 1} ({key})"
    _model_value(Case, "key", key, record)
    title = _text(raw, "title", record)
    _model_value(Case, "title", title, record)
    setting = _text(raw, "setting", record)
    if setting not in Setting.values:
        raise BankImportError(record, "setting", f"must be one of {', '.join(Setting.values)}")
    sections = raw.get("sections")
    problems = case_sections_errors(sections)
    if problems:
        raise BankImportError(record, "sections", " ".join(problems))
    for number, section in enumerate(sections, start=1):
        if not all(isinstance(section.get(part), str) for part in ("heading", "body")):
            raise BankImportError(record, f"sections[{number}]", "heading and body must be text")
    coding = _coding(raw, record)
    return {
        "key": key,
        "title": title,
        "setting": setting,
        "sections": [{"heading": s["heading"], "body": s["body"]} for s in sections],
        "coding": coding,
        "code_set_year": _year(raw.get("code_set_year"), record),
    }


def _clean_item(raw, index: int, domains: dict[int, Domain], case_keys: set[str]) -> dict:
    record = f"item {index + 1}"
    if not isinstance(raw, dict):
        raise BankImportError(record, "(record)", "must be an object")
    key = _text(raw, "key", record)
    record = f"item {index + 1} ({key})"
    _model_value(Item, "key", key, record)
    domain_number = raw.get("domain")
    if (
        isinstance(domain_number, bool)
        or not isinstance(domain_number, int)
        or domain_number not in domains
    ):
        raise BankImportError(
            record, "domain", f"must be a domain number 1–5, got {domain_number!r}"
        )
    case_key = raw.get("case") or None
    if case_key is not None and not isinstance(case_key, str):
        raise BankImportError(record, "case", "must be a case key or null")
    if case_key is not None and case_key not in case_keys:
        raise BankImportError(record, "case", f"no case with key {case_key!r} in the file or bank")
    kind = _text(raw, "kind", record)
    choose = raw.get("choose", 1)
    if kind == "select_all" and "choose" not in raw:
        choose = None  # not stated: the number of keys, below
    elif isinstance(choose, bool) or not isinstance(choose, int):
        raise BankImportError(record, "choose", "must be a whole number")
    raw_options = raw.get("options")
    if not isinstance(raw_options, list):
        raise BankImportError(record, "options", "must be a list of {text, key}")
    options = []
    for number, option in enumerate(raw_options, start=1):
        if not isinstance(option, dict) or not isinstance(option.get("text"), str):
            raise BankImportError(record, f"options[{number}]", "must be {text, key}")
        if not isinstance(option.get("key", False), bool):
            raise BankImportError(record, f"options[{number}].key", "must be true or false")
        text = option["text"].strip()
        _model_value(Option, "text", text, record, f"options[{number}].text")
        options.append(OptionData(text, option.get("key", False)))
    if kind == "select_all":
        keys = keys_of(options)
        if choose is not None and choose != keys:
            raise BankImportError(
                record,
                "choose",
                "a select-all-that-apply item states no count: omit 'choose' or give the "
                f"number of keys ({keys})",
            )
        choose = keys
    status = raw.get("status") or ItemStatus.DRAFT
    if status not in ItemStatus.values:
        raise BankImportError(record, "status", f"must be one of {', '.join(ItemStatus.values)}")
    partial = raw.get("partial_credit", False)
    if not isinstance(partial, bool):
        raise BankImportError(record, "partial_credit", "must be true or false")
    stem = _text(raw, "stem", record)
    rationale = _text(raw, "rationale", record, required=False)
    errors = content_errors(
        kind=kind,
        choose=choose,
        options=options,
        stem=stem,
        rationale=rationale,
        status=status,
        partial_credit=partial,
    )
    if errors:
        field_name, messages = next(iter(errors.items()))
        raise BankImportError(record, field_name, " ".join(messages))
    enemies = None
    if "enemies" in raw:
        enemies = raw.get("enemies") or []
        if not isinstance(enemies, list) or not all(isinstance(k, str) for k in enemies):
            raise BankImportError(record, "enemies", "must be a list of item keys")
        if key in enemies:
            raise BankImportError(record, "enemies", f"{key} cannot be its own enemy")
    raw_ratings = raw.get("angoff")
    if raw_ratings is None:
        raw_ratings = []
    if not isinstance(raw_ratings, list):
        raise BankImportError(record, "angoff", "must be a list of {judge, rating}")
    ratings = []
    for number, rating in enumerate(raw_ratings, start=1):
        if not isinstance(rating, dict) or not isinstance(rating.get("judge"), str):
            raise BankImportError(record, f"angoff[{number}]", "must be {judge, rating}")
        value = _rating(rating.get("rating"), record, f"angoff[{number}].rating")
        ratings.append((rating["judge"], value))
    return {
        "key": key,
        "domain": domains[domain_number],
        "case_key": case_key,
        "kind": kind,
        "choose": choose,
        "options": options,
        "stem": stem,
        "rationale": rationale,
        "references": _text(raw, "references", record, required=False),
        "code_set_year": _year(raw.get("code_set_year"), record),
        "status": status,
        "partial_credit": partial,
        "ratings": ratings,
        "enemies": enemies,
        "record": record,
    }


# An import lands content for review, never beyond: what it creates or changes is a
# draft, or in review when the file says it was further along. Approving and activating
# are the review workflow's (a second person), so one person's file cannot forge a form's
# content or cut score.
IMPORT_CEILING = ItemStatus.IN_REVIEW
RESTORE_REASON = "Operator restore"


def _imported_status(file_status: str) -> str:
    return ItemStatus.DRAFT if file_status == ItemStatus.DRAFT else IMPORT_CEILING


def bank_import(
    data: dict,
    *,
    by=None,
    program=None,
    create_missing_judges: bool = False,
    restore: bool = False,
    source: str = "",
) -> ImportResult:
    """Import a bank document (already parsed JSON). All or nothing.

    An import (the default) respects the review workflow: new items and changes land as
    draft or in review, never beyond, in `program` (None: shared content, which only the
    operator imports); items of another program or shared items are refused; and only
    the importer's own Angoff ratings are stored (others are ignored and said so).

    `restore=True` is the platform operator's restore of a full state (`restore_bank`,
    `load_sample_bank`): statuses and every judge's ratings as the file says, recorded in
    the audit trail and the workflow history as a restore.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BankImportError("document", "format", f"must be {FORMAT!r}")
    if data.get("version") != FORMAT_VERSION:
        raise BankImportError("document", "version", f"must be {FORMAT_VERSION}")
    if restore and by is not None and not is_operator(by):
        raise PermissionDenied("Only the platform operator restores a bank.")
    program_id = getattr(program, "pk", program)
    if not restore and by is not None and not may_change(by, program_id):
        raise PermissionDenied("Import into one of your programs.")
    if not restore:
        # Judges are never created by an import: ratings are the importer's own.
        create_missing_judges = False
    raw_cases = data.get("cases") or []
    raw_items = data.get("items") or []
    if not isinstance(raw_cases, list) or not isinstance(raw_items, list):
        raise BankImportError("document", "cases/items", "must be lists")

    cases = [_clean_case(raw, i) for i, raw in enumerate(raw_cases)]
    _no_duplicates([c["key"] for c in cases], "case")
    # A file may use cases of the bank the importer can see, never another program's.
    visible_cases = Case.objects.all() if restore or by is None else Case.objects.visible_to(by)
    case_keys = {c["key"] for c in cases} | set(visible_cases.values_list("key", flat=True))
    domains = {d.number: d for d in Domain.objects.all()}
    items = [_clean_item(raw, i, domains, case_keys) for i, raw in enumerate(raw_items)]
    _no_duplicates([i["key"] for i in items], "item")

    result = ImportResult()
    if not restore:
        mine = getattr(by, "username", None)
        ignored = sorted({n for i in items for n, _ in i["ratings"] if n != mine})
        for item in items:
            item["ratings"] = [(n, v) for n, v in item["ratings"] if n == mine]
        if ignored:
            result.messages.append(
                f"Angoff ratings of other judges were ignored ({', '.join(ignored)}): each "
                "judge rates in the admin for themselves; an import stores only the "
                "importer's own ratings."
            )
    declared = _declared_enemies(data.get("enemies"), items)

    judge_names = {name for item in items for name, _ in item["ratings"]}
    user_model = get_user_model()
    judges = {u.username: u for u in user_model.objects.filter(username__in=judge_names)}
    missing = judge_names - set(judges)
    if missing and not create_missing_judges:
        item = next(i for i in items if any(n in missing for n, _ in i["ratings"]))
        name = next(n for n, _ in item["ratings"] if n in missing)
        raise BankImportError(item["record"], "angoff.judge", f"no user named {name!r}")

    reason = f"{RESTORE_REASON}{f' ({source})' if source else ''}" if restore else "Import"
    context = _ImportContext(
        by=by, program_id=program_id, restore=restore, reason=reason, result=result
    )
    with transaction.atomic():
        for name in sorted(missing):
            # Panel judges named in a restored bank get accounts that cannot sign in.
            judge = user_model(username=name, is_active=False)
            judge.set_unusable_password()
            judge.save()
            judges[name] = judge
        case_by_key = {}
        stored_cases = Case.objects.select_for_update().in_bulk(
            [c["key"] for c in cases], field_name="key"
        )
        for data_case in cases:
            obj = stored_cases.get(data_case["key"])
            record = f"case {data_case['key']}"
            if obj is None:
                obj = Case.objects.create(
                    **data_case,
                    created_by=by,
                    owner_program_id=None if restore else program_id,
                )
                result.cases_created += 1
            elif any(getattr(obj, k) != v for k, v in data_case.items()):
                context.check_owner(obj.owner_program_id, record)
                # An existing case keeps its creator; only changed content counts.
                for name, value in data_case.items():
                    setattr(obj, name, value)
                obj.save()
                result.cases_updated += 1
            case_by_key[obj.key] = obj
        referenced = {i["case_key"] for i in items} - set(case_by_key) - {None}
        case_by_key |= visible_cases.in_bulk(referenced, field_name="key")
        for key in referenced - set(case_by_key):
            case_by_key[key] = Case.objects.get(key=key)  # gone since it was checked: raises
        existing = {
            item.key: item
            for item in Item.objects.filter(key__in=[i["key"] for i in items]).prefetch_related(
                Prefetch(
                    "versions",
                    queryset=ItemVersion.objects.latest()
                    .select_related("domain", "case")
                    .prefetch_related(
                        Prefetch("options", queryset=Option.objects.order_by("position"))
                    ),
                    to_attr="latest_versions",
                )
            )
        }
        ratings = []
        for data_item in items:
            try:
                version = _import_item(data_item, existing, case_by_key, context)
            except ValidationError as exc:
                raise BankImportError(
                    data_item["record"], _first_field(exc), " ".join(exc.messages)
                ) from exc
            ratings += [(version, judges[name], value) for name, value in data_item["ratings"]]
        # Only new or changed ratings are written, so an unchanged file keeps their dates.
        stored = {
            (version_id, judge_id): rating
            for version_id, judge_id, rating in AngoffRating.objects.filter(
                item_version__in={version.pk for version, _, _ in ratings}
            ).values_list("item_version_id", "judge_id", "rating")
        }
        changed = [r for r in ratings if stored.get((r[0].pk, r[1].pk)) != r[2]]
        result.ratings = angoff_ratings_set(ratings=changed, by=by, reason=reason)
        result.enemies_added, result.enemies_removed = _apply_enemies(declared, items)
    log_event(
        "bank.restored" if restore else "bank.import_applied",
        by_id=getattr(by, "pk", None),
        program_id=program_id,
        cases_created=result.cases_created,
        cases_updated=result.cases_updated,
        items_created=result.items_created,
        items_revised=result.items_revised,
        ratings=result.ratings,
    )
    return result


def bank_restore(data: dict, *, by=None, source: str = "") -> ImportResult:
    """The platform operator's restore of a full bank state (statuses and every judge's
    ratings as the file says); recorded as a restore in the audit trail."""
    return bank_import(data, by=by, create_missing_judges=True, restore=True, source=source)


@dataclass
class _ImportContext:
    by: object
    program_id: int | None
    restore: bool
    reason: str
    result: ImportResult

    def check_owner(self, owner_program_id: int | None, record: str) -> None:
        """An import changes only content of its own program (a restore: anything)."""
        if self.restore or self.by is None:
            return
        if not may_change(self.by, owner_program_id) or owner_program_id != self.program_id:
            raise BankImportError(
                record,
                "key",
                "this key is taken by content you cannot change; choose another key",
            )


def _declared_enemies(raw_groups, items: list[dict]) -> set[frozenset[str]]:
    """Enemy pairs (of item keys) the document declares: each item's `enemies` and the
    document's `enemies` groups (every two keys of a group are enemies). Every key must
    be an item of the file or of the bank."""
    pairs: set[frozenset[str]] = set()
    for item in items:
        for other in item["enemies"] or []:
            pairs.add(frozenset((item["key"], other)))
    if raw_groups is None:
        raw_groups = []
    if not isinstance(raw_groups, list):
        raise BankImportError("document", "enemies", "must be a list of groups of item keys")
    for number, group in enumerate(raw_groups, start=1):
        record = f"enemies group {number}"
        if (
            not isinstance(group, list)
            or len(group) < 2
            or not all(isinstance(k, str) for k in group)
        ):
            raise BankImportError(record, "(group)", "must be a list of two or more item keys")
        if len(set(group)) != len(group):
            raise BankImportError(record, "(group)", "names an item twice")
        pairs |= {frozenset((a, b)) for i, a in enumerate(group) for b in group[i + 1 :]}
    named = {key for pair in pairs for key in pair}
    known = {item["key"] for item in items}
    known |= set(Item.objects.filter(key__in=named - known).values_list("key", flat=True))
    for pair in sorted(pairs, key=sorted):
        missing = sorted(pair - known)
        if missing:
            where = next(
                (i["record"] for i in items if i["key"] in pair and i["enemies"]),
                "enemies",
            )
            raise BankImportError(
                where, "enemies", f"no item with key {missing[0]!r} in the file or bank"
            )
    return pairs


def _apply_enemies(declared: set[frozenset[str]], items: list[dict]) -> tuple[int, int]:
    """Write the declared pairs. An item whose record lists `enemies` has exactly the
    enemies the file declares for it among the file's items: a stored pair of two file
    items that the file no longer declares is removed. Pairs with items outside the file,
    and those of items without an `enemies` field, are left as they are."""
    in_file = {item["key"] for item in items}
    listed = {item["key"] for item in items if item["enemies"] is not None}
    keys = {key for pair in declared for key in pair} | in_file
    ids = dict(Item.objects.filter(key__in=keys).values_list("key", "pk"))
    add = {frozenset(ids[k] for k in pair) for pair in declared}
    key_of = {pk: key for key, pk in ids.items()}
    remove = set()
    for pair in enemy_pairs():
        named = {key_of.get(pk) for pk in pair}
        if None in named or not named <= in_file or not named & listed:
            continue
        if frozenset(named) not in declared:
            remove.add(pair)
    return item_enemy_pairs_apply(add=add, remove=remove)


def _first_field(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return next(iter(exc.error_dict))
    return "(record)"


def _no_duplicates(keys: list[str], what: str) -> None:
    seen = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise BankImportError(f"{what} {index + 1} ({key})", "key", "appears twice in the file")
        seen.add(key)


def _import_item(data_item: dict, existing: dict, case_by_key: dict, ctx) -> ItemVersion:
    by, result = ctx.by, ctx.result
    content = {
        "domain": data_item["domain"],
        "case": case_by_key.get(data_item["case_key"]),
        "kind": data_item["kind"],
        "choose": data_item["choose"],
        "partial_credit": data_item["partial_credit"],
        "stem": data_item["stem"],
        "rationale": data_item["rationale"],
        "references": data_item["references"],
        "code_set_year": data_item["code_set_year"],
    }
    wanted = data_item["status"] if ctx.restore else _imported_status(data_item["status"])
    if wanted != data_item["status"]:
        result.held_for_review += 1
    item = existing.get(data_item["key"])
    if item is not None:
        ctx.check_owner(item.owner_program_id, data_item["record"])
    # The item's latest version and its options, prefetched with `existing`.
    current = item.latest_versions[0] if item is not None and item.latest_versions else None
    if current is None:
        # A new item, or an identity whose versions were all deleted: the file's content
        # is its version 1.
        result.items_created += 1
        return item_create(
            key=data_item["key"],
            item=item,
            options=data_item["options"],
            author=None if ctx.restore else by,
            status=wanted,
            owner_program_id=None if ctx.restore else ctx.program_id,
            reason=ctx.reason,
            **content,
        )
    same = all(getattr(current, k) == v for k, v in content.items()) and [
        OptionData(o.text, o.is_key) for o in current.options.all()
    ] == list(data_item["options"])
    if same and current.status == wanted:
        result.items_unchanged += 1
        return current
    version = current
    if not same:
        version = item_revise(
            version=current, by=None if ctx.restore else by, options=data_item["options"], **content
        )
        result.items_revised += 1
    if version.status == wanted:
        return version
    if ctx.restore:
        # The operator's restore brings back a state, not a review step: the status is set
        # directly (still one live version per item) and recorded as a restore.
        return item_version_status_set(version=version, to_status=wanted, by=by, note=ctx.reason)
    if version.status == ItemStatus.DRAFT and wanted == ItemStatus.IN_REVIEW:
        # The furthest an import goes: a draft is sent to review, where a second person
        # approves it.
        return item_version_status_set(
            version=version, to_status=wanted, by=by, note="Sent to review by an import."
        )
    # Anything further along keeps its status: an import never moves a reviewed version.
    return version


def parse_csv(text: str) -> dict:
    """Turn the CSV format for simple items into a bank document; errors name the line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        c
        for c in ("key", "domain", "stem", "keys", "code_set_year")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise BankImportError("CSV header", ", ".join(missing), "missing column")
    items = []
    for row in reader:
        record = f"line {reader.line_num}"
        letters = "abcdef"
        texts = [(row.get(f"option_{c}") or "").strip() for c in letters]
        keyed = {k.strip().lower() for k in (row.get("keys") or "").split(";") if k.strip()}
        bad = keyed - set(letters)
        if bad:
            raise BankImportError(
                record, "keys", f"unknown option letter(s) {', '.join(sorted(bad))}"
            )
        options = []
        for letter, option_text in zip(letters, texts, strict=True):
            if option_text:
                options.append({"text": option_text, "key": letter in keyed})
            elif letter in keyed:
                raise BankImportError(record, "keys", f"option {letter.upper()} is keyed but empty")
        try:
            domain = int(row.get("domain") or "")
            choose = int(row.get("choose") or 1)
        except ValueError:
            raise BankImportError(record, "domain/choose", "must be whole numbers") from None
        items.append(
            {
                "key": (row.get("key") or "").strip(),
                "domain": domain,
                "kind": (row.get("kind") or "single").strip(),
                "choose": choose,
                "stem": row.get("stem") or "",
                "options": options,
                "rationale": row.get("rationale") or "",
                "references": row.get("references") or "",
                "code_set_year": (row.get("code_set_year") or "").strip(),
                "status": (row.get("status") or "draft").strip(),
                "_line": reader.line_num,
            }
        )
    return {"format": FORMAT, "version": FORMAT_VERSION, "cases": [], "items": items}


def bank_import_file(*, name: str, content: bytes, by=None, program=None) -> ImportResult:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BankImportError("file", "(encoding)", "must be UTF-8 text") from None
    if name.lower().endswith(".csv"):
        data = parse_csv(text)
        try:
            return bank_import(data, by=by, program=program)
        except BankImportError as exc:
            # Name the CSV line rather than the item's position.
            index = _position(exc.record)
            if index is not None and index < len(data["items"]):
                line = data["items"][index]["_line"]
                raise BankImportError(f"line {line}", exc.field, exc.message) from exc
            raise
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BankImportError(f"JSON line {exc.lineno}", "(syntax)", exc.msg) from None
    except RecursionError:
        too_deep = True
    else:
        too_deep = _nesting(data) > JSON_MAX_NESTING
    if too_deep:
        raise BankImportError(
            "JSON", "(structure)", f"is nested more than {JSON_MAX_NESTING} levels deep"
        )
    return bank_import(data, by=by, program=program)


# The bank format needs about six levels (docs/bank-format.md); anything far deeper is not
# a bank, and would exhaust Python's recursion limit in json or while being stored.
JSON_MAX_NESTING = 32


def _nesting(data) -> int:
    """How deeply lists and objects nest in `data`, counted without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > JSON_MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _position(record: str) -> int | None:
    if record.startswith("item "):
        try:
            return int(record.split()[1]) - 1
        except ValueError:
            return None
    return None


def bank_export(*, include_retired: bool = False, user=None) -> dict:
    """The bank as a document that bank_import reproduces: each item's latest version.

    For a staff member (`user`), what they may see: shared content and their programs'
    own, with the Angoff ratings of their programs' items only (shared items' panel
    ratings are the operator's). Without a user (the operator's command), everything.
    """
    scoped = user is not None and not is_operator(user)
    case_rows = Case.objects.visible_to(user) if scoped else Case.objects.all()
    cases = [
        {
            "key": c.key,
            "title": c.title,
            "setting": c.setting,
            "code_set_year": c.code_set_year,
            "sections": c.sections,
            "coding": c.coding,
        }
        for c in case_rows.order_by("key")
    ]
    versions = (
        (ItemVersion.objects.visible_to(user) if scoped else ItemVersion.objects.all())
        .latest()
        .select_related("item", "domain", "case")
        .prefetch_related("options", "angoff_ratings__judge")
        .order_by("item__key")
    )
    if not include_retired:
        versions = versions.exclude(status=ItemStatus.RETIRED)
    versions = list(versions)
    # Enemies among the exported items, so that the document imports on its own.
    exported = {v.item_id: v.item.key for v in versions}
    enemies: dict[int, list[str]] = {item_id: [] for item_id in exported}
    for pair in enemy_pairs():
        a, b = sorted(pair)
        if a in exported and b in exported:
            enemies[a].append(exported[b])
            enemies[b].append(exported[a])
    items = []
    for v in versions:
        items.append(
            {
                "key": v.item.key,
                "domain": v.domain.number,
                "case": v.case.key if v.case else None,
                "kind": v.kind,
                "choose": v.choose,
                "stem": v.stem,
                "options": [{"text": o.text, "key": o.is_key} for o in v.options.all()],
                "rationale": v.rationale,
                "references": v.references,
                "code_set_year": v.code_set_year,
                "status": v.status,
                "partial_credit": v.partial_credit,
                "enemies": sorted(enemies[v.item_id]),
                "angoff": [
                    {"judge": r.judge.username, "rating": float(r.rating)}
                    for r in sorted(v.angoff_ratings.all(), key=lambda r: r.judge.username)
                ]
                if not scoped or v.item.owner_program_id is not None
                else [],
            }
        )
    return {"format": FORMAT, "version": FORMAT_VERSION, "cases": cases, "items": items}


__all__ = [
    "BankImportError",
    "ImportResult",
    "bank_export",
    "bank_import",
    "bank_import_file",
    "bank_restore",
    "parse_csv",
]
