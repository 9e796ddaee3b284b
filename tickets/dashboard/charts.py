"""Server-side SVG charts for the dashboard: no JavaScript chart library, no CDN.

Each chart is an accessible `<svg role="img">` with a title, a description, axis labels,
a legend and a `<title>` tooltip on every mark. Text is escaped here; callers pass plain
strings and numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"'
AXIS = "#8a94a3"
GRID = "#e6eaf0"
TEXT = "#3b4654"


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str


def nice_max(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum ≥ value and its tick step."""
    if value <= 0:
        return ticks, 1
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    step = max(step, 1) if value >= ticks else step
    return step * math.ceil(value / step), step


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" {FONT}>',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    parts = ['<g class="chart-legend" font-size="12">']
    for item in series:
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" rx="2" '
            f'fill="{item.color}"/>'
            f'<text x="{x + 16:.1f}" y="{y:.1f}" fill="{TEXT}">{escape(item.label)}</text>'
        )
        x += 26 + 7.2 * len(item.label)
    parts.append("</g>")
    return parts


def _y_axis(
    top: float, bottom: float, left: float, right: float, maximum: float, step: float, suffix=""
) -> list[str]:
    parts = []
    value = 0.0
    while value <= maximum + 1e-9:
        y = bottom - (bottom - top) * value / maximum
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{AXIS}">{_fmt(value)}{suffix}</text>'
        )
        value += step
    return parts


def _x_labels(labels: Sequence[str], xs: Sequence[float], y: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 12))
    return [
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="11" fill="{AXIS}">'
        f"{escape(label)}</text>"
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % every == 0 or i == len(labels) - 1
    ]


def _empty(parts: list[str], width: int, height: int, message: str) -> SafeString:
    parts.append(
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="14" '
        f'fill="{AXIS}">{escape(message)}</text></svg>'
    )
    return mark_safe("".join(parts))


def stacked_columns(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    values: Sequence[dict[str, int]],
    empty_message: str,
    y_label: str = "",
    width: int = 640,
    height: int = 280,
) -> SafeString:
    """Vertical stacked bars: one column per label, one segment per series."""
    parts = _open(chart_id, title, description, width, height)
    left, right, top, bottom = 44, width - 12, 34, height - 30
    totals = [sum(v.get(s.key, 0) for s in series) for v in values]
    if not any(totals):
        return _empty(parts, width, height, empty_message)
    maximum, step = nice_max(max(totals))
    parts += _legend(series, left, 16)
    parts += _y_axis(top, bottom, left, right, maximum, step)
    if y_label:
        parts.append(
            f'<text x="12" y="{(top + bottom) / 2:.1f}" font-size="11" fill="{AXIS}" '
            f'text-anchor="middle" transform="rotate(-90 12 {(top + bottom) / 2:.1f})">'
            f"{escape(y_label)}</text>"
        )
    slot = (right - left) / len(labels)
    bar = max(2.0, min(36.0, slot * 0.7))
    xs = []
    for label, value, total in zip(labels, values, totals, strict=True):
        x = left + slot * len(xs) + (slot - bar) / 2
        xs.append(x + bar / 2)
        y = bottom
        for item in series:
            n = value.get(item.key, 0)
            if not n:
                continue
            h = (bottom - top) * n / maximum
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{item.color}"><title>{escape(label)} · {escape(item.label)}: {n}'
                "</title></rect>"
            )
        if total and len(labels) <= 16:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'font-size="11" fill="{TEXT}">{total}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/>')
    parts += _x_labels(labels, xs, bottom + 16)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def percent_line(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    counts: Sequence[int],
    target: float,
    line_label: str,
    target_label: str,
    empty_message: str,
    width: int = 640,
    height: int = 280,
) -> SafeString:
    """A 0–100 % line with a dashed target line; days without data leave a gap."""
    parts = _open(chart_id, title, description, width, height)
    left, right, top, bottom = 44, width - 12, 34, height - 30
    if all(v is None for v in values):
        return _empty(parts, width, height, empty_message)
    parts += _legend(
        [Series("line", line_label, "#1e7a3c"), Series("target", target_label, "#b3261e")],
        left,
        16,
    )
    parts += _y_axis(top, bottom, left, right, 100, 25, "%")
    slot = (right - left) / len(labels)
    xs = [left + slot * (i + 0.5) for i in range(len(labels))]

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * v / 100

    ty = y_of(target)
    parts.append(
        f'<line x1="{left}" x2="{right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#b3261e" '
        f'stroke-width="1.5" stroke-dasharray="6 4"><title>{escape(target_label)}</title></line>'
    )
    segments, current = [], []
    for x, v in zip(xs, values, strict=True):
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{x:.1f},{y_of(v):.1f}")
    if current:
        segments.append(current)
    for segment in segments:
        parts.append(
            f'<polyline points="{" ".join(segment)}" fill="none" stroke="#1e7a3c" '
            f'stroke-width="2.5" stroke-linejoin="round"/>'
        )
    for label, x, v, n in zip(labels, xs, values, counts, strict=True):
        if v is None:
            continue
        color = "#1e7a3c" if v >= target else "#b3261e"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y_of(v):.1f}" r="4" fill="#fff" stroke="{color}" '
            f'stroke-width="2"><title>{escape(label)}: {_fmt(v)}% ({n})</title></circle>'
        )
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/>')
    parts += _x_labels(labels, xs, bottom + 16)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def columns(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[int],
    colors: Sequence[str],
    empty_message: str,
    width: int = 640,
    height: int = 280,
) -> SafeString:
    """Plain columns with their counts above (the response-time histogram)."""
    parts = _open(chart_id, title, description, width, height)
    left, right, top, bottom = 44, width - 12, 20, height - 30
    if not any(values):
        return _empty(parts, width, height, empty_message)
    maximum, step = nice_max(max(values))
    parts += _y_axis(top, bottom, left, right, maximum, step)
    slot = (right - left) / len(labels)
    bar = slot * 0.62
    xs = []
    total = sum(values)
    for i, (label, value, color) in enumerate(zip(labels, values, colors, strict=True)):
        x = left + slot * i + (slot - bar) / 2
        xs.append(x + bar / 2)
        h = (bottom - top) * value / maximum
        share = 100 * value / total
        parts.append(
            f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" rx="3" '
            f'fill="{color}"><title>{escape(label)}: {value} ({share:.0f}%)</title></rect>'
            f'<text x="{x + bar / 2:.1f}" y="{bottom - h - 5:.1f}" text-anchor="middle" '
            f'font-size="12" fill="{TEXT}">{value} · {share:.0f}%</text>'
        )
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/>')
    parts += [
        f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" font-size="12" '
        f'fill="{TEXT}">{escape(label)}</text>'
        for label, x in zip(labels, xs, strict=True)
    ]
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked_rows(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    values: Sequence[dict[str, int]],
    empty_message: str,
    width: int = 640,
    row_height: int = 26,
    end_labels: Sequence[str] | None = None,
) -> SafeString:
    """Horizontal stacked bars: one row per label (queue, operator), total at the end
    (or `end_labels`, one per row, e.g. a rate)."""
    label_width = 170
    top = 34
    height = max(120, top + row_height * len(labels) + 10)
    parts = _open(chart_id, title, description, width, height)
    if not labels:
        return _empty(parts, width, height, empty_message)
    left, right = label_width, width - (110 if end_labels else 44)
    totals = [sum(v.get(s.key, 0) for s in series) for v in values]
    maximum, _ = nice_max(max(totals) or 1)
    parts += _legend(series, 8, 16)
    ends = list(end_labels) if end_labels else [str(total) for total in totals]
    for i, (label, value, end) in enumerate(zip(labels, values, ends, strict=True)):
        y = top + row_height * i
        short = label if len(label) <= 24 else label[:23] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + row_height / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="{TEXT}"><title>{escape(label)}</title>{escape(short)}</text>'
        )
        x = float(left)
        for item in series:
            n = value.get(item.key, 0)
            if not n:
                continue
            w = (right - left) * n / maximum
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row_height - 8}" '
                f'fill="{item.color}"><title>{escape(label)} · {escape(item.label)}: {n}'
                "</title></rect>"
            )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + row_height / 2 + 4:.1f}" font-size="12" '
            f'font-weight="600" fill="{TEXT}">{escape(end)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + row_height * len(labels)}" '
        f'stroke="{AXIS}"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))
