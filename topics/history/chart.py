"""Charts as inline SVG, drawn on the server: no script, no style sheet, no library (the page's
Content-Security-Policy allows neither inline scripts nor inline styles, and an SVG's presentation attributes
are neither). Pure."""
from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 40, 28, 12


def bar_chart(bars: Sequence[tuple[str, int]], *, title: str, unit: str = "") -> str:
    """One bar per (label, value), with the value axis from 0 to the largest value; every bar has a <title>
    (its label and value) for screen readers and hovering. Labels on the axis for at most 16 of them."""
    top = max((value for _, value in bars), default=0) or 1
    plot_width, plot_height = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_width / max(len(bars), 1)
    every = max(1, -(-len(bars) // 16))  # ceil: at most 16 axis labels
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(title)}>',
             f"<title>{escape(title)}</title>",
             f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - 8}" y2="{TOP + plot_height}" '
             f'stroke="#8a94a6" stroke-width="1"/>',
             f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="10" fill="#4a5568">{top}</text>',
             f'<text x="{LEFT - 6}" y="{TOP + plot_height}" text-anchor="end" font-size="10" fill="#4a5568">0</text>']
    for index, (label, value) in enumerate(bars):
        height = plot_height * value / top
        x = LEFT + index * step
        parts.append(f'<rect class="bar" x="{x + step * 0.1:.1f}" y="{TOP + plot_height - height:.1f}" '
                     f'width="{step * 0.8:.1f}" height="{height:.1f}" fill="#3b6fb6">'
                     f"<title>{escape(f'{label}: {value}{unit}')}</title></rect>")
        if index % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" font-size="9" '
                         f'fill="#4a5568">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
