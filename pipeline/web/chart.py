"""Claims per topic per month as an SVG stacked bar chart, drawn on the server.

A picture that needs no JavaScript and nothing from the network (the app is used offline), and
that the browser test can check. Every label is escaped.
"""
from __future__ import annotations

from collections import defaultdict

from markupsafe import Markup, escape

# Tableau 10: distinguishable colours, the usual palette of Vega-Lite charts.
PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2",
           "#ff9da6", "#9d755d", "#bab0ac")


def _nice_step(top: int) -> int:
    """The smallest of 1, 2, 3, 5, 10, 20, 30, 50 ... with four steps reaching `top`."""
    if top <= 0:
        return 0
    base = 1
    while True:
        for m in (1, 2, 3, 5):
            if 4 * m * base >= top:
                return m * base
        base *= 10


def stacked_bars(rows: list[tuple[str, str, int]], *, title: str = "Claims per topic per month") -> Markup:
    """rows: (month, topic, count). Months on x (in order), one stacked bar per month, a colour
    per topic (the ten largest topics; the rest as "other")."""
    totals_by_topic: dict[str, int] = defaultdict(int)
    for _, topic, n in rows:
        totals_by_topic[topic] += n
    top = [t for t, _ in sorted(totals_by_topic.items(), key=lambda kv: (-kv[1], kv[0]))]
    if len(top) > len(PALETTE):
        top = top[:len(PALETTE) - 1] + ["other"]
    colour = {t: PALETTE[i] for i, t in enumerate(top)}
    stacks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, topic, n in rows:
        stacks[month][topic if topic in colour else "other"] += n
    months = sorted(stacks)
    step = _nice_step(max((sum(s.values()) for s in stacks.values()), default=0))
    peak = step * 4 if step else 0  # the axis top: four even steps
    bar, gap, left, top_pad, height, legend_w = 36, 14, 56, 30, 260, 230
    width = left + max(len(months), 1) * (bar + gap) + legend_w
    svg = [f'<svg class="pc-chart" role="img" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" width="{width}" '
           f'height="{top_pad + height + 70}" viewBox="0 0 {width} {top_pad + height + 70}">',
           f'<title>{escape(title)}</title>',
           f'<text x="{left}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    y0 = top_pad + height
    svg.append(f'<line x1="{left}" y1="{y0}" x2="{left + len(months) * (bar + gap)}" y2="{y0}" stroke="#333"/>')
    for k in range(5):  # y axis: 0 .. peak in four even steps
        v = step * k
        y = y0 - (height * v / peak if peak else 0)
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{v}</text>'
                   f'<line x1="{left - 3}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#333"/>')
    for i, month in enumerate(months):
        x = left + gap / 2 + i * (bar + gap)
        y = y0
        for topic in top:
            n = stacks[month].get(topic, 0)
            if not n:
                continue
            h = height * n / peak
            y -= h
            svg.append(f'<rect class="pc-bar" x="{x:.1f}" y="{y:.1f}" width="{bar}" height="{h:.1f}" '
                       f'fill="{colour[topic]}"><title>{escape(month)}, {escape(topic)}: {n}</title></rect>')
        svg.append(f'<text x="{x + bar / 2:.1f}" y="{y0 + 14}" font-size="11" text-anchor="end" '
                   f'transform="rotate(-40 {x + bar / 2:.1f} {y0 + 14})">{escape(month)}</text>')
    lx = left + len(months) * (bar + gap) + 20
    for i, topic in enumerate(top):
        ly = top_pad + 10 + i * 20
        svg.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{colour[topic]}"/>'
                   f'<text x="{lx + 18}" y="{ly}" font-size="12">{escape(topic)} ({totals_by_topic.get(topic, sum(s.get("other", 0) for s in stacks.values()))})</text>')
    svg.append("</svg>")
    return Markup("".join(svg))
