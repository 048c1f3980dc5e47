"""Server-side SVG charts: a bar series per day with an optional line series on its own scale.

Rendered as markup so pages need no chart library and no script. Each chart carries <title>
and <desc> (and a text summary of every point in <title> elements on the bars), so screen
readers get the numbers the picture shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal

WIDTH, HEIGHT = 1000, 250
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 48, 16, 32
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]
    fmt: str = "{:,.0f}"

    def label(self, value: Number) -> str:
        return self.fmt.format(float(value))


def axis_max(values: Sequence[Number]) -> float:
    """The top of an axis of four equal steps of 1, 2 or 5 times a power of ten.

    Counts get whole-number steps (at least 1), so no tick reads "0.5 clicks".
    """
    top = max((float(v) for v in values), default=0.0)
    step = nice_step(top / 4)
    if all(isinstance(v, int) for v in values):
        step = max(1.0, step)
    return 4 * step


def nice_step(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def bar_line_chart(
    *, title: str, labels: Sequence[str], bars: Series, line: Series | None = None
) -> SafeString:
    """Bars for ``bars`` (left axis) and a line for ``line`` (right axis), one slot per label."""
    uid = f"chart{next(_ids)}"
    n = max(len(labels), 1)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / n
    bar_max = axis_max(bars.values)
    total = sum(float(v) for v in bars.values)
    days = f"{len(labels)} day{'' if len(labels) == 1 else 's'}"
    desc = f"{bars.name}: total {bars.label(total)} over {days}."
    if line is not None:
        desc += f" {line.name}: total {line.label(sum(float(v) for v in line.values))}."
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{uid}-t {uid}-d" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    for i in range(5):  # horizontal grid with left-axis labels
        y = PAD_TOP + plot_h * i / 4
        tick = bar_max * (4 - i) / 4
        parts.append(
            f'<line class="grid-line" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{bars.label(tick)}</text>')
    base_y = PAD_TOP + plot_h
    parts.append(f'<line class="axis" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{base_y}" y2="{base_y}"/>')
    every = max(1, round(n / 10))  # at most ~10 x labels so they never overlap
    for i, (label, value) in enumerate(zip(labels, bars.values, strict=False)):
        h = plot_h * float(value) / bar_max
        x = PAD_LEFT + i * slot + slot * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" rx="2"><title>{escape(label)}: {bars.label(value)} '
            f"{escape(bars.name)}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{PAD_LEFT + (i + 0.5) * slot:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    if line is not None and line.values:
        parts.extend(_line(line, slot, plot_h))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _line(line: Series, slot: float, plot_h: float) -> list[str]:
    line_max = axis_max(line.values)
    points = [
        (PAD_LEFT + (i + 0.5) * slot, PAD_TOP + plot_h - plot_h * float(v) / line_max)
        for i, v in enumerate(line.values)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    out = [f'<polyline class="line" points="{path}"/>']
    out += [f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>' for x, y in points]
    for i in range(5):
        y = PAD_TOP + plot_h * i / 4
        out.append(
            f'<text x="{WIDTH - PAD_RIGHT + 6}" y="{y + 4:.1f}">{line.label(line_max * (4 - i) / 4)}</text>'
        )
    return out


def share_bars(*, title: str, rows: Sequence[tuple[str, int, int]], names: tuple[str, str]) -> SafeString:
    """One horizontal bar per row, split in two shares (e.g. new and returning orders), each
    labelled with its percentage; the counts are in each part's <title>."""
    uid = f"chart{next(_ids)}"
    row_h, label_w, pad = 30, 220, 8
    height = max(len(rows), 1) * row_h + 2 * pad + 20
    plot_w = WIDTH - label_w - PAD_RIGHT
    summary = "; ".join(f"{label}: {a} {names[0]}, {b} {names[1]}" for label, a, b in rows)
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{uid}-t {uid}-d" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(summary)}</desc>',
    ]
    for i, (label, first, second) in enumerate(rows):
        y = pad + i * row_h
        total = first + second
        parts.append(
            f'<text x="{label_w - 10}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
        x = float(label_w)
        for share, css, name in ((first, "bar-a", names[0]), (second, "bar-b", names[1])):
            w = plot_w * share / total if total else 0.0
            pct = f"{100 * share / total:.0f}%" if total else "–"
            parts.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" rx="2">'
                f"<title>{escape(label)}: {share} {escape(name)} ({pct})</title></rect>"
            )
            if w > 40:
                parts.append(
                    f'<text class="on-bar" x="{x + w / 2:.1f}" y="{y + row_h / 2 + 4:.1f}" '
                    f'text-anchor="middle">{pct}</text>'
                )
            x += w
    legend_y = height - 8
    parts.append(f'<rect class="bar-a" x="{label_w}" y="{legend_y - 10}" width="12" height="12" rx="2"/>')
    parts.append(f'<text x="{label_w + 18}" y="{legend_y}">{escape(names[0])}</text>')
    parts.append(
        f'<rect class="bar-b" x="{label_w + 120}" y="{legend_y - 10}" width="12" height="12" rx="2"/>'
    )
    parts.append(f'<text x="{label_w + 138}" y="{legend_y}">{escape(names[1])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
