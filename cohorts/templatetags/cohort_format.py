"""Number formats of the dashboards: a missing figure shows as a dash, never as 0."""

from django import template

register = template.Library()

DASH = "—"


@register.filter
def percent(value, digits: int = 0):
    """A share 0..1 as a percentage."""
    if value is None or value == "":
        return DASH
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def pct(value):
    """A value already in percent."""
    if value is None or value == "":
        return DASH
    return f"{float(value):.0f}%"


@register.filter
def score(value):
    if value is None or value == "":
        return DASH
    return f"{float(value):.0f}"


@register.filter
def signed(value):
    if value is None or value == "":
        return DASH
    value = float(value)
    if value == 0:
        return "±0"
    return f"{value:+.0f}"
