"""Server-rendered SVG bar charts (no JavaScript, no library: a few rectangles)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, GAP, LABEL = 600, 200, 6, 18


def bar_chart(points: list[tuple[str, int]], *, title: str) -> SafeString:
    if not points:
        return format_html('<svg role="img" aria-label="{}" width="0" height="0"></svg>', title)
    peak = max(value for _label, value in points) or 1
    step = WIDTH / len(points)
    bars = []
    for index, (label, value) in enumerate(points):
        height = (HEIGHT - 2 * LABEL) * value / peak
        x = index * step + GAP / 2
        y = HEIGHT - LABEL - height
        centre = f"{x + (step - GAP) / 2:.1f}"
        bars.append(
            (
                f"{x:.1f}",
                f"{y:.1f}",
                f"{step - GAP:.1f}",
                f"{height:.1f}",
                centre,
                f"{y - 4:.1f}",
                value,
                centre,
                HEIGHT - 4,
                label,
            )
        )
    # format_html escapes every value, numbers included, so they are formatted beforehand.
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#2457d6"></rect>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text>',
        bars,
    )
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" class="chart">{}</svg>',
        title,
        WIDTH,
        HEIGHT,
        body,
    )
