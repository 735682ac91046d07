"""Every server-rendered SVG chart of the product: the score report's, the dashboards' and
item analysis's raw-score histogram. No JavaScript, printable, accessible.

Each chart is an inline ``<svg role="img">`` whose ``<title>`` and ``<desc>`` say in words
what it shows (screen readers read them; the report also prints the same figures in a
table beside it). Colours come from classes styled in static/css/report.css, so the
charts follow the page's palette and print in colour without background printing.

Pure Python: the functions take plain values and return markup as a string, with every
piece of text escaped; the view marks it safe.
"""

from __future__ import annotations

import math
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


def _format(template: str, *args) -> str:
    """str.format with every argument escaped (what Django's format_html does)."""
    return template.format(*(escape(str(a)) for a in args))


# --- The dashboards (cohort page, candidate drill-down) -----------------------------------
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 44
SERIES_COLOURS = ["#1f5fbf", "#b3261e", "#1c7c3c", "#a15c00", "#6b3fa0", "#00838f"]


def _frame(chart_id: str, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _plot_w() -> float:
    return WIDTH - LEFT - RIGHT


def _plot_h() -> float:
    return HEIGHT - TOP - BOTTOM


def _y_axis(max_value: float, ticks: int, fmt) -> list[str]:
    parts = []
    for i in range(ticks + 1):
        value = max_value * i / ticks
        y = TOP + _plot_h() - _plot_h() * i / ticks
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    return parts


def histogram(bins, *, pass_score: int = 300, chart_id: str = "histogram") -> str:
    """Bars of attempt counts per scaled-score band, with the passing line."""
    total = sum(b.count for b in bins)
    top = max([b.count for b in bins] + [1])
    # Round the axis up to a tidy number so the ticks read as whole counts.
    step = max(1, -(-top // 4))
    top = step * 4
    low, high = bins[0].low, bins[-1].high
    scale_x = _plot_w() / (high - low)
    body = _y_axis(top, 4, lambda v: f"{v:.0f}")
    bar_w = _plot_w() / len(bins)
    for i, b in enumerate(bins):
        h = _plot_h() * b.count / top
        x = LEFT + i * bar_w
        y = TOP + _plot_h() - h
        cls = "bar pass" if b.passing else "bar fail"
        body.append(
            _format(
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                "<title>{}: {} attempt(s)</title></rect>",
                cls,
                f"{x + 1:.1f}",
                f"{y:.1f}",
                f"{bar_w - 2:.1f}",
                f"{h:.1f}",
                b.label,
                b.count,
            )
        )
        if i % 3 == 0 or i == len(bins) - 1:
            body.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{b.low}</text>'
            )
    body.append(
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - BOTTOM + 16}" '
        f'text-anchor="end">{high}</text>'
    )
    cut_x = LEFT + (pass_score - low) * scale_x
    body.append(
        f'<line class="cut" x1="{cut_x:.1f}" x2="{cut_x:.1f}" y1="{TOP}" '
        f'y2="{TOP + _plot_h()}"/>'
        f'<text class="cut-label" x="{cut_x + 4:.1f}" y="{TOP + 12}">{pass_score} passes</text>'
        f'<text class="axis-label" x="{LEFT + _plot_w() / 2}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">Scaled score (100–400)</text>'
    )
    passing = sum(b.count for b in bins if b.passing)
    desc = (
        f"{total} scored attempts; {passing} at or above {pass_score}, "
        f"{total - passing} below. The table below lists each band."
    )
    return _frame(chart_id, "Score distribution", desc, body)


def _line(points: list[tuple[float, float]], cls: str, colour: str, labels: list[str]) -> str:
    if not points:
        return ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts = [f'<polyline class="{cls}" fill="none" stroke="{colour}" points="{path}"/>']
    for (x, y), label in zip(points, labels, strict=True):
        parts.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
            f"<title>{escape(label)}</title></circle>"
        )
    return "".join(parts)


def pass_rate_over_time(periods, *, chart_id: str = "trend") -> str:
    """Pass rate of scored attempts per month, 0–100 %."""
    body = _y_axis(100, 4, lambda v: f"{v:.0f}%")
    n = len(periods)
    step = _plot_w() / max(n - 1, 1)
    points, labels = [], []
    for i, p in enumerate(periods):
        x = LEFT + (i * step if n > 1 else _plot_w() / 2)
        y = TOP + _plot_h() * (1 - p.pass_rate)
        points.append((x, y))
        labels.append(f"{p.month:%b %Y}: {p.pass_rate:.0%} of {p.attempts} attempt(s) passed")
        if n <= 12 or i % max(1, n // 8) == 0 or i == n - 1:
            body.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{p.month:%b %y}</text>'
            )
    body.append(_line(points, "series", SERIES_COLOURS[0], labels))
    first = f"{periods[0].month:%B %Y}" if periods else ""
    last = f"{periods[-1].month:%B %Y}" if periods else ""
    desc = (
        f"Monthly pass rate of scored exam attempts from {first} to {last}; "
        "the table below gives each month's attempts and passes."
    )
    return _frame(chart_id, "Pass rate over time", desc, body)


def domain_bars(rows, *, chart_id: str = "domains") -> str:
    """Per domain, the cohort's percent correct beside all candidates'."""
    body = _y_axis(100, 4, lambda v: f"{v:.0f}%")
    group_w = _plot_w() / max(len(rows), 1)
    bar_w = group_w * 0.34
    for i, row in enumerate(rows):
        x0 = LEFT + i * group_w + group_w * 0.14
        for j, (value, cls, who) in enumerate(
            [(row.cohort_percent, "bar cohort", "This cohort"), (row.all_percent, "bar all", "All")]
        ):
            if value is None:
                continue
            h = _plot_h() * value / 100
            body.append(
                _format(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>Domain {}: {} {}%</title></rect>",
                    cls,
                    f"{x0 + j * bar_w:.1f}",
                    f"{TOP + _plot_h() - h:.1f}",
                    f"{bar_w - 2:.1f}",
                    f"{h:.1f}",
                    row.number,
                    who,
                    f"{value:.0f}",
                )
            )
        body.append(
            f'<text class="tick" x="{x0 + bar_w:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">Domain {row.number}</text>'
        )
    body.append(
        f'<rect class="bar cohort" x="{LEFT}" y="{HEIGHT - 16}" width="10" height="10"/>'
        f'<text class="tick" x="{LEFT + 14}" y="{HEIGHT - 7}">This cohort</text>'
        f'<rect class="bar all" x="{LEFT + 110}" y="{HEIGHT - 16}" width="10" height="10"/>'
        f'<text class="tick" x="{LEFT + 124}" y="{HEIGHT - 7}">All candidates</text>'
    )
    desc = "Percent correct per domain, this cohort beside all candidates; see the table below."
    return _frame(chart_id, "Domain performance", desc, body)


def domain_lines(attempts, domains, *, chart_id: str = "candidate-domains") -> str:
    """One line per domain: a candidate's percent correct on each scored attempt."""
    scored = [a for a in attempts if a.scaled is not None]
    body = _y_axis(100, 4, lambda v: f"{v:.0f}%")
    n = len(scored)
    step = _plot_w() / max(n - 1, 1)
    xs = [LEFT + (i * step if n > 1 else _plot_w() / 2) for i in range(n)]
    for i, a in enumerate(scored):
        body.append(
            f'<text class="tick" x="{xs[i]:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">#{i + 1} {a.started_at:%d %b}</text>'
        )
    for k, (number, _name) in enumerate(domains):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        points, labels = [], []
        for i, a in enumerate(scored):
            value = a.domain_percent.get(number)
            if value is None:
                continue
            points.append((xs[i], TOP + _plot_h() * (1 - value / 100)))
            labels.append(f"Domain {number}, attempt {i + 1}: {value:.0f}%")
        body.append(_line(points, "series", colour, labels))
        lx = LEFT + k * 100
        body.append(
            f'<rect x="{lx}" y="{HEIGHT - 16}" width="10" height="10" fill="{colour}"/>'
            f'<text class="tick" x="{lx + 14}" y="{HEIGHT - 7}">Domain {number}</text>'
        )
    desc = (
        f"Percent correct per domain on each of {n} scored attempts; "
        "the table below gives the same numbers."
    )
    return _frame(chart_id, "Domain results over time", desc, body)


# --- Item analysis: the raw-score histogram of a form ---------------------------------------
@dataclass(frozen=True)
class HistogramBin:
    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


def histogram_bins(distribution: dict, *, max_bars: int = 25) -> list[HistogramBin]:
    counts = list(distribution.get("counts") or [])
    if not counts:
        return []
    width = max(1, math.ceil(len(counts) / max_bars))
    return [
        HistogramBin(low=i, high=min(i + width, len(counts)) - 1, count=sum(counts[i : i + width]))
        for i in range(0, len(counts), width)
    ]


def histogram_svg(
    bins: list[HistogramBin], *, title: str, width: int = 640, height: int = 240
) -> str:
    """An accessible inline SVG bar chart of raw-score counts (text escaped)."""
    if not bins:
        return ""
    left, right, top, bottom = 44, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(b.count for b in bins) or 1
    bar_w = plot_w / len(bins)
    total = sum(b.count for b in bins)
    parts = [
        f'<svg class="stats-histogram" role="img" aria-labelledby="hist-title hist-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="hist-title">{escape(title)}</title>',
        f'<desc id="hist-desc">Number of attempts per raw score band, {total} attempts in all; '
        "the table below gives the same figures.</desc>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    label_every = max(1, math.ceil(len(bins) / 12))
    for i, b in enumerate(bins):
        h = b.count / peak * plot_h
        x = left + i * bar_w
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#417690"><title>{escape(b.label)}: {b.count}</title></rect>'
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                f'font-size="11">{escape(b.label)}</text>'
            )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        'font-size="12">raw score (operational items)</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- Item analysis: a form's precision along the scale --------------------------------------
def information_chart(points, *, pass_score: int = PASSING, chart_id: str = "information") -> str:
    """Test information (left axis) and the conditional standard error in scaled points
    (right axis) against the scaled score, with the passing score marked.

    ``points``: objects with ``scaled``, ``information`` and ``scaled_sem`` (e.g.
    psychometrics.precision.PrecisionPoint), in increasing scaled order; the page prints
    the same numbers in a table.
    """
    plot_w, plot_h = _plot_w() - 32, _plot_h()
    right_x = LEFT + plot_w

    def x_of(scaled: float) -> float:
        return LEFT + plot_w * (scaled - LOW) / (HIGH - LOW)

    top_info = max([p.information for p in points] + [1e-9])
    top_info = math.ceil(top_info * 1.1 / 5) * 5 if top_info > 5 else math.ceil(top_info * 1.1)
    top_sem = max([p.scaled_sem for p in points] + [1.0])
    top_sem = math.ceil(top_sem * 1.1 / 5) * 5
    body = []
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        body.append(
            f'<line class="grid" x1="{LEFT}" x2="{right_x:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(top_info * i / 4))}</text>"
            f'<text class="tick" x="{right_x + 6:.1f}" y="{y + 4:.1f}" text-anchor="start">'
            f"{escape(_fmt(top_sem * i / 4))}</text>"
        )
    for tick in range(LOW, HIGH + 1, 50):
        body.append(
            f'<text class="tick" x="{x_of(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{tick}</text>'
        )
    info_points = [(x_of(p.scaled), TOP + plot_h * (1 - p.information / top_info)) for p in points]
    sem_points = [(x_of(p.scaled), TOP + plot_h * (1 - p.scaled_sem / top_sem)) for p in points]
    body.append(
        _line(
            info_points,
            "series information",
            SERIES_COLOURS[0],
            [f"Scaled {p.scaled}: information {p.information:.2f}" for p in points],
        )
    )
    body.append(
        _line(
            sem_points,
            "series sem",
            SERIES_COLOURS[1],
            [f"Scaled {p.scaled}: standard error ±{p.scaled_sem:.1f} points" for p in points],
        )
    )
    cut_x = x_of(pass_score)
    body.append(
        f'<line class="cut" x1="{cut_x:.1f}" x2="{cut_x:.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>'
        f'<text class="cut-label" x="{cut_x + 4:.1f}" y="{TOP + 12}">{pass_score} passes</text>'
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">Scaled score (100–400)</text>'
        f'<text class="legend" x="{LEFT + 8}" y="{TOP + 12}" fill="{SERIES_COLOURS[0]}">'
        "— test information (left axis)</text>"
        f'<text class="legend" x="{LEFT + 8}" y="{TOP + 28}" fill="{SERIES_COLOURS[1]}">'
        "— standard error, scaled points (right axis)</text>"
    )
    at_cut = min(points, key=lambda p: abs(p.scaled - pass_score)) if points else None
    desc = "Test information and the conditional standard error of measurement across the scale."
    if at_cut is not None:
        best = max(points, key=lambda p: p.information)
        desc += (
            f" Information peaks at {best.information:.1f} near a scaled score of {best.scaled};"
            f" near the passing score {pass_score} the standard error is about"
            f" ±{at_cut.scaled_sem:.0f} scaled points. The table below gives every point."
        )
    return _frame(chart_id, "Test information and standard error", desc, body)
