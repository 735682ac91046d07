"""Figures about the bank's content that the item-writing rules (and `manage.py lint_bank`)
hold it to: cues a test-wise candidate could use, how hard and how applied the items are,
the breadth of the keys, and licensed text that must not be quoted.

Every figure reads the live bank: the latest version of each item that is operational or
pretest (a pretest item becomes operational when promoted, so it is held to the same
rules).

Heuristics, documented because a figure is only as good as its definition:

- *Longest key*: a single-answer item whose key is at least as long (in characters) as
  every distractor; ties count, so the figure never flatters the bank.
- *Application item*: an item on a scenario case, or one whose stem presents a situation to
  apply a rule to: a patient's age ("71-year-old"), quoted documentation (10 or more
  characters in quotation marks), or at least one statement of eight or more words before
  the question (a scenario: "The surgeon removes ... Which code is assigned?"). A stem that
  is only a question ("Which statement describes an MUE?") is recall.
- *Outpatient*: an outpatient case and its items, and standalone items whose stem sets them
  in the hospital's outpatient, emergency, observation or ambulatory-surgery service.
- *PCS root operations*: the third character of each ICD-10-PCS code of the Medical and
  Surgical section (first character 0) that a keyed option asserts (it starts with the code
  or lists only codes) or that a case's coding lists as a procedure.
- *Quoted CPT descriptor*: a text segment (an option, or one sentence of a stem, rationale
  or case section) that holds a CPT code and at least two signs of the descriptors' house
  style: a semicolon between a word and the lower-case variable part ("; with ...",
  "; 2.6 cm ..."), the code followed at once by a capitalised title ("45378 Colonoscopy"
  rather than our "45378, a diagnostic colonoscopy"), plural
  markers in parentheses ("lesion(s)"), "eg," in parentheses, a qualifier after a comma
  (", with internal fixation"), an inverted heading
  ("Repair, intermediate", "Colonoscopy, flexible"), or stock phrases ("excised diameter",
  "including margins", "and/or", "when performed", "single or multiple", "each additional",
  "list separately"). Our own wording describes a service in a sentence and trips at most
  one sign; a descriptor copied word for word trips two or more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Prefetch

from codebook.codes import CPT, PCS, coded_value, find_codes, text_is_only_codes
from questionbank.models import Case, ItemKind, ItemStatus, ItemVersion, Option, Setting

LIVE = (ItemStatus.OPERATIONAL, ItemStatus.PRETEST)

# The 31 root operations of the ICD-10-PCS Medical and Surgical section, by third character.
ROOT_OPERATIONS = {
    "0": "Alteration",
    "1": "Bypass",
    "2": "Change",
    "3": "Control",
    "4": "Creation",
    "5": "Destruction",
    "6": "Detachment",
    "7": "Dilation",
    "8": "Division",
    "9": "Drainage",
    "B": "Excision",
    "C": "Extirpation",
    "D": "Extraction",
    "F": "Fragmentation",
    "G": "Fusion",
    "H": "Insertion",
    "J": "Inspection",
    "K": "Map",
    "L": "Occlusion",
    "M": "Reattachment",
    "N": "Release",
    "P": "Removal",
    "Q": "Repair",
    "R": "Replacement",
    "S": "Reposition",
    "T": "Resection",
    "U": "Supplement",
    "V": "Restriction",
    "W": "Revision",
    "X": "Transfer",
    "Y": "Transplantation",
}

_AGE = re.compile(r"\b\d{1,3}-(?:year|month|week|day)-old\b", re.I)
_QUOTED = re.compile(r"""[“"‘']\w[^“”"]{10,}?[”"’'](?!\w)""")
_COUNT_INSTRUCTION = re.compile(
    r"\((?:choose|select)[^)]*\)|\b(?:choose|select) (?:\d+|two|three|four|all that apply)\.?",
    re.I,
)
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|vs|Dr|No)\.")
_DECIMAL = re.compile(r"(\d)\.(\d)")
_SENTENCE = re.compile(r"[^.?!]+[.?!]+(?:\s|$)")
_OUTPATIENT = re.compile(
    r"\b(?:outpatient|emergency department|ED|observation|ambulatory surgery|same-day surgery"
    r"|OPPS|APC|infusion (?:unit|center))\b"
)

_DESCRIPTOR_SIGNS = (
    re.compile(r"[A-Za-z)]\s*;\s*(?:[a-z]|\d+(?:\.\d+)?\s*(?:cm|sq))"),
    re.compile(r"^[0-9]{4}[0-9FTU]\s+[A-Z][a-z]"),
    re.compile(r"\b[a-z]+\(s\)", re.I),
    re.compile(r"\(eg,"),
    re.compile(r", (?:with|without|includes) [a-z]"),
    re.compile(
        r"(?:^|\d\s)[A-Z][a-z]+, (?:[a-z]+,? )?(?:flexible|surgical|intermediate|complex|simple"
        r"|layered|malignant|benign|diagnostic|rigid)\b"
    ),
    re.compile(
        r"\b(?:list separately in addition|excised diameter|including margins|and/or"
        r"|when performed|single or multiple|each additional)\b",
        re.I,
    ),
)


def is_application(stem: str, *, has_case: bool) -> bool:
    """See the module's docstring."""
    if has_case or _AGE.search(stem) or _QUOTED.search(stem):
        return True
    text = _COUNT_INSTRUCTION.sub("", stem)
    text = _DECIMAL.sub(r"\1,\2", _ABBREVIATION.sub(lambda m: m.group(0)[:-1], text))
    return any(
        not sentence.strip().endswith("?") and len(sentence.split()) >= 8
        for sentence in _SENTENCE.findall(text + " ")
    )


def key_is_longest(options: Iterable[tuple[str, bool]]) -> bool:
    options = list(options)
    keys = [len(text) for text, is_key in options if is_key]
    others = [len(text) for text, is_key in options if not is_key]
    return bool(keys and others) and keys[0] >= max(others)


def descriptor_signs(text: str) -> int:
    return sum(1 for sign in _DESCRIPTOR_SIGNS if sign.search(text))


def looks_like_cpt_descriptor(text: str) -> bool:
    """See the module's docstring."""
    has_cpt = any(found.system == CPT for found in find_codes(text, procedures_field=True))
    return has_cpt and descriptor_signs(text) >= 2


def _segments(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text or "") if s.strip()]


@dataclass
class Figure:
    name: str
    value: str
    passed: bool
    rule: str
    details: list[str] = field(default_factory=list)


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.1f}%)" if whole else f"{part} of 0"


def live_versions():
    return (
        ItemVersion.objects.latest()
        .filter(status__in=LIVE)
        .select_related("item", "case")
        .prefetch_related(Prefetch("options", queryset=Option.objects.order_by("position")))
        .annotate(mean_angoff=Avg("angoff_ratings__rating"))
        .order_by("item__key")
    )


def bank_figures() -> list[Figure]:
    versions = list(live_versions())
    figures = []

    single = [v for v in versions if v.kind == ItemKind.SINGLE]
    longest = [v for v in single if key_is_longest((o.text, o.is_key) for o in v.options.all())]
    figures.append(
        Figure(
            "single-answer items whose key is the longest option (ties count)",
            _share(len(longest), len(single)),
            len(longest) <= 0.30 * len(single),
            "at most 30%",
            [v.item.key for v in longest],
        )
    )

    rated = [v for v in versions if v.mean_angoff is not None]
    easy = [v for v in rated if v.mean_angoff >= Decimal("0.80")]
    figures.append(
        Figure(
            "operational and pretest items with a mean Angoff rating of 0.80 or more",
            _share(len(easy), len(versions))
            + f" [operational only: {sum(v.status == ItemStatus.OPERATIONAL for v in easy)}]",
            len(easy) < 0.10 * len(versions),
            "fewer than 10%",
            [f"{v.item.key} {v.mean_angoff:.2f}" for v in easy],
        )
    )

    applied = [v for v in versions if is_application(v.stem, has_case=v.case_id is not None)]
    figures.append(
        Figure(
            "application items (a case, or a scenario or document in the stem)",
            _share(len(applied), len(versions)),
            len(applied) >= 0.70 * len(versions),
            "at least 70%",
            [v.item.key for v in versions if v not in applied],
        )
    )

    outpatient_cases = Case.objects.filter(
        setting=Setting.OUTPATIENT, item_versions__in=[v.pk for v in versions]
    ).distinct()
    on_cases = [v for v in versions if v.case and v.case.setting == Setting.OUTPATIENT]
    standalone = [v for v in versions if v.case_id is None and _OUTPATIENT.search(v.stem)]
    outpatient_items = len(on_cases) + len(standalone)
    figures.append(
        Figure(
            "outpatient (facility) cases and items",
            f"{outpatient_cases.count()} cases; {len(on_cases)} case items and "
            f"{len(standalone)} standalone items, " + _share(outpatient_items, len(versions)),
            outpatient_cases.count() >= 10 and outpatient_items >= 0.20 * len(versions),
            "at least 10 cases and 20% of the items",
        )
    )

    covered = _root_operations(versions)
    missing = [f"{c} {name}" for c, name in ROOT_OPERATIONS.items() if c not in covered]
    figures.append(
        Figure(
            "ICD-10-PCS Medical and Surgical root operations keyed",
            f"{len(covered)} of {len(ROOT_OPERATIONS)}",
            not missing,
            "all 31",
            [f"missing: {m}" for m in missing],
        )
    )

    quoted = list(_quoted_descriptors(versions))
    figures.append(
        Figure(
            "texts that look like quoted CPT descriptors",
            str(len(quoted)),
            not quoted,
            "none",
            quoted,
        )
    )

    catch_all = [
        f"{v.item.key} {o.letter}"
        for v in versions
        for o in v.options.all()
        if re.search(r"\b(?:all|none) of the above\b", o.text, re.I)
    ]
    figures.append(
        Figure(
            "'all of the above' or 'none of the above' options",
            str(len(catch_all)),
            not catch_all,
            "none",
            catch_all,
        )
    )

    pretest = sum(1 for v in versions if v.status == ItemStatus.PRETEST)
    figures.append(Figure("pretest items", str(pretest), pretest >= 60, "at least 60"))
    return figures


def _root_operations(versions) -> set[str]:
    codes: set[str] = set()
    for version in versions:
        for option in version.options.all():
            if not option.is_key:
                continue
            found = [f for f in find_codes(option.text, procedures_field=True)]
            only = text_is_only_codes(option.text, found) if found else False
            for f in found:
                if f.system == PCS and (only or option.text.lstrip().startswith(f.text)):
                    codes.add(f.code)
    cases = {v.case_id: v.case for v in versions if v.case_id}
    for case in cases.values():
        for value in (case.coding or {}).get("procedures") or []:
            code = coded_value(str(value), system=PCS)
            if code:
                codes.add(code)
    return {code[2] for code in codes if code.startswith("0") and code[2] in ROOT_OPERATIONS}


def _quoted_descriptors(versions) -> Iterable[str]:
    cases = {}
    for version in versions:
        key = version.item.key
        for option in version.options.all():
            if looks_like_cpt_descriptor(option.text):
                yield f"{key} option {option.letter}: {option.text[:90]}"
        for name in ("stem", "rationale"):
            for segment in _segments(getattr(version, name)):
                if looks_like_cpt_descriptor(segment):
                    yield f"{key} {name}: {segment[:90]}"
        if version.case_id:
            cases[version.case_id] = version.case
    for case in sorted(cases.values(), key=lambda c: c.key):
        for section in case.sections or []:
            for segment in _segments(str(section.get("body", ""))):
                if looks_like_cpt_descriptor(segment):
                    yield f"case {case.key} ({section.get('heading', '')}): {segment[:90]}"
