"""Reads of the code book: search, a code's page, the loaded years."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, F, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Length

from codebook.codes import normalize
from codebook.models import HEADING_KINDS, Code, CodeSet, CodeSystem

WORD_RE = re.compile(r"[a-z0-9]+")
CODE_QUERY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]{0,7}$")
# Words too common in code titles to narrow a search.
# What a result list shows; the tsvector and notes are large and not needed there.
RESULT_FIELDS = ("code_set_id", "code", "display", "description", "kind", "billable", "parent")
STOP_WORDS = frozenset({"of", "the", "and", "or", "in", "with", "without", "to", "for", "a", "by"})


def codesets_of(*, system: str) -> list[CodeSet]:
    """Every loaded code set of a system, newest first."""
    return list(CodeSet.objects.of(system).order_by("-year"))


def codeset_in(sets: list[CodeSet], year: int | None) -> CodeSet | None:
    """`codeset_for` on the list `codesets_of` returned, without a query."""
    if year is None:
        return sets[0] if sets else None
    return next((s for s in sets if s.year == year), None)


def codeset_for(*, system: str, year: int | None) -> CodeSet | None:
    """The code set of `year`, or the newest one of the system when `year` is None."""
    sets = CodeSet.objects.of(system)
    if year is not None:
        return sets.filter(year=year).first()
    return sets.order_by("-year").first()


def _looks_like_code(query: str) -> bool:
    return bool(CODE_QUERY_RE.match(query)) and any(ch.isdigit() for ch in query)


def code_search(
    *,
    query: str,
    system: str = CodeSystem.ICD10CM,
    year: int | None = 2026,
    limit: int = 25,
    code_set: CodeSet | None = None,
) -> list[Code]:
    """Codes matching `query`, best first: the exact code, then codes starting with it,
    then codes whose words match, the usual code first (see `_word_search`). `code_set`,
    when given, is searched instead of the (system, year) one."""
    query = " ".join((query or "").split())[:200]
    if code_set is None:
        code_set = codeset_for(system=system, year=year)
    if not query or code_set is None or limit <= 0:
        return []
    # A query shaped like a code is answered by the code index alone when it finds
    # something; words are searched otherwise (a code-shaped word such as "B12" may be one).
    if _looks_like_code(query):
        results = _code_prefix_search(code_set, normalize(query), limit)
        if results:
            return results
    tokens = WORD_RE.findall(query.lower())
    words = [w for w in tokens if w not in STOP_WORDS]
    return _word_search(code_set, words, limit, " ".join(tokens)) if words else []


def _code_prefix_search(code_set: CodeSet, prefix: str, limit: int) -> list[Code]:
    # A range on the (code_set, code) unique index instead of LIKE: SQLite's LIKE is case
    # insensitive and cannot use the index.
    codes = (
        Code.objects.filter(code_set=code_set, code__gte=prefix, code__lt=prefix + "~")
        .exclude(kind__in=HEADING_KINDS)
        .only(*RESULT_FIELDS)
        .annotate(exact=Case(When(code=prefix, then=Value(0)), default=Value(1)))
        .order_by("exact", "code")
    )
    return list(codes[:limit])


def _word_search(code_set: CodeSet, words: list[str], limit: int, phrase: str) -> list[Code]:
    """Codes whose title or index terms hold every word, the usual code first.

    The order, on every backend: billable codes; then the usual code for the words (its
    title is the words alone or the words ", unspecified", or an inclusion term reads
    "<words> NOS": the classification's default); then codes whose title holds every word
    whole, then title or inclusion terms, then partial matches ("pneumonia" is partial in
    "pneumoniae"); then shorter titles, then the text-search rank.
    """
    base = (
        Code.objects.filter(code_set=code_set).exclude(kind__in=HEADING_KINDS).only(*RESULT_FIELDS)
    )
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        # Every word must match; the last one as a prefix, so that typing "pneum" already
        # finds pneumonia (a prefix on every word makes the GIN scan several times slower).
        raw = " & ".join([*words[:-1], f"{words[-1]}:*"])
        search = SearchQuery(raw, search_type="raw", config="english")
        return list(
            base.filter(search_vector=search)
            .annotate(rank=SearchRank(F("search_vector"), search), **_ranking(words, phrase))
            .order_by(*RANKING_ORDER, "-rank", "code")[:limit]
        )
    if connection.vendor == "sqlite" and _fts_available():
        return _fts_search(code_set, words, limit, phrase)
    # Elsewhere: every word is a substring of the title or index terms.
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return list(
        base.filter(condition)
        .annotate(**_ranking(words, phrase))
        .order_by(*RANKING_ORDER, "code")[:limit]
    )


RANKING_ORDER = ("-billable", "usual", "whole", Length("description"))


def _patterns(words: list[str], phrase: str, boundary: str) -> dict:
    """Case-insensitive regular expressions of the ranking, for PostgreSQL (word boundary
    `\\y`) or Python's re on SQLite (`\\b`). Words are [a-z0-9]+: nothing to escape."""
    b = boundary
    spaced = r"\W+".join(phrase.split())
    return {
        # A word counts whole with a plural ending too ("fractures" for "fracture").
        "words": [f"{b}{word}(s|es)?{b}" for word in words],
        "usual_title": rf"^{spaced}(\W*$|\W+unspecified{b})",
        # An inclusion term that is the words alone, with "NOS" or with nonessential
        # modifiers in parentheses, read in the JSON list of terms (quotes delimit a term).
        "usual_term": rf'"{spaced}(,?\s*nos|\s*\([^)"]*\))*"',
        "starts": f"^{spaced}{b}",
    }


def _ranking(words: list[str], phrase: str) -> dict:
    """The ranking's annotations (ORM): `usual` 0-2 and `whole` 0-2, lower first."""
    pats = _patterns(words, phrase, r"\y" if connection.vendor == "postgresql" else r"\b")
    in_title = Q()
    in_title_or_terms = Q()
    for pattern in pats["words"]:
        in_title &= Q(description__iregex=pattern)
        in_title_or_terms &= Q(description__iregex=pattern) | Q(terms__iregex=pattern)
    usual = Q(description__iregex=pats["usual_title"]) | Q(
        inclusion_terms__iregex=pats["usual_term"]
    )
    return {
        "inclusion_terms": KeyTextTransform("inclusion_terms", "notes"),
        "usual": Case(
            When(usual, then=Value(0)),
            When(description__iregex=pats["starts"], then=Value(1)),
            default=Value(2),
        ),
        "whole": Case(
            When(in_title, then=Value(0)),
            When(in_title_or_terms, then=Value(1)),
            default=Value(2),
        ),
    }


_FTS: dict[str, bool] = {}


def _fts_available() -> bool:
    alias = connection.settings_dict["NAME"]
    if alias not in _FTS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'codebook_code_fts'"
            )
            _FTS[alias] = cursor.fetchone() is not None
    return _FTS[alias]


def _fts_search(code_set: CodeSet, words: list[str], limit: int, phrase: str) -> list[Code]:
    """SQLite FTS5 (porter stemmer) finds the codes; the ranking of `_word_search` orders
    them (Django's REGEXP function: Python's re), then bm25."""
    from codebook.services import FTS_TABLE, fts_set_token

    pats = _patterns(words, phrase, r"\b")

    def regexp(column: str, pattern: str) -> tuple[str, list[str]]:
        return f"c.{column} REGEXP %s", [f"(?i){pattern}"]

    title_sql, title_params = zip(*(regexp("description", p) for p in pats["words"]), strict=True)
    either = [
        (f"({t} OR {regexp('terms', p)[0]})", [*tp, *regexp("terms", p)[1]])
        for t, tp, p in zip(title_sql, title_params, pats["words"], strict=True)
    ]
    usual_title, usual_title_p = regexp("description", pats["usual_title"])
    usual_term, usual_term_p = regexp("inclusion_terms", pats["usual_term"])
    starts, starts_p = regexp("description", pats["starts"])
    order = (
        f"c.billable DESC, "
        f"CASE WHEN {usual_title} OR {usual_term} THEN 0 WHEN {starts} THEN 1 ELSE 2 END, "
        f"CASE WHEN {' AND '.join(title_sql)} THEN 0 "
        f"WHEN {' AND '.join(sql for sql, _ in either)} THEN 1 ELSE 2 END, "
        f"length(c.description), bm25({FTS_TABLE}), c.code"
    )
    order_params = [
        *usual_title_p,
        *usual_term_p,
        *starts_p,
        *(p for params in title_params for p in params),
        *(p for _, params in either for p in params),
    ]
    match = " AND ".join([fts_set_token(code_set.pk)] + [f'"{word}"*' for word in words])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.rowid FROM (SELECT *, json_extract(notes, '$.inclusion_terms') "
            f"AS inclusion_terms FROM codebook_code) c JOIN {FTS_TABLE} f ON c.id = f.rowid "
            f"WHERE {FTS_TABLE} MATCH %s ORDER BY {order} LIMIT %s",
            [match, *order_params, limit],
        )
        ids = [row[0] for row in cursor.fetchall()]
    found = Code.objects.only(*RESULT_FIELDS).in_bulk(ids)
    return [found[i] for i in ids if i in found]


@dataclass
class CodePage:
    code: Code
    code_set: CodeSet
    ancestors: list[Code] = field(default_factory=list)  # root first
    children: list[Code] = field(default_factory=list)
    # Notes that apply from higher levels (tabular conventions: a note at a category
    # applies to all its codes), nearest first: [(ancestor, notes)].
    inherited_notes: list[tuple[Code, dict]] = field(default_factory=list)


def code_page(
    *,
    code: str,
    system: str = CodeSystem.ICD10CM,
    year: int | None = None,
    code_set: CodeSet | None = None,
) -> CodePage | None:
    """A code with its hierarchy; `code_set`, when given, is read instead of the
    (system, year) one."""
    if code_set is None:
        code_set = codeset_for(system=system, year=year)
    if code_set is None:
        return None
    key = code.strip().upper()
    if not key.startswith("CH") and "-" not in key:
        key = normalize(key)
    found = Code.objects.filter(code_set=code_set, code=key).first()
    if found is None:
        return None
    ancestors = _ancestors(code_set, found)
    children = list(
        Code.objects.filter(code_set=code_set, parent=found.code).order_by("position")[:500]
    )
    inherited = [(a, a.notes) for a in reversed(ancestors) if a.notes]
    return CodePage(
        code=found,
        code_set=code_set,
        ancestors=ancestors,
        children=children,
        inherited_notes=inherited,
    )


def _ancestors(code_set: CodeSet, found: Code, depth: int = 12) -> list[Code]:
    """The codes above `found`, root first. A parent is a prefix of its child's code, or
    the child's block or chapter, so all of them are read in one query; a parent of another
    shape is read on its own."""
    candidates = {found.code[:n] for n in range(1, len(found.code))}
    candidates |= {found.parent, found.chapter, found.block}
    candidates.discard("")
    nodes = {c.code: c for c in Code.objects.filter(code_set=code_set, code__in=candidates)}
    ancestors: list[Code] = []
    parent = found.parent
    while parent and len(ancestors) < depth:
        node = nodes.get(parent)
        if node is None and parent not in candidates:
            node = Code.objects.filter(code_set=code_set, code=parent).first()
        if node is None:
            break
        ancestors.append(node)
        parent = node.parent
    ancestors.reverse()
    return ancestors


def codes_existing(*, system: str, year: int, codes: set[str]) -> dict[str, Code]:
    """{code: Code} for those of `codes` that the (system, year) code set has."""
    code_set = codeset_for(system=system, year=year)
    if code_set is None or not codes:
        return {}
    found: dict[str, Code] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 500):
        for row in Code.objects.filter(
            code_set=code_set, code__in=ordered[start : start + 500]
        ).only("code", "billable", "kind", "description", "display"):
            found[row.code] = row
    return found
