from django import template

register = template.Library()

NOTE_LABELS = (
    ("includes", "Includes"),
    ("inclusion_terms", "Inclusion terms"),
    ("excludes1", "Excludes1"),
    ("excludes2", "Excludes2"),
    ("code_first", "Code first"),
    ("use_additional_code", "Use additional code"),
    ("code_also", "Code also"),
    ("notes", "Note"),
    ("definition", "Definition"),
    ("explanation", "Explanation"),
    ("examples", "Examples"),
)


@register.filter
def note_sections(notes) -> list[tuple[str, list[str]]]:
    """A code's notes as (label, lines) in code-book order; the 7th-character parts apart."""
    if not isinstance(notes, dict):
        return []
    sections = []
    for key, label in NOTE_LABELS:
        lines = notes.get(key)
        if isinstance(lines, str):
            lines = [lines]
        if lines:
            sections.append((label, lines))
    return sections


@register.filter
def seventh_characters(notes) -> list[tuple[str, str]]:
    definition = notes.get("seven_chr_def") if isinstance(notes, dict) else None
    return sorted(definition.items()) if isinstance(definition, dict) else []
