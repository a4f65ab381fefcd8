"""Line charts drawn on the server as SVG geometry: the console's CSP forbids scripts.

A chart is one day per x step; a day without a value has no point, and the line joins
the points on either side of it. The template (``console/chart.html``) draws the lines,
one circle per point with its value as a tooltip, and the axis labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tasks.availability import CheckHistory

WIDTH = 600
HEIGHT = 150
LEFT = 44  # room for the y labels
BOTTOM = 18  # room for the x labels
TOP = 8


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the tooltip


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # the class that colours it
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    title: str
    series: list[Series]
    y_labels: list[tuple[float, str]]  # (y, text)
    x_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: float = HEIGHT - BOTTOM


def day_chart(
    title: str,
    days: Sequence[dt.date],
    lines: Sequence[tuple[str, str, Sequence[float | None]]],
    top: float,
    text: Callable[[float], str],
    bottom: float = 0.0,
) -> Chart:
    """``lines`` of (name, css class, one value or None per day) scaled to [bottom, top]."""
    step = (WIDTH - LEFT - 8) / max(1, len(days) - 1)
    span = (top - bottom) or 1.0
    plot = HEIGHT - BOTTOM - TOP

    def y_of(value: float) -> float:
        return TOP + plot * (1 - (min(max(value, bottom), top) - bottom) / span)

    series = [
        Series(
            name,
            css,
            [
                Point(LEFT + n * step, y_of(value), f"{days[n]:%m-%d} {name}：{text(value)}")
                for n, value in enumerate(values)
                if value is not None
            ],
        )
        for name, css, values in lines
    ]
    y_labels = [(y_of(v), text(v)) for v in (bottom, (bottom + top) / 2, top)]
    x_labels = [
        (LEFT + n * step, f"{day:%m-%d}")
        for n, day in enumerate(days)
        if n % 7 == 0 or n == len(days) - 1
    ]
    return Chart(title, series, y_labels, x_labels)


def check_charts(history: CheckHistory, label: str) -> tuple[Chart, Chart]:
    """The availability chart and the p50/p95 duration chart of one check."""
    days = [figures.day for figures in history.days]
    shares = [
        None if f.availability.share is None else f.availability.share * 100 for f in history.days
    ]
    low = min((s for s in shares if s is not None), default=100.0)
    availability = day_chart(
        f"{label} 可用率",
        days,
        [("可用率", "availability", shares)],
        top=100.0,
        bottom=90.0 if low >= 90 else 0.0,  # healthy sites: show the last ten points
        text=lambda v: f"{v:.1f}%",
    )
    p50 = [None if f.p50_ms is None else f.p50_ms / 1000 for f in history.days]
    p95 = [None if f.p95_ms is None else f.p95_ms / 1000 for f in history.days]
    slowest = max((v for v in p95 if v is not None), default=1.0)
    duration = day_chart(
        f"{label} 巡检耗时（秒）",
        days,
        [("p50", "p50", p50), ("p95", "p95", p95)],
        top=max(1.0, slowest * 1.1),
        text=lambda v: f"{v:.1f}s",
    )
    return availability, duration
