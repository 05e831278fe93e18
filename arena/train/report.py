"""The self-play training report: one self-contained HTML file (Jinja2 page, matplotlib charts as inline
SVG, no network): loss and reward-margin curves per iteration, ranking accuracy before/after, scores
with 95% CIs against each anchor per iteration (iteration 0 = the base model), the head-to-head and
its SPRT verdict, pair counts and why decision points gave no pair."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from arena.export.rows import EXPLAIN

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>self-play: {{ game }}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}
.better{color:#070;font-weight:bold}.notbetter{color:#a00;font-weight:bold}</style></head><body>
<h1>Self-play on {{ game }}</h1>
<p>Base model {{ options.base }}; anchors {{ anchors|join(", ") }}; {{ seeds }} fresh evaluation seeds, each a
mirrored pair (same seed, seats swapped); 95% bootstrap intervals over pairs; loss {{ options.loss }},
{{ options.steps }} steps per iteration, values from {{ options.rollout }}.</p>
<h2>Scores against the anchors (mean payoff per pair)</h2>
<table><tr><th>opponent</th>{% for c in score_cols %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in score_rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>
{{ score_svg }}
<h2>Head-to-head: tuned vs base</h2>
<table><tr><th>iteration</th><th>pairs</th><th>payoff (95% CI)</th><th>score</th><th>SPRT LLR [bounds]</th>
<th>verdict</th></tr>{% for h in h2h %}<tr><td>{{ h.it }}</td><td>{{ h.pairs }}</td><td>{{ h.payoff }}</td>
<td>{{ h.score }}</td><td>{{ h.llr }}</td><td class="{{ h.css }}">{{ h.verdict }}</td></tr>{% endfor %}</table>
<h2>Training</h2>
<table><tr><th>iteration</th><th>pairs (train/test)</th><th>steps</th><th>final loss</th>
<th>ranking accuracy before → after</th><th>TRL reward accuracy (test)</th><th>adapter MB</th></tr>
{% for t in training %}<tr><td>{{ t.it }}</td><td>{{ t.pairs }}</td><td>{{ t.steps }}</td><td>{{ t.loss }}</td>
<td>{{ t.ranking }}</td><td>{{ t.reward }}</td><td>{{ t.mb }}</td></tr>{% endfor %}</table>
{{ loss_svg }}
<h2>Pairs: kept and dropped</h2>
<table><tr><th>iteration</th><th>decision points</th><th>pairs</th><th>merged duplicates</th><th>why others gave none</th>
</tr>{% for p in pairs %}<tr><td>{{ p.it }}</td><td>{{ p.points }}</td><td>{{ p.pairs }}</td><td>{{ p.dups }}</td>
<td style="text-align:left">{{ p.why }}</td></tr>{% endfor %}</table>
</body></html>"""


def _ci(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("pairs", 0) == 0 or math.isnan(entry.get("payoff", entry.get("mean", math.nan))):
        return "-"
    value = entry.get("payoff", entry.get("mean"))
    lo, hi = entry["ci"]
    return f"{value:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _charts(summary: dict[str, Any]) -> tuple[str, str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    its = summary["iterations"]
    fig, ax = plt.subplots(figsize=(6, 3))
    for anchor in summary["anchors"]:
        points = [(0, summary["base"][anchor])] + [(r["iteration"], r["vs"][anchor]) for r in its if r.get("vs")]
        xs = [x for x, _ in points]
        ys = [e["payoff"] for _, e in points]
        err = [[e["payoff"] - e["ci"][0] for _, e in points], [e["ci"][1] - e["payoff"] for _, e in points]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=4, label=f"vs {anchor}")
    ax.set_xlabel("iteration (0 = base model)")
    ax.set_ylabel("mean payoff per pair")
    ax.axhline(0, color="#999", lw=0.5)
    ax.legend()
    score = _svg(fig)
    plt.close(fig)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
    for r in its:
        if r.get("train"):
            left.plot(range(1, len(r["train"]["losses"]) + 1), r["train"]["losses"], label=f"iter {r['iteration']}")
            right.plot(range(1, len(r["train"]["reward_margins"]) + 1), r["train"]["reward_margins"],
                       label=f"iter {r['iteration']}")
    left.set_title("training loss")
    right.set_title("reward margin (chosen - rejected)")
    for ax in (left, right):
        ax.set_xlabel("step")
        ax.legend()
    losses = _svg(fig)
    plt.close(fig)
    return score, losses


def _fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def write_report(summary: dict[str, Any], path: str | Path) -> Path:
    from jinja2 import Environment
    its = summary["iterations"]
    cols = ["base (iteration 0)"] + [f"iteration {r['iteration']}" for r in its] + [
        f"change at iteration {r['iteration']}" for r in its]
    score_rows = [[a, _ci(summary["base"][a])] + [_ci(r.get("vs", {}).get(a)) for r in its] +
                  [_ci(r.get("vs", {}).get(a, {}).get("change")) for r in its] for a in summary["anchors"]]
    h2h = []
    for r in its:
        h = r.get("head_to_head")
        if h:
            s = h["sprt"]
            h2h.append({"it": r["iteration"], "pairs": h["pairs"], "payoff": _ci(h), "score": _fmt(h["score"]),
                        "llr": f"{s['llr']:.2f} [{s['lower']:.2f}, {s['upper']:.2f}]", "verdict": s["verdict"],
                        "css": s["verdict"].replace(" ", "")})
    training = []
    for r in its:
        t = r.get("train")
        if t:
            ra = t["ranking_accuracy"]
            training.append({"it": r["iteration"], "pairs": f"{t['trained_pairs']}/{t['test_pairs']}",
                             "steps": t["steps"], "loss": _fmt(t["losses"][-1] if t["losses"] else None, ".4f"),
                             "ranking": f"{_fmt(ra['before'])} → {_fmt(ra['after'])} ({ra['pairs']} pairs)",
                             "reward": _fmt(t["eval"].get("eval_rewards/accuracies")), "mb": _fmt(t["size_mb"], ".1f")})
    pairs = [{"it": r["iteration"], "points": r["export"].get("decision_points", 0), "pairs": r["pairs"],
              "dups": r["export"].get("duplicates_merged", 0),
              "why": "; ".join(f"{r['export'][k]} {text}" for k, (text, _) in EXPLAIN.items() if r["export"].get(k))
              or "-"} for r in its]
    score_svg, loss_svg = _charts(summary)
    html = Environment(autoescape=True).from_string(PAGE).render(
        game=summary["game"], options=summary["options"], anchors=summary["anchors"], seeds=len(summary["eval_seeds"]),
        score_cols=cols, score_rows=score_rows, h2h=h2h, training=training, pairs=pairs,
        score_svg=_markup(score_svg), loss_svg=_markup(loss_svg))
    out = Path(path)
    out.write_text(html, encoding="utf-8")
    return out


def _markup(svg: str) -> Any:
    from markupsafe import Markup
    return Markup(svg)
