"""Charts of the report, drawn with matplotlib and inlined as SVG (no network, no script).

Every chart is a function from data to :class:`markupsafe.Markup` holding one ``<svg>``
element: matplotlib's SVG output with its XML prologue, metadata and namespace URLs
removed (an inline SVG in HTML needs none).  Text stays text (``svg.fonttype = none``) and
matplotlib escapes it, so agent names cannot become markup.  Series carry ids
``series-N`` so tests and readers can find them.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def _pyplot() -> Any:
    import matplotlib
    matplotlib.use("svg", force=False)
    matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "arena"})
    import matplotlib.pyplot as plt
    return plt


def to_svg(fig: Any) -> Markup:
    """The figure as one inline ``<svg>`` (the figure is closed).  matplotlib's ids are hashes of
    their content with a fixed salt, so two charts share an id only for the same definition."""
    plt = _pyplot()
    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)
    svg = _XMLNS.sub("", _METADATA.sub("", _PROLOGUE.sub("", buf.getvalue(), count=1)))
    return Markup(svg)


def _short(name: str, most: int) -> str:
    return name if len(name) <= most else name[:most - 1] + "…"


def forest(rows: Sequence[dict[str, Any]], label: str = "rating (Elo scale)",
           margin: float = 300.0) -> Markup:
    """Point ratings with 95% interval whiskers, best on top (keys agent, rating, ci_low, ci_high).
    The axis spans the intervals but at most ``margin`` beyond the point ratings."""
    if not rows:
        return Markup("")
    plt = _pyplot()
    points = [r["rating"] for r in rows]
    lo = min(min(points), max(min(r["ci_low"] for r in rows), min(points) - margin)) - 10
    hi = max(max(points), min(max(r["ci_high"] for r in rows), max(points) + margin)) + 10
    fig, ax = plt.subplots(figsize=(5.2, 0.5 + 0.28 * len(rows)))
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows):
        low, high = max(r["ci_low"], lo), min(r["ci_high"], hi)
        ax.errorbar([r["rating"]], [y], xerr=[[r["rating"] - low], [high - r["rating"]]], fmt="o",
                    color="#1f77b4", capsize=3, ms=4)
    ax.set_yticks(ys, [_short(r["agent"], 34) for r in rows])
    ax.set_xlim(lo, hi)
    ax.set_xlabel(label)
    ax.grid(axis="x", color="#eee")
    return to_svg(fig)


def heatmap(agents: Sequence[str], value: Sequence[Sequence[float]], caption: Sequence[Sequence[str]],
            title: str) -> Markup:
    """A K×K grid coloured by ``value`` (a probability; NaN = no data), row agent against column agent."""
    plt = _pyplot()
    k = len(agents)
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * k, 1.0 + 0.8 * k))
    grid = [[math.nan if i == j else value[i][j] for j in range(k)] for i in range(k)]
    cmap = plt.get_cmap("RdBu").with_extremes(bad="#dddddd")
    ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            v = value[i][j]
            dark = i != j and not math.isnan(v) and abs(v - 0.5) > 0.3
            ax.text(j, i, caption[i][j], ha="center", va="center", fontsize=7, color="white" if dark else "#222")
    names = [_short(a, 24) for a in agents]
    ax.set_xticks(range(k), names, rotation=40, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_title(title)
    return to_svg(fig)


def lines(series: dict[str, list[tuple[float, float]]], x_label: str, y_label: str, title: str,
          size: tuple[float, float] = (9.0, 4.2), step: bool = False) -> Markup:
    """One line per series (name -> [(x, y), ...]) with a legend; each line's group id is ``series-N``."""
    if not any(series.values()):
        return Markup("")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=size)
    styles = ("-", "--", ":", "-.")
    for n, (name, points) in enumerate(series.items()):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        (line,) = ax.plot(xs, ys, styles[(n // 10) % 4], label=_short(name, 40), lw=1.6,
                          marker="o" if step else None, ms=4, drawstyle="default")
        line.set_gid(f"series-{n}")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(color="#eee")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return to_svg(fig)
