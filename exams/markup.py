"""The item page's answer options as HTML, built in Python.

Rendered through the template engine, the option rows were about half of the question
panel's cost (a dozen tags and lookups per option, on every move). They are fixed markup
around integers, letters and the option text, which is escaped here; the page's
`<template id="tpl-option">` (exam.js's copy for offline moves) must stay the same markup.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_KEY_BADGE = (
    ' <span class="key-badge">Key<span class="visually-hidden">: the correct answer</span></span>'
)


def option_rows_html(item, feedback=None) -> SafeString:
    """The `<li>` of each option of `item` (an exams.selectors.ItemView), in its order;
    in practice, after a check, the keyed options marked and every input disabled."""
    kind = "radio" if item.kind == "single" else "checkbox"
    keys = set(feedback.key_letters) if feedback else set()
    disabled = " disabled" if feedback else ""
    rows = []
    for option in item.options:
        keyed = option.letter in keys
        rows.append(
            f'<li class="option-row{" keyed" if keyed else ""}" data-option="{option.index}">'
            f'<label class="option"><input type="{kind}" name="choice" value="{option.index}"'
            f"{' checked' if option.selected else ''}{disabled}>\n"
            f'                  <span class="letter">{option.letter}.</span> '
            f'<span class="text">{escape(option.text)}</span>'
            '<span class="struck-note visually-hidden"> (struck out)</span>'
            f"{_KEY_BADGE if keyed else ''}</label>\n"
            '                  <button type="button" class="strike js-only" aria-pressed="false">'
            f'Strike out<span class="visually-hidden"> option {option.letter}</span></button></li>'
        )
    return mark_safe("\n                ".join(rows))
