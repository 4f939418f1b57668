"""Charts drawn on the server as inline SVG: no script, no font or file from anywhere else.

Bars only (days, levels); the numbers are printed beside each chart in a table.
"""
from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 40, 28, 12
BAR = "#2f7d5b"
AXIS = "#8a9590"


def _nice_top(value):
    """A round axis maximum at or above `value` (1, 2, 5, 10, 20, 50...)."""
    magnitude = 1
    while True:
        for top in (magnitude, 2 * magnitude, 5 * magnitude):
            if top >= value:
                return top
        magnitude *= 10


def bars(series, label, every=1):
    """An SVG bar chart of [(name, value)]; `label` describes it to screen readers; every `every`-th name shown."""
    plot_w, plot_h = WIDTH - MARGIN_LEFT - 8, HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    top = _nice_top(max((value for _, value in series), default=0))
    step = plot_w / max(len(series), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="sans-serif">',
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP + plot_h}" x2="{WIDTH - 8}" y2="{MARGIN_TOP + plot_h}" '
        f'stroke="{AXIS}"/>',
    ]
    for fraction in (0, 0.5, 1):
        y = MARGIN_TOP + plot_h * (1 - fraction)
        parts.append(f'<text x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{AXIS}">'
                     f'{top * fraction:g}</text>')
    for i, (name, value) in enumerate(series):
        height = plot_h * value / top
        x = MARGIN_LEFT + i * step
        parts.append(f'<rect x="{x + step * 0.12:.1f}" y="{MARGIN_TOP + plot_h - height:.1f}" '
                     f'width="{step * 0.76:.1f}" height="{height:.1f}" fill="{BAR}">'
                     f'<title>{escape(name)}: {value}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="{AXIS}">'
                         f'{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
