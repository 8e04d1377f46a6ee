"""Charts drawn on the server as inline SVG: stacked bars and a line over a period's buckets.

Why our own renderer: the leaders' pages must work with JavaScript off and be read by screen
readers, and every chart sits beside a table with the same numbers. The maintained chart
libraries for Django (Chart.js or Plotly wrappers, django-chartjs, django-plotly-dash) draw in
the browser with JavaScript; the server-side ones (matplotlib, pygal) bring a large dependency
for a few rectangles, draw text we cannot style with the page's fonts, or are no longer
maintained. A bar chart is a few dozen lines of arithmetic, so it lives here, pure: plain values
in, escaped markup out, no database, no request.

Every chart is `role="img"` with a `<title>` and a `<desc>` (its one-sentence summary); the
drawing itself is hidden from assistive technology, since the table beside it says the same.
Colours hold at least 3:1 against white (WCAG 1.4.11) and segments are parted by a white line;
the legend is the page's, in HTML, so it wraps on a phone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from math import ceil, floor, log10

from django.utils.safestring import SafeString, mark_safe

# Each at least 3:1 against white, and told apart by lightness as well as hue.
PALETTE = ("#00507a", "#b35900", "#1e6b35", "#a1131f", "#6a3d9a", "#4a4a4a")

WIDTH = 400
HEIGHT = 230
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 14, 40
FONT = 12
# The narrowest room a tick's label needs, in the drawing's units.
LABEL_ROOM = 34

Number = int | float


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number | None]
    colour: str


@dataclass(frozen=True)
class Axis:
    """The buckets along the bottom: a short label each, and the wider context ("2026") under
    the first bucket and wherever it changes."""

    ticks: Sequence[str]
    contexts: Sequence[str]

    def __len__(self) -> int:
        return len(self.ticks)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^n at or above the value (1 for nothing)."""
    if value <= 0:
        return 1
    power = 10.0 ** floor(log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return float(step * power)
    raise AssertionError("unreachable")


def scale(highest: float, *, whole: bool, top: float | None = None) -> tuple[float, float]:
    """The top of the axis and the step between its lines: about four steps of 1, 2 or 5 x
    10^n (whole steps for counts), the top the first step at or above the highest value."""
    if top is not None:
        return top, top / 4
    step = nice_ceiling(highest / 4) if highest > 0 else 1
    if whole:
        step = max(step, 1)
    return step * max(1, ceil(highest / step - 1e-9)), step


def _ticks(top: float, step: float) -> list[float]:
    return [step * i for i in range(round(top / step) + 1)]


def _frame(chart_id: str, title: str, description: str, body: list[str]) -> SafeString:
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    head = (
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'font-size="{FONT}" font-family="inherit">'
        f'<title id="{escape(title_id)}">{escape(title)}</title>'
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>'
        '<g aria-hidden="true">'
    )
    return mark_safe(head + "".join(body) + "</g></svg>")  # every text is escaped above


def _grid(top: float, step: float, format_value: Callable[[float], str]) -> list[str]:
    parts = []
    for tick in _ticks(top, step):
        y = _y(tick, top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#767676" if tick == 0 else "#d0d4da"}" stroke-width="1"/>'
            f'<text x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end" fill="#1b1b1b">'
            f"{escape(format_value(tick))}</text>"
        )
    return parts


def _y(value: float, top: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return TOP + plot - (value / top) * plot


def _slot(axis: Axis) -> float:
    return (WIDTH - LEFT - RIGHT) / max(len(axis), 1)


def _x_labels(axis: Axis) -> list[str]:
    """Each bucket's label, or every second, fifth, ... when they would not fit; the context
    line under the first labelled bucket and where it changes."""
    slot = _slot(axis)
    every = max(1, -(-LABEL_ROOM // int(max(slot, 1))))
    parts, last_context = [], ""
    for i, (tick, context) in enumerate(zip(axis.ticks, axis.contexts, strict=True)):
        if i % every:
            continue
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 15}" text-anchor="middle" '
            f'fill="#1b1b1b">{escape(tick)}</text>'
        )
        if context and context != last_context:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 31}" text-anchor="middle" '
                f'fill="#4a4a4a">{escape(context)}</text>'
            )
            last_context = context
    return parts


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    axis: Axis,
    series: Sequence[Series],
    format_value: Callable[[float], str],
    whole: bool = True,
    top: float | None = None,
) -> SafeString:
    """One bar per bucket, the series stacked from the bottom in their order. Missing values
    (None) draw nothing."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(axis))]
    top, step = scale(max(totals, default=0), whole=whole, top=top)
    slot = _slot(axis)
    bar = max(slot * 0.7, 1)
    body = _grid(top, step, format_value)
    for i in range(len(axis)):
        x = LEFT + slot * i + (slot - bar) / 2
        base = 0.0
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            y_top, y_bottom = _y(base + value, top), _y(base, top)
            body.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar:.1f}" '
                f'height="{y_bottom - y_top:.1f}" fill="{escape(s.colour)}" '
                'stroke="#ffffff" stroke-width="1"/>'
            )
            base += value
    body += _x_labels(axis)
    return _frame(chart_id, title, description, body)


def line(
    *,
    chart_id: str,
    title: str,
    description: str,
    axis: Axis,
    series: Series,
    format_value: Callable[[float], str],
    top: float | None = None,
) -> SafeString:
    """A line through the buckets' values with a marker on each; a missing value (None) breaks
    the line there."""
    present = [v for v in series.values if v is not None]
    top, step = scale(max(present, default=0), whole=False, top=top)
    slot = _slot(axis)
    body = _grid(top, step, format_value)
    runs: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(series.values):
        if value is None:
            runs.append([])
            continue
        runs[-1].append((LEFT + slot * (i + 0.5), _y(value, top)))
    colour = escape(series.colour)
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        body += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}" stroke="#ffffff"/>'
            for x, y in run
        ]
    body += _x_labels(axis)
    return _frame(chart_id, title, description, body)
