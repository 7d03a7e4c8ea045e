"""Inline SVG charts for the report: rates with intervals, ratios against a band, an intersectional heat map.

Every chart is a string of SVG with no external reference (no fonts, images or
scripts to fetch); every label comes from data and is escaped, so a group
named ``<script>`` is drawn as text. Sizes are in CSS pixels; the SVG scales
to the page width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
ROW = 22
LEFT = 190
RIGHT = 30
TOP = 26
FONT = "font-family:'Report Sans',sans-serif;font-size:11px"
INK, MUTED, ACCENT, BAD, GOOD = "#1b1f24", "#6b7280", "#1d4ed8", "#b91c1c", "#047857"


@dataclass(frozen=True)
class Bar:
    """One row of a chart: a label, a value and its interval (NaN or None when undefined or withheld)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def _text(x: float, y: float, body: str, *, anchor: str = "start", fill: str = INK, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-weight="{weight}" '
            f'style="{FONT}">{escape(body)}</text>')


def _frame(height: float, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
            f'role="img" aria-label="{escape(title, quote=True)}">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _axis(scale: Callable[[float], float], ticks: Sequence[float], label: Callable[[float], str], top: float,
          bottom: float) -> list[str]:
    parts = []
    for t in ticks:
        x = scale(t)
        parts.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#e5e7eb"/>')
        parts.append(_text(x, top - 6, label(t), anchor="middle", fill=MUTED))
    return parts


def _dot_chart(bars: Sequence[Bar], *, low: float, high: float, title: str, label: Callable[[float], str],
               undefined: str) -> str:
    """Dots with interval whiskers on a linear axis from ``low`` to ``high``, one row per group."""
    height = TOP + ROW * len(bars) + 10
    span = WIDTH - LEFT - RIGHT

    def scale(v: float) -> float:
        return LEFT + span * (max(low, min(v, high)) - low) / (high - low)

    ticks = [low + (high - low) * i / 4 for i in range(5)]
    body = _axis(scale, ticks, label, TOP, height - 6)
    for i, bar in enumerate(bars):
        y = TOP + ROW * i + ROW / 2
        body.append(_text(LEFT - 8, y + 4, bar.label, anchor="end"))
        if not _finite(bar.value):
            body.append(_text(LEFT + 4, y + 4, bar.note or undefined, fill=MUTED))
            continue
        if _finite(bar.low) and _finite(bar.high):
            body.append(f'<line x1="{scale(bar.low):.1f}" y1="{y:.1f}" x2="{scale(bar.high):.1f}" y2="{y:.1f}" '
                        f'stroke="{ACCENT}" stroke-width="2"/>')
        body.append(f'<circle cx="{scale(bar.value):.1f}" cy="{y:.1f}" r="4" fill="{ACCENT}"/>')
    return _frame(height, title, body)


def _ends(bar: Bar) -> list[float]:
    """The finite numbers a bar draws (value and interval ends)."""
    return [v for v in (bar.value, bar.low, bar.high) if _finite(v)]  # type: ignore[misc]


def rate_chart(bars: Sequence[Bar], *, title: str, label: Callable[[float], str],
               undefined: str) -> str:
    """Dots with interval whiskers on a 0–1 axis, one row per group; undefined rows say so in words."""
    highest = max([b.high if _finite(b.high) else b.value if _finite(b.value) else 0.0 for b in bars] + [0.05])
    limit = next(step for step in (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0) if step >= min(highest, 1.0))
    return _dot_chart(bars, low=0.0, high=limit, title=title, label=label, undefined=undefined)


_NICE_STEPS = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten that is at least ``x`` (``x`` > 0).

    Examples
    --------
    >>> nice_ceiling(29.5), nice_ceiling(0.83), nice_ceiling(1.0), nice_ceiling(2100)
    (30.0, 1.0, 1.0, 2500.0)
    """
    power = 10.0 ** math.floor(math.log10(x))
    return next(step * power for step in _NICE_STEPS if step * power >= x * (1 - 1e-12))


def value_chart(bars: Sequence[Bar], *, title: str, label: Callable[[float], str], undefined: str) -> str:
    """Amounts (means, medians, quantiles) with interval whiskers on an axis in the amount's own units.

    The axis starts at 0 for amounts that are never negative (else at the
    negative of a round number) and ends at a round number above the
    highest interval end.
    """
    ends = [v for b in bars for v in _ends(b)] or [0.0]
    high = nice_ceiling(max(ends)) if max(ends) > 0 else 1.0
    low = 0.0 if min(ends) >= 0 else -nice_ceiling(-min(ends))
    return _dot_chart(bars, low=low, high=high, title=title, label=label, undefined=undefined)


def ratio_chart(bars: Sequence[Bar], *, band: tuple[float, float], title: str, label: Callable[[float], str],
                undefined: str) -> str:
    """Ratios on a log axis with the acceptable band shaded; a point outside the band is drawn in red."""
    height = TOP + ROW * len(bars) + 10
    span = WIDTH - LEFT - RIGHT
    values = [v for b in bars for v in (b.value, b.low, b.high) if _finite(v) and v > 0] + list(band)
    low, high = min(values + [0.5]), max(values + [2.0])
    low, high = max(low, 0.05), min(high, 20.0)
    log_low, log_high = math.log(low), math.log(high)

    def scale(v: float) -> float:
        v = min(max(v, low), high)
        return LEFT + span * (math.log(v) - log_low) / (log_high - log_low)

    ticks = [t for t in (0.1, 0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0, 10.0) if low <= t <= high]
    body = [f'<rect x="{scale(band[0]):.1f}" y="{TOP:.1f}" width="{scale(band[1]) - scale(band[0]):.1f}" '
            f'height="{height - TOP - 6:.1f}" fill="#ecfdf5"/>']
    body += _axis(scale, ticks, label, TOP, height - 6)
    for i, bar in enumerate(bars):
        y = TOP + ROW * i + ROW / 2
        body.append(_text(LEFT - 8, y + 4, bar.label, anchor="end"))
        if not (_finite(bar.value) and bar.value > 0):
            body.append(_text(LEFT + 4, y + 4, bar.note or undefined, fill=MUTED))
            continue
        inside = band[0] <= bar.value <= band[1]
        colour = GOOD if inside else BAD
        if _finite(bar.low) and _finite(bar.high) and bar.low > 0:
            body.append(f'<line x1="{scale(bar.low):.1f}" y1="{y:.1f}" x2="{scale(bar.high):.1f}" y2="{y:.1f}" '
                        f'stroke="{colour}" stroke-width="2"/>')
        body.append(f'<circle cx="{scale(bar.value):.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
    return _frame(height, title, body)


def _distance(value: float, bound: str) -> float:
    """How far a cell is from equal treatment: |log ratio|, or |difference| in tenths (0.1 counts as 1)."""
    if bound == "difference":
        return abs(value) * 10
    return abs(math.log(value)) if value > 0 else 3.0


def heat_map(rows: Sequence[str], columns: Sequence[str], cells: dict[tuple[str, str], float | None], *,
             title: str, label: Callable[[float], str], band: tuple[float, float], missing: str,
             bound: str = "ratio") -> str:
    """Ratios (or differences, ``bound="difference"``) of an intersection of two attributes as coloured cells:
    green inside the band, red outside, stronger the farther from equal treatment (1, or 0)."""
    cell_w = max(48.0, min(110.0, (WIDTH - LEFT - RIGHT) / max(len(columns), 1)))
    height = TOP + ROW * 1.4 * len(rows) + 10
    body = [_text(LEFT + cell_w * (j + 0.5), TOP - 8, c, anchor="middle") for j, c in enumerate(columns)]
    for i, r in enumerate(rows):
        y = TOP + ROW * 1.4 * i
        body.append(_text(LEFT - 8, y + ROW * 0.9, r, anchor="end"))
        for j, c in enumerate(columns):
            value = cells.get((r, c))
            x = LEFT + cell_w * j
            if not _finite(value):
                fill, text = "#f3f4f6", missing
            else:
                distance = _distance(value, bound)
                inside = band[0] <= value <= band[1]
                strength = min(1.0, 0.25 + distance)
                fill = (f"rgba(4,120,87,{0.15 + 0.25 * strength:.2f})" if inside
                        else f"rgba(185,28,28,{0.2 + 0.6 * strength:.2f})")
                text = label(value)
            body.append(f'<rect x="{x + 1:.1f}" y="{y + 2:.1f}" width="{cell_w - 2:.1f}" height="{ROW * 1.3:.1f}" '
                        f'fill="{fill}"/>')
            body.append(_text(x + cell_w / 2, y + ROW * 0.95, text, anchor="middle"))
    return _frame(height, title, body)


@dataclass(frozen=True)
class Point:
    """One alternative on the frontier: its name, gap (x) and accuracy (y); ``current`` marks the model in use."""

    label: str
    gap: float
    accuracy: float
    current: bool = False


def frontier_chart(points: Sequence[Point], *, title: str, x_title: str, y_title: str,
                   x_label: Callable[[float], str] = lambda v: f"{v:.2f}",
                   y_label: Callable[[float], str] = lambda v: f"{v:.3f}") -> str:
    """Accuracy against the absolute disparity gap, one dot per alternative; the current model drawn in red.

    ``x_label`` and ``y_label`` write the tick values (e.g. in the report's language).
    """
    shown = [p for p in points if _finite(p.gap) and _finite(p.accuracy)]
    height, bottom, left = 300, 250, 70
    gaps = [abs(p.gap) for p in shown] or [0.0]
    accuracies = [p.accuracy for p in shown] or [0.5]
    x_high = max(max(gaps) * 1.1, 0.01)
    y_low, y_high = min(accuracies) - 0.01, max(accuracies) + 0.01

    def x(v: float) -> float:
        return left + (WIDTH - left - RIGHT) * abs(v) / x_high

    def y(v: float) -> float:
        return bottom - (bottom - TOP) * (v - y_low) / (y_high - y_low)

    body = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="{MUTED}"/>',
            f'<line x1="{left}" y1="{TOP}" x2="{left}" y2="{bottom}" stroke="{MUTED}"/>']
    for i in range(5):
        gx, gy = x_high * i / 4, y_low + (y_high - y_low) * i / 4
        body.append(_text(x(gx), bottom + 14, x_label(gx), anchor="middle", fill=MUTED))
        body.append(_text(left - 6, y(gy) + 4, y_label(gy), anchor="end", fill=MUTED))
    body.append(_text((left + WIDTH - RIGHT) / 2, bottom + 32, x_title, anchor="middle"))
    body.append(_text(8, TOP - 8, y_title))
    for p in shown:
        colour = BAD if p.current else ACCENT
        body.append(f'<circle cx="{x(p.gap):.1f}" cy="{y(p.accuracy):.1f}" r="{6 if p.current else 4}" '
                    f'fill="{colour}"><title>{escape(p.label)}</title></circle>')
        body.append(_text(x(p.gap) + 8, y(p.accuracy) - 6, p.label, fill=colour if p.current else MUTED))
    return _frame(height, title, body)
