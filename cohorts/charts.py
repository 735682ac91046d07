"""Server-rendered SVG charts for the dashboards.

No JavaScript and no chart library: each function returns a small, self-describing SVG
(role="img" with a title and a description) sized by its viewBox, so it scales with the
page and prints. Every chart on a page sits beside a table with the same numbers.
"""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 44
SERIES_COLOURS = ["#1f5fbf", "#b3261e", "#1c7c3c", "#a15c00", "#6b3fa0", "#00838f"]


def _frame(chart_id: str, title: str, desc: str, body: list[str]) -> SafeString:
    return mark_safe(
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


def histogram(bins, *, pass_score: int = 300, chart_id: str = "histogram") -> SafeString:
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
            format_html(
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


def pass_rate_over_time(periods, *, chart_id: str = "trend") -> SafeString:
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


def domain_bars(rows, *, chart_id: str = "domains") -> SafeString:
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
                format_html(
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


def domain_lines(attempts, domains, *, chart_id: str = "candidate-domains") -> SafeString:
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
