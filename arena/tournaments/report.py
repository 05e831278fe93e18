"""The HTML report of a run (or of every run in a store): one self-contained file.

Sections: leaderboard (Bradley–Terry ratings with 95% bootstrap intervals and rank
intervals, W/D/L, online Elo, per-agent move statistics; Plackett–Luce and OpenSkill
when a game has more than two players), observed and BT-predicted win-rate heatmaps,
online Elo after every match in schedule order, one table per game spec, the list of
matches and every match's transcript. No network: inline CSS, inline SVG drawn in
Python, a few lines of inline JavaScript (open the transcript a link points at), and a
Content-Security-Policy that forbids everything else. All game and agent text is
escaped (see :mod:`arena.tournaments.report_html`).

Size. Every finished match keeps its transcript. Each text field of a transcript
(observation, raw answer, refused attempt, message, completion, info) is cut to
``FIELD_LIMIT`` characters, and to ``BIG_FIELD_LIMIT`` when the report covers more than
``BIG_STORE`` matches, with a note saying how much was cut: the store keeps the full
text. The file is written as it is built (transcripts are read one match at a time) and
renamed into place at the end, so a failed build never leaves half a report.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from arena.store import Store
from arena.tournaments.bt import MEAN, bt_leaderboard, fit_bt, win_matrix
from arena.tournaments.core import DEFAULT_PRIOR
from arena.tournaments.plackett import openskill_ratings, pl_leaderboard
from arena.tournaments.ratings import Result, elo_history, leaderboard
from arena.tournaments.report_html import (Html, esc, forest_svg, heatmap_svg, join, line_chart_svg, page_close,
                                           page_open, slug, table, tag)
from arena.tournaments.stats import agent_stats
from arena.trajectory import Outcome, Player, Step, Trajectory

log = logging.getLogger(__name__)

BIG_STORE = 2000
FIELD_LIMIT = 50_000
BIG_FIELD_LIMIT = 2_000
MAX_POINTS = 400  # points per agent in the rating plot


@dataclass(frozen=True)
class Rating:
    """How ratings are computed: bootstrap replicates, seed, anchor (an agent, or MEAN: the mean is 1500)."""

    n_boot: int = 1000
    seed: int = 0
    anchor: str = MEAN
    prior: float = DEFAULT_PRIOR

    def within(self, results: Sequence[Result]) -> "Rating":
        """These options for a subset of the results (the mean anchor when the anchor agent is not in it)."""
        present = any(p.name == self.anchor for _, _, players, _ in results for p in players)
        return self if present or self.anchor == MEAN else replace(self, anchor=MEAN)

    def describe(self) -> str:
        where = "the mean rating" if self.anchor == MEAN else self.anchor
        return (f"Elo scale, {where} = 1500; 95% intervals and rank intervals from {self.n_boot} bootstrap "
                "resamples of whole matches")


@dataclass
class MatchRow:
    match_id: str
    run_id: str
    idx: int
    game: str
    players: list[Player]
    status: str  # done | error
    outcome: Outcome | None
    detail: str = ""


def build_report(store: Store, out: Path, run_id: str | None = None, *, n_boot: int = 1000, seed: int = 0,
                 anchor: str = MEAN, prior: float = DEFAULT_PRIOR) -> Path:
    """Write the HTML report of ``run_id`` (every run when None) to ``out``; returns its path.
    ``anchor``: the agent rated 1500 (default: the mean rating is 1500)."""
    out, rating = Path(out), Rating(n_boot, seed, anchor, prior)
    matches = list_matches(store, run_id)
    results = list(store.results(run_id))
    limit = BIG_FIELD_LIMIT if len(matches) > BIG_STORE else FIELD_LIMIT
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(page_open(f"arena report — {run_id or 'all runs'}"))
            fh.write(header(store, run_id, matches, limit))
            fh.write(summary_sections(store, run_id, results, rating))
            fh.write(match_list(matches))
            write_transcripts(fh, store, matches, limit)
            fh.write(page_close())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("report of %s: %d matches, %.1f MB -> %s", run_id or "all runs", len(matches),
             out.stat().st_size / 1e6, out)
    return out


# --- data ----------------------------------------------------------------------
def list_matches(store: Store, run_id: str | None) -> list[MatchRow]:
    """Finished and failed matches in schedule order (pending ones have nothing to show)."""
    sql = ("SELECT match_id, run_id, idx, game, players, status, outcome FROM matches "
           "WHERE status IN ('done', 'error')" + (" AND run_id = ?" if run_id else "") + " ORDER BY run_id, idx")
    rows = []
    for mid, rid, idx, game, players, status, outcome in store.db.execute(sql, (run_id,) if run_id else ()):
        data = json.loads(outcome) if outcome else {}
        seated = [Player(**p) for p in json.loads(players)]
        done = status == "done"
        rows.append(MatchRow(mid, rid, idx, game, seated, status, Outcome(**data) if done else None,
                             "" if done else str(data.get("detail", ""))))
    return rows


def thin(points: list[tuple[int, float]], most: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most ``most`` evenly spaced points, always keeping the first and the last."""
    if len(points) <= most:
        return points
    step = (len(points) - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]


def rated_rows(results: Sequence[Result], stats: dict[str, dict[str, Any]], rating: Rating) -> list[dict[str, Any]]:
    """Leaderboard rows in BT order (agents BT cannot rate last): BT, W/D/L, Elo, metrics, move stats."""
    bt = {r["agent"]: r for r in bt_leaderboard(results, n_boot=rating.n_boot, seed=rating.seed,
                                                anchor=rating.anchor, prior=rating.prior)}
    basic = {r["agent"]: r for r in leaderboard(list(results))}
    order = list(bt) + sorted(set(basic) - set(bt))
    return [{**basic.get(a, {}), **stats.get(a, {}), **bt.get(a, {}), "agent": a} for a in order]


# --- sections ------------------------------------------------------------------
def header(store: Store, run_id: str | None, matches: list[MatchRow], limit: int) -> Html:
    failed = sum(m.status == "error" for m in matches)
    runs = [run_id] if run_id else [r for r, _, _ in store.runs()]
    lines = [tag("h1", f"arena report — {'run ' + run_id if run_id else 'all runs'}")]
    for rid in runs:
        cfg = store.run_config(rid)
        lines.append(tag("p", f"run {rid}: games {', '.join(cfg.get('games', []))}; agents "
                              f"{', '.join(cfg.get('agents', []))}; schedule {cfg.get('schedule')}, "
                              f"{cfg.get('games_per_pair')} per pairing, seed {cfg.get('seed')}; "
                              f"{store.count(rid, 'pending')} pending", class_="note"))
    lines.append(tag("p", f"{len(matches) - failed} finished matches, {failed} failed (bugs, not rated)."))
    if limit < FIELD_LIMIT:
        lines.append(tag("p", f"Large report ({len(matches)} matches > {BIG_STORE}): every transcript is kept, "
                              f"each text field cut to {limit:,} characters (the store has the full text).",
                         class_="note"))
    links = [("leaderboard", "Leaderboard"), ("heatmap", "Win rates"), ("elo-plot", "Elo over games"),
             ("per-game", "Per game"), ("matches", "Matches")]
    lines.append(tag("nav", join(tag("a", text, href=f"#{key}") for key, text in links)))
    return join(lines)


def summary_sections(store: Store, run_id: str | None, results: list[Result], rating: Rating) -> Html:
    if not results:
        return tag("p", "No finished matches yet: nothing to rate.", id="leaderboard")
    stats = agent_stats(store, run_id)
    rows = rated_rows(results, stats, rating)
    parts = [leaderboard_section(rows, rating)]
    if any(len(players) > 2 for _, _, players, _ in results):
        parts.append(multiplayer_section(results, rating))
    parts += [heatmap_section(results, [r["agent"] for r in rows]), elo_section(results),
              per_game_section(results, rating)]
    return join(parts)


def _num(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _rating_cells(row: dict[str, Any]) -> list[str]:
    if "rating" not in row:
        return ["–", "–", "–"]
    return [f"{row['rating']:.0f}", f"[{row['ci_low']:.0f}, {row['ci_high']:.0f}]",
            f"{row['rank']} ({row['rank_low']}–{row['rank_high']})"]


def leaderboard_section(rows: list[dict[str, Any]], rating: Rating) -> Html:
    coop = any("cooperation_rate" in r.get("metrics", {}) for r in rows)
    heads = ["agent", "#", "BT rating", "95% CI", "rank (95%)", "games", "W", "D", "L", "mean score", "Elo",
             *(["coop"] if coop else []), "illegal", "fallback", "latency", "tokens"]
    body = []
    for i, r in enumerate(rows, 1):
        metric = r.get("metrics", {}).get("cooperation_rate")
        body.append([r["agent"], str(i), *_rating_cells(r), _num(r, "games", "d"), _num(r, "wins", "d"),
                     _num(r, "draws", "d"), _num(r, "losses", "d"), _num(r, "mean_score", ".2f"),
                     _num(r, "elo", ".0f"), *([("–" if metric is None else f"{metric:.0%}")] if coop else []),
                     _num(r, "illegal_rate", ".1%"), _num(r, "fallback_rate", ".1%"),
                     "–" if "mean_latency" not in r else f"{r['mean_latency'] * 1000:.0f} ms",
                     _num(r, "tokens", "d")])
    rated = [r for r in rows if "rating" in r]
    note = (f"Bradley–Terry ratings: {rating.describe()}. "
            "Elo: online, K=32, schedule order. illegal: refused answers / answers; fallback: moves decided "
            "by the fallback; latency: mean per answered move.")
    return join([tag("h2", "Leaderboard", id="leaderboard"),
                  tag("div", join([table(heads, body, id_="leaderboard-table"), forest_svg(rated)]), class_="flex"),
                  tag("p", note, class_="note")])


def multiplayer_section(results: list[Result], rating: Rating) -> Html:
    pl = pl_leaderboard(results, n_boot=rating.n_boot, seed=rating.seed, anchor=rating.anchor, prior=rating.prior)
    skill = {r["agent"]: r for r in openskill_ratings(results)}
    heads = ["agent", "PL rating", "95% CI", "rank (95%)", "games", "OpenSkill μ", "σ", "ordinal μ−3σ"]
    body = [[r["agent"], *_rating_cells(r), str(r["games"]), _num(skill.get(r["agent"], {}), "mu", ".2f"),
             _num(skill.get(r["agent"], {}), "sigma", ".2f"), _num(skill.get(r["agent"], {}), "ordinal", ".2f")]
            for r in pl]
    note = ("Plackett–Luce reads each full ranking (ties averaged over their orders), same Elo scale and "
            "anchor as Bradley–Terry; OpenSkill (Weng–Lin Plackett–Luce) is online, in schedule order.")
    return join([tag("h2", "Multi-player ratings: Plackett–Luce and OpenSkill", id="plackett-luce"),
                  tag("div", join([table(heads, body, id_="pl-table"), forest_svg(pl)]), class_="flex"),
                  tag("p", note, class_="note")])


def heatmap_section(results: list[Result], order: list[str]) -> Html:
    fit = fit_bt(results)
    wm = win_matrix(results, fit)
    agents = [a for a in order if a in wm.agents]
    at = [wm.agents.index(a) for a in agents]
    if len(agents) < 2:
        return tag("p", "Fewer than two rated agents: no win-rate matrix.", id="heatmap")
    observed, predicted, o_cap, p_cap, o_tip, p_tip = [], [], [], [], [], []
    for i in at:
        observed.append([float(wm.rate[i, j]) for j in at])
        predicted.append([float(wm.predicted[i, j]) for j in at])
        o_cap.append(["" if i == j or wm.games[i, j] == 0 else
                      f"{wm.rate[i, j]:.0%}\n[{wm.low[i, j]:.0%}–{wm.high[i, j]:.0%}]\nn={wm.games[i, j]:.0f}"
                      for j in at])
        p_cap.append(["" if i == j else f"{wm.predicted[i, j]:.0%}" for j in at])
        o_tip.append([f"{wm.agents[i]} vs {wm.agents[j]}: {wm.wins[i, j]:g} wins of {wm.games[i, j]:.0f}"
                      for j in at])
        p_tip.append([f"{wm.agents[i]} vs {wm.agents[j]}: BT P(win) {wm.predicted[i, j]:.3f}" for j in at])
    note = ("Row agent against column agent, all seat orders, ties count 1/2; observed rate with its Wilson 95% "
            "interval and the number of games, beside the Bradley–Terry prediction. Blue: row wins more.")
    return join([tag("h2", "Win rates", id="heatmap"),
                 tag("div", join([heatmap_svg(agents, observed, o_cap, o_tip, "observed win rate"),
                                  heatmap_svg(agents, predicted, p_cap, p_tip, "Bradley–Terry predicted",
                                              "heatmap-bt")]), class_="flex"),
                 tag("p", note, class_="note")])


def elo_section(results: list[Result]) -> Html:
    history = elo_history(results)
    final = {name: points[-1][1] for name, points in history.items()}
    series = {name: thin(history[name]) for name in sorted(final, key=lambda n: (-final[n], n))}
    chart = line_chart_svg(series, "matches played (schedule order)", "Elo", "online Elo after each match")
    return join([tag("h2", "Elo over games", id="elo-plot"), tag("div", chart, class_="elo-plot")])


def per_game_section(results: list[Result], rating: Rating) -> Html:
    parts = [tag("h2", "Per game", id="per-game")]
    for game in sorted({r[1] for r in results}):
        sub = [r for r in results if r[1] == game]
        local = rating.within(sub)
        rows = rated_rows(sub, {}, local)
        heads = ["agent", "#", "BT rating", "95% CI", "rank (95%)", "games", "W", "D", "L", "mean score", "Elo"]
        body = [[r["agent"], str(i), *_rating_cells(r), _num(r, "games", "d"), _num(r, "wins", "d"),
                 _num(r, "draws", "d"), _num(r, "losses", "d"), _num(r, "mean_score", ".2f"), _num(r, "elo", ".0f")]
                for i, r in enumerate(rows, 1)]
        parts += [tag("h3", f"{game} — {len(sub)} matches", id=f"game-{slug(game)}"), table(heads, body)]
        if any(len(players) > 2 for _, _, players, _ in sub):
            pl = pl_leaderboard(sub, n_boot=local.n_boot, seed=local.seed, anchor=local.anchor, prior=local.prior)
            parts.append(table(["agent", "PL rating", "95% CI", "rank (95%)", "games"],
                               [[r["agent"], *_rating_cells(r), str(r["games"])] for r in pl]))
    return join(parts)


# --- matches and transcripts ---------------------------------------------------
def match_anchor(match_id: str) -> str:
    return "m-" + slug(match_id)


def result_text(m: MatchRow) -> tuple[str, str, str]:
    """(scores, winner, how it ended) of a match row."""
    if m.outcome is None:
        return "–", "–", f"error: {m.detail}"
    o = m.outcome
    names = {p.seat: p.name for p in m.players}
    best = [s for s, r in enumerate(o.ranks) if r == min(o.ranks)]
    winner = "draw" if len(best) > 1 else names.get(best[0], f"seat {best[0]}")
    how = o.reason if o.forfeited_by is None else f"{o.reason} by {names.get(o.forfeited_by, o.forfeited_by)}"
    scores = " – ".join(f"{s:.2f}".rstrip("0").rstrip(".") for s in o.scores)
    return scores, winner, how + (f": {o.detail}" if o.detail else "")


def players_text(players: list[Player]) -> str:
    return " vs ".join(p.name for p in sorted(players, key=lambda p: p.seat))


def match_list(matches: list[MatchRow]) -> Html:
    rows = []
    for n, m in enumerate(matches, 1):
        scores, winner, how = result_text(m)
        link = tag("a", m.match_id, href=f"#{match_anchor(m.match_id)}")
        rows.append([link, str(n), m.game, players_text(m.players), scores, winner, how])
    heads = ["match", "#", "game", "players (seat order)", "scores", "winner", "how it ended"]
    return join([tag("h2", "Matches", id="matches"), table(heads, rows, id_="match-list", left=(0, 2, 3, 5, 6))])


def clip(text: str, limit: int) -> Html:
    if len(text) <= limit:
        return esc(text)
    return Html(esc(text[:limit]) + tag("span", f" … [{len(text) - limit:,} more characters not shown]",
                                        class_="note"))


def write_transcripts(fh: TextIO, store: Store, matches: list[MatchRow], limit: int) -> None:
    buttons = join([tag("button", "expand all", type="button", id="expand-all"), " ",
                    tag("button", "collapse all", type="button", id="collapse-all")])
    fh.write(join([tag("h2", "Transcripts", id="transcripts"), tag("p", buttons)]))
    for m in matches:
        if m.status != "done":
            fh.write(tag("div", f"{m.match_id}: failed — {m.detail}", id=match_anchor(m.match_id), class_="err"))
            continue
        fh.write(transcript(store.trajectory(m.match_id), limit))
        fh.write("\n")


def transcript(traj: Trajectory, limit: int) -> Html:
    row = MatchRow(traj.match_id, "", 0, traj.game, traj.players, "done", traj.outcome)
    scores, winner, how = result_text(row)
    names = {p.seat: p.name for p in traj.players}
    summary = tag("summary", join([tag("b", traj.match_id), f" · {traj.game} · {players_text(traj.players)} · "
                                   f"{scores} · winner {winner} · {how}"]))
    seats = ", ".join(f"seat {p.seat}: {p.name} ({p.spec})" for p in sorted(traj.players, key=lambda p: p.seat))
    meta = (f"seed {traj.seed}; config {json.dumps(traj.game_config, sort_keys=True)}; {seats}; "
            f"{len(traj.steps)} steps in {max(traj.finished - traj.started, 0.0):.2f} s")
    metrics = traj.outcome.metrics if traj.outcome else {}
    body = [tag("p", meta, class_="note"), *(step_html(s, names, limit) for s in traj.steps)]
    if metrics:
        body.append(tag("p", "metrics: " + json.dumps(metrics, sort_keys=True), class_="note"))
    return tag("details", join([summary, *body]), id=match_anchor(traj.match_id), class_="match")


def step_html(step: Step, names: dict[int, str], limit: int) -> Html:
    flag = tag("span", "fallback", class_="fb") if step.fallback else ""
    cost = f" · {step.tokens_in}+{step.tokens_out} tokens" if step.tokens_in or step.tokens_out else ""
    head = join([tag("b", f"#{step.index}"), f" {names.get(step.player, step.player)} (seat {step.player}) → ",
                 tag("code", step.action), " ", flag, f" · {step.latency * 1000:.1f} ms{cost}"])
    parts = [tag("div", head), tag("pre", clip(step.observation, limit))]
    if step.legal_actions is not None:
        parts.append(tag("div", join(["legal: ", clip(", ".join(step.legal_actions), limit)]), class_="note"))
    if step.raw and step.raw != step.action:
        parts.append(tag("div", join(["raw answer: ", tag("code", clip(step.raw, limit))])))
    if step.attempts:
        items = (tag("li", join([tag("code", clip(a.text, limit)), " — ", tag("span", clip(a.error, limit),
                                                                            class_="bad")]))
                 for a in step.attempts)
        parts.append(tag("div", join(["refused: ", tag("ol", join(items))])))
    if step.messages:
        msgs = (join([tag("b", str(msg.get("role", "?"))), tag("pre", clip(str(msg.get("content", "")), limit))])
                for msg in step.messages)
        parts.append(tag("details", join([tag("summary", f"LLM messages ({len(step.messages)})"), *msgs])))
    if step.completion is not None:
        parts.append(tag("details", join([tag("summary", "completion"), tag("pre", clip(step.completion, limit))])))
    if step.info:
        info = json.dumps(step.info, sort_keys=True, default=str)
        parts.append(tag("details", join([tag("summary", "info"), tag("pre", clip(info, limit))])))
    if step.rewards:
        parts.append(tag("div", "returns so far: " + ", ".join(f"{r:g}" for r in step.rewards), class_="note"))
    return tag("div", join(parts), class_="step")
