"""HTML and SVG building blocks of the report: escaping, tables, charts, the page shell.

Everything here returns :class:`Html` (markup that is safe to concatenate). Plain
``str`` values handed to :func:`table`, :func:`tag` and the charts are *text*: they are
always escaped with :func:`html.escape`, so agent names, specs and game text can never
become markup. Charts are inline SVG drawn here (no JavaScript library, no network).
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections.abc import Iterable, Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22", "#393b79", "#e7969c")
DASHES = ("", "6 3", "2 2", "8 3 2 3")

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:0 16px;color:#222}
h1{margin:.6em 0 .2em}h2{border-bottom:2px solid #ddd;margin-top:1.6em}
table{border-collapse:collapse;margin:.4em 0}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td{white-space:nowrap}td.t,th.t{text-align:left;white-space:normal}
.flex{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.note{color:#666;font-size:12px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:4px 6px;margin:2px 0;
max-height:30em;overflow:auto}
details{margin:2px 0}summary{cursor:pointer}
details.match{border:1px solid #ddd;border-radius:4px;padding:2px 8px;margin:4px 0}
details.match:target{border-color:#1f77b4;box-shadow:0 0 0 2px #1f77b4}
.step{border-left:3px solid #ccc;padding-left:8px;margin:6px 0}
.bad{color:#b00}.fb{background:#fde2c8;padding:0 4px}
.err{color:#b00;font-weight:bold}
nav a{margin-right:12px}
#match-list td:first-child{white-space:nowrap}
svg text{font:11px system-ui,sans-serif}
"""

JS = """
function openTarget(){var t=document.getElementById(decodeURIComponent(location.hash.slice(1)));
if(t&&t.tagName==='DETAILS'){t.open=true;t.scrollIntoView();}}
function setAll(open){document.querySelectorAll('details.match').forEach(function(d){d.open=open;});}
function onClick(id,f){var b=document.getElementById(id);if(b){b.addEventListener('click',f);}}
window.addEventListener('hashchange',openTarget);
document.addEventListener('DOMContentLoaded',function(){openTarget();
onClick('expand-all',function(){setAll(true);});onClick('collapse-all',function(){setAll(false);});});
"""


class Html(str):
    """Markup that is already safe; any other ``str`` is text and gets escaped."""


def esc(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object]) -> Html:
    return Html("".join(esc(p) for p in parts))


def tag(name: str, content: object = "", **attrs: object) -> Html:
    """``<name attrs>content</name>``; attribute values and text content are escaped."""
    text = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None)
    return Html(f"<{name}{text}>{esc(content)}</{name}>")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], id_: str | None = None,
          left: Sequence[int] = (0,)) -> Html:
    """A table; the columns numbered in ``left`` hold text (left aligned), the others numbers."""
    def cells(row: Sequence[object], cell: str) -> Html:
        return join(tag(cell, v, class_="t" if i in left else None) for i, v in enumerate(row))
    head = tag("tr", cells(headers, "th"))
    return tag("table", join([head, *(tag("tr", cells(r, "td")) for r in rows)]), id=id_)


def slug(value: str) -> str:
    """A fragment id for ``value`` (kept readable when it already is)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in value)
    return safe if safe == value else f"{safe}-{hashlib.sha1(value.encode()).hexdigest()[:6]}"


def page_open(title: str) -> Html:
    """The document up to the opening body tag (the caller streams the body, then :func:`page_close`).
    The CSP allows only inline styles and this page's own script, so even markup that slipped through
    escaping could neither run nor load anything."""
    digest = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:"
    return Html(f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
                f'<meta name="viewport" content="width=device-width">{tag("title", title)}'
                f"<style>{CSS}</style><script>{JS}</script></head><body>\n")


def page_close() -> Html:
    return Html("</body></html>\n")


# --- colours ---------------------------------------------------------------------
def rate_colour(p: float) -> str:
    """Diverging scale: red (0) .. white (0.5) .. blue (1); light grey for no data."""
    if p is None or math.isnan(p):
        return "#eeeeee"
    p = min(max(p, 0.0), 1.0)
    end = (33, 102, 172) if p >= 0.5 else (178, 24, 43)
    t = abs(p - 0.5) * 2
    r, g, b = (round(255 + (c - 255) * t) for c in end)
    return f"#{r:02x}{g:02x}{b:02x}"


def series_style(k: int) -> tuple[str, str]:
    return PALETTE[k % len(PALETTE)], DASHES[(k // len(PALETTE)) % len(DASHES)]


def _svg(width: float, height: float, body: str, label: str) -> Html:
    return Html(f'<svg width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
                f'role="img" aria-label="{esc(label)}">{body}</svg>')


def _text(x: float, y: float, value: object, anchor: str = "start", extra: str = "", tip: str = "") -> str:
    title = f"<title>{esc(tip)}</title>" if tip else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{esc(value)}{title}</text>'


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    raw = (hi - lo) / max(n, 1) or 1.0
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if step * m >= raw)
    return [step * i for i in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


# --- charts ----------------------------------------------------------------------
def forest_svg(rows: Sequence[dict], label: str = "rating (Elo scale)", margin: float = 300.0) -> Html:
    """Point ratings with interval whiskers, one line per row (keys agent, rating, ci_low, ci_high).
    The axis spans the intervals but at most ``margin`` beyond the point ratings; whiskers cut by
    the axis end in an arrow head."""
    if not rows:
        return Html("")
    points = [r["rating"] for r in rows]
    lo = min(min(points), max(min(r["ci_low"] for r in rows), min(points) - margin))
    hi = max(max(points), min(max(r["ci_high"] for r in rows), max(points) + margin))
    lo, hi = (lo - 10, hi + 10) if hi - lo < 20 else (lo, hi)
    left, width, line = 230, 360, 20
    height = 40 + line * len(rows)
    x = lambda v: left + (min(max(v, lo), hi) - lo) / (hi - lo) * width  # noqa: E731
    out = []
    for t in _ticks(lo, hi):
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="8" y2="{height - 24}" stroke="#eee"/>')
        out.append(_text(x(t), height - 10, f"{t:.0f}", "middle"))
    for i, r in enumerate(rows):
        y = 18 + i * line
        colour = PALETTE[0]
        name = r["agent"] if len(r["agent"]) <= 34 else r["agent"][:33] + "…"
        out.append(_text(left - 8, y + 4, name, "end", tip=r["agent"]))
        out.append(f'<line x1="{x(r["ci_low"]):.1f}" x2="{x(r["ci_high"]):.1f}" y1="{y}" y2="{y}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        for end, cut, sign in ((r["ci_low"], r["ci_low"] < lo, -1), (r["ci_high"], r["ci_high"] > hi, 1)):
            xe = x(end)
            arrow = f'<path d="M{xe + 6 * sign:.1f},{y} l{-6 * sign},-4 v8 z" fill="{colour}"/>'
            cap = f'<line x1="{xe:.1f}" x2="{xe:.1f}" y1="{y - 4}" y2="{y + 4}" stroke="{colour}" stroke-width="2"/>'
            out.append(arrow if cut else cap)
        out.append(f'<circle cx="{x(r["rating"]):.1f}" cy="{y}" r="4" fill="{colour}">'
                   f'<title>{esc(r["agent"])}: {r["rating"]:.0f} [{r["ci_low"]:.0f}, {r["ci_high"]:.0f}]</title>'
                   f'</circle>')
    out.append(_text(left + width / 2, height, label, "middle"))
    return _svg(left + width + 20, height + 4, "".join(out), f"ratings with 95% intervals: {label}")


def heatmap_svg(agents: Sequence[str], value: Sequence[Sequence[float]], caption: Sequence[Sequence[str]],
                tooltip: Sequence[Sequence[str]], title: str, css_class: str = "heatmap") -> Html:
    """A K×K grid coloured by ``value`` (a probability; NaN = no data), row agent vs column agent."""
    k, cell, left, top = len(agents), 78, 170, 120
    short = [a if len(a) <= 24 else a[:23] + "…" for a in agents]
    out = [_text(left, 14, title, "start", ' font-weight="bold"')]
    for j, name in enumerate(short):
        cx = left + j * cell + cell / 2
        out.append(f'<text transform="translate({cx:.1f},{top - 6}) rotate(-40)">{esc(name)}'
                   f'<title>{esc(agents[j])}</title></text>')
    for i in range(k):
        y = top + i * cell
        out.append(_text(left - 6, y + cell / 2 + 4, short[i], "end", tip=agents[i]))
        for j in range(k):
            xx, v = left + j * cell, value[i][j]
            fill = "#cccccc" if i == j else rate_colour(v)
            dark = not math.isnan(v) and abs(v - 0.5) > 0.3 and i != j
            colour = "#fff" if dark else "#222"
            out.append(f'<rect x="{xx}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                       f'<title>{esc(tooltip[i][j])}</title></rect>')
            lines = caption[i][j].split("\n")
            for n, line in enumerate(lines):
                size = ' font-size="13" font-weight="bold"' if n == 0 else ' font-size="10"'
                yy = y + cell / 2 - 6 * (len(lines) - 1) + 13 * n + 4
                out.append(_text(xx + cell / 2 - 1, yy, line, "middle", f'{size} fill="{colour}"'))
    size = left + k * cell + 10
    return Html(f'<div class="{esc(css_class)}">'
                f'{_svg(size, top + k * cell + 10, "".join(out), title)}</div>')


def line_chart_svg(series: dict[str, list[tuple[float, float]]], x_label: str, y_label: str,
                   title: str) -> Html:
    """One polyline per series (name -> [(x, y), ...]) with axes, grid and a legend on the right."""
    pts = [p for s in series.values() for p in s]
    if not pts:
        return Html("")
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    pad = max((y1 - y0) * 0.05, 10.0)
    x1, y0, y1 = (x1 if x1 > x0 else x0 + 1), y0 - pad, y1 + pad
    left, top, w, h = 56, 24, 720, 340
    fx = lambda v: left + (v - x0) / (x1 - x0) * w  # noqa: E731
    fy = lambda v: top + h - (v - y0) / (y1 - y0) * h  # noqa: E731
    out = [_text(left, 14, title, "start", ' font-weight="bold"')]
    for t in _ticks(y0, y1):
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{fy(t):.1f}" y2="{fy(t):.1f}" stroke="#eee"/>')
        out.append(_text(left - 6, fy(t) + 4, f"{t:.0f}", "end"))
    for t in _ticks(x0, x1, 8):
        out.append(_text(fx(t), top + h + 16, f"{t:.0f}", "middle"))
    out.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    for k, (name, points) in enumerate(series.items()):
        colour, dash = series_style(k)
        path = " ".join(f"{fx(a):.1f},{fy(b):.1f}" for a, b in points)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"'
                   f'{dash_attr}><title>{esc(name)}</title></polyline>')
        ly = top + 8 + 18 * k
        out.append(f'<line x1="{left + w + 14}" x2="{left + w + 40}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2.5"{dash_attr}/>')
        out.append(_text(left + w + 46, ly + 4, name if len(name) <= 40 else name[:39] + "…"))
    out.append(_text(left + w / 2, top + h + 34, x_label, "middle"))
    out.append(f'<text transform="translate(14,{top + h / 2}) rotate(-90)" text-anchor="middle">{esc(y_label)}</text>')
    height = max(top + h + 42, top + 18 * len(series) + 10)
    return _svg(left + w + 330, height, "".join(out), title)
