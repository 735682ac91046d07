"""Server-rendered SVG charts for the score report: no JavaScript, printable, accessible.

Each chart is an inline ``<svg role="img">`` whose ``<title>`` and ``<desc>`` say in words
what it shows (screen readers read them; the report also prints the same figures in a
table beside it). Colours come from classes styled in static/css/report.css, so the
charts follow the page's palette and print in colour without background printing.

Pure Python: the functions take plain values and return markup as a string, with every
piece of text escaped; the view marks it safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

LOW, PASSING, HIGH = 100, 300, 400


def _fmt(x: float) -> str:
    """Coordinates with two decimals, trailing zeros dropped: compact, stable markup."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _pct(x: float) -> str:
    return f"{x:.1f}%"


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the form's name
    when: str  # the date, already formatted for display
    scaled: int
    passed: bool


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    chart_id: str = "trend",
    width: int = 640,
    height: int = 260,
    low: int = LOW,
    passing: int = PASSING,
    high: int = HIGH,
) -> str:
    """Scaled scores of successive exam attempts, oldest first, against the passing line."""
    n = len(points)
    left, right, top, bottom = 48, 16, 14, 36
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    def x(i: int) -> float:
        return left + (i + 0.5) * plot_w / max(n, 1)

    title = (
        f"Scaled scores of your {n} exam attempt{'' if n == 1 else 's'}"
        if n
        else "No exam attempts yet"
    )
    described = "; ".join(
        f"attempt {i} on {p.when} ({p.label}): {p.scaled}, {'passed' if p.passed else 'not passed'}"
        for i, p in enumerate(points, start=1)
    )
    desc = (
        f"From first to latest: {described}. The scale runs from {low} to {high}; {passing} passes."
        if n
        else f"The scale runs from {low} to {high}; {passing} passes."
    )
    parts = [
        f'<svg class="chart trend-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" aria-describedby="{escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
        '<g class="axis" aria-hidden="true">',
    ]
    for value in range(low, high + 1, 100):
        cls = "gridline passing-line" if value == passing else "gridline"
        parts.append(
            f'<line class="{cls}" x1="{left}" x2="{width - right}" '
            f'y1="{_fmt(y(value))}" y2="{_fmt(y(value))}"/>'
        )
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{_fmt(y(value) + 4)}" '
            f'text-anchor="end">{value}</text>'
        )
    parts.append(
        f'<text class="passing-label" x="{width - right - 4}" y="{_fmt(y(passing) - 5)}" '
        f'text-anchor="end">{passing} passes</text>'
    )
    # Dates overlap beyond a handful of attempts; numbers always fit and the table has dates.
    for i, p in enumerate(points):
        label = p.when if n <= 6 else str(i + 1)
        parts.append(
            f'<text class="tick" x="{_fmt(x(i))}" y="{height - bottom + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</g>")
    if n > 1:
        coords = " ".join(f"{_fmt(x(i))},{_fmt(y(p.scaled))}" for i, p in enumerate(points))
        parts.append(f'<polyline class="trend-line" points="{coords}" aria-hidden="true"/>')
    for i, p in enumerate(points):
        cls = "point pass" if p.passed else "point fail"
        parts.append(
            f'<circle class="{cls}" cx="{_fmt(x(i))}" cy="{_fmt(y(p.scaled))}" r="5">'
            f"<title>{escape(p.when)}, {escape(p.label)}: {p.scaled}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class DomainBar:
    number: int
    name: str
    percent: float
    expected: float | None  # percent expected of a minimally competent candidate
    band: str | None  # "below", "near", "above"


BAND_WORDS = {
    "below": "below the standard",
    "near": "near the standard",
    "above": "above the standard",
}


def domain_chart(
    bars: Sequence[DomainBar],
    *,
    margin: float,
    chart_id: str = "domains",
    width: int = 640,
) -> str:
    """One bar per domain: percent correct, with the standard's zone (expected ± margin)."""
    label_w, value_w, row_h, top, bottom = 230, 150, 34, 8, 26
    bar_x0, bar_x1 = label_w, width - value_w
    height = top + row_h * len(bars) + bottom

    def bx(percent: float) -> float:
        return bar_x0 + max(0.0, min(100.0, percent)) / 100.0 * (bar_x1 - bar_x0)

    sentences = []
    for bar in bars:
        text = f"Domain {bar.number}, {bar.name}: {_pct(bar.percent)} correct"
        if bar.expected is not None:
            text += (
                f"; a minimally competent candidate is expected to get {_pct(bar.expected)}, "
                f"so this is {BAND_WORDS.get(bar.band or '', bar.band)}"
            )
        sentences.append(text)
    desc = ". ".join(sentences) + (
        f". Near the standard means within {margin:g} percentage points of the expected percent."
        if bars
        else ""
    )
    parts = [
        f'<svg class="chart domain-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" aria-describedby="{escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">Percent correct per domain</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y0 = top + i * row_h
        mid = y0 + row_h / 2
        band_cls = f" band-{bar.band}" if bar.band else ""
        parts.append(f'<g class="domain-row{band_cls}">')
        parts.append(
            f'<text class="domain-label" x="0" y="{_fmt(mid + 4)}">'
            f"{bar.number}. {escape(bar.name)}</text>"
        )
        parts.append(
            f'<rect class="track" x="{bar_x0}" y="{_fmt(y0 + 8)}" '
            f'width="{bar_x1 - bar_x0}" height="{row_h - 16}"/>'
        )
        if bar.expected is not None:
            z0, z1 = bx(bar.expected - margin), bx(bar.expected + margin)
            parts.append(
                f'<rect class="standard-zone" x="{_fmt(z0)}" y="{_fmt(y0 + 4)}" '
                f'width="{_fmt(z1 - z0)}" height="{row_h - 8}"/>'
            )
        parts.append(
            f'<rect class="bar" x="{bar_x0}" y="{_fmt(y0 + 10)}" '
            f'width="{_fmt(bx(bar.percent) - bar_x0)}" height="{row_h - 20}"/>'
        )
        if bar.expected is not None:
            ex = _fmt(bx(bar.expected))
            parts.append(
                f'<line class="expected" x1="{ex}" x2="{ex}" y1="{_fmt(y0 + 3)}" '
                f'y2="{_fmt(y0 + row_h - 3)}"/>'
            )
        value = _pct(bar.percent) + (f" · {bar.band}" if bar.band else "")
        parts.append(
            f'<text class="domain-value" x="{bar_x1 + 8}" y="{_fmt(mid + 4)}">'
            f"{escape(value)}</text>"
        )
        parts.append("</g>")
    axis_y = top + row_h * len(bars) + 16
    parts.append('<g class="axis" aria-hidden="true">')
    for value in (0, 50, 100):
        parts.append(
            f'<text class="tick" x="{_fmt(bx(value))}" y="{axis_y}" '
            f'text-anchor="middle">{value}%</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
