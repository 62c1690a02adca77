"""A trend as an SVG line chart, drawn on the server: no script, no library, Chinese set in the
page's own fonts. One line per term, broken where a period has no speech; each point links to the
speeches behind it and names its figures on hover."""

from __future__ import annotations

import math
from collections.abc import Callable

from markupsafe import Markup, escape

from archive.query.trend import Trend

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 52
COLOURS = ("#8b1a1a", "#1f5f8b", "#3d7a2a", "#b8860b", "#6a3d9a", "#444444")
AXIS_LABEL = {"speeches": "% of speeches 使用比例", "10k-chars": "per 10,000 characters 每万字",
              "count": "speeches 篇数"}


def nice_top(largest: float) -> tuple[float, float]:
    """The axis top and tick step: 1, 2 or 5 times a power of ten, four or five ticks."""
    if largest <= 0:
        return 1.0, 0.25
    raw = largest / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return math.ceil(largest / step) * step, step


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def line_chart(t: Trend, link: Callable[[str, str], str]) -> Markup:
    """The chart; ``link(term, period)`` is the address of the speeches behind a point."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(t.periods)
    values = [v for term in t.terms for v in t.values[term] if v is not None]
    top, step = nice_top(max(values, default=0.0))

    def x(k: int) -> float:
        return LEFT + (plot_w / 2 if n == 1 else k * plot_w / (n - 1))

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart" '
           f'font-family="Noto Sans CJK SC, Source Han Sans SC, sans-serif" font-size="12">',
           f"<title>{escape('、'.join(t.terms))}: {escape(AXIS_LABEL[t.per])} by {t.by}</title>"]
    ticks = int(round(top / step))
    for i in range(ticks + 1):
        v = i * step
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e3e3e6"/>'
                   f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#6b6b70">{_fmt(v)}</text>')
    every = max(1, math.ceil(n / 12))
    for k, period in enumerate(t.periods):
        if k % every == 0 or k == n - 1:
            out.append(f'<text x="{x(k):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" fill="#6b6b70">'
                       f'{escape(period)}</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#6b6b70"/>'
               f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#6b6b70"/>'
               f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
               f'{"年 year" if t.by == "year" else "月 month"}</text>'
               f'<text transform="translate(14 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
               f'{escape(AXIS_LABEL[t.per])}</text>')
    for i, term in enumerate(t.terms):
        colour = COLOURS[i % len(COLOURS)]
        out.append(f'<g class="series" data-term="{escape(term)}">')
        run: list[str] = []
        for k, v in enumerate([*t.values[term], None]):  # a None ends a line: no speech that period
            if v is not None:
                run.append(f"{x(k):.1f},{y(v):.1f}")
            elif run:
                out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
                run = []
        for k, v in enumerate(t.values[term]):
            if v is None:
                continue
            tip = f"{term} · {t.periods[k]}: {_fmt(v)} ({t.matches[term][k]} of {t.totals[k]} speeches)"
            out.append(f'<a href="{escape(link(term, t.periods[k]))}"><circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="4" '
                       f'fill="{colour}"><title>{escape(tip)}</title></circle></a>')
        out.append("</g>")
        out.append(f'<rect x="{LEFT + 8 + i * 120}" y="12" width="14" height="4" fill="{colour}"/>'
                   f'<text x="{LEFT + 28 + i * 120}" y="18">{escape(term[:12])}</text>')
    out.append("</svg>")
    return Markup("".join(out))
