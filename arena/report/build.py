"""The HTML report of a run (or of every run in a store): one self-contained file.

Sections: leaderboard, multi-player ratings, win-rate heatmaps, Elo over games, one table
per game spec (:mod:`arena.report.sections`), one table per analysis the games' hooks return
(with the games' metric columns in the leaderboards; :mod:`arena.games.analysis`), the list
of matches, every match's transcript with a visual replay where its game has a visual
(:mod:`arena.report.replays`), and the results document rendered generically.  Jinja2
templates (autoescape) under ``templates/``, charts from matplotlib as inline SVG,
python-chess SVG boards, a few lines of the page's own script, and a Content-Security-Policy
that forbids everything else.

Size. Each text field of a transcript is cut to ``FIELD_LIMIT`` characters, and to
``BIG_FIELD_LIMIT`` when the report covers more than ``BIG_STORE`` matches (the store keeps
the full text); matches get a visual replay until the report holds ``MAX_REPLAY_FRAMES`` frames
(later ones keep the text transcript).  The file is
written as it is rendered (transcripts are read one match at a time) and renamed into
place at the end, so a failed build never leaves half a report.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.atomic import atomic_write
from arena.report import sections
from arena.report.page import environment
from arena.store import Store
from arena.tournaments.rating_options import RatingOptions
from arena.tournaments.ratings import Result
from arena.tournaments.replicates import Stored, collapse, stored_results
from arena.trajectory import Outcome, Player, Trajectory

log = logging.getLogger(__name__)

BIG_STORE = 2000
FIELD_LIMIT = 50_000
BIG_FIELD_LIMIT = 2_000
MAX_REPLAY_FRAMES = 5000  # frames of visual replays per report (a chess frame is ~10 kB)


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


def build_report(store: Store | str | Path, out: str | Path, run_id: str | None = None, *,
                 rating: RatingOptions | None = None, seed: int = 0) -> Path:
    """Write the HTML report of ``run_id`` (every run when None) of a store (or a store's path) to
    ``out``; returns its path.  ``rating``: the fit, as ``arena leaderboard`` takes it (default: the mean
    rating is 1500, 1000 bootstrap replicates); ``seed``: the bootstrap's."""
    if not isinstance(store, Store):
        store = Store(store, must_exist=True)
    out, rating = Path(out), rating or RatingOptions()
    matches = list_matches(store, run_id)
    stored = stored_results(store, run_id)  # read once: the document and the sections share it
    results, keys, _ = stored
    limit = BIG_FIELD_LIMIT if len(matches) > BIG_STORE else FIELD_LIMIT
    document = results_document(store, run_id, stored, rating, seed)
    distinct = collapse(results, keys)[0]
    context = {**header(store, run_id, matches, limit),
               "summary": summary(results, distinct, document, rating, seed) if document else None,
               "match_table": match_table(matches), "transcripts": transcripts(store, matches, limit),
               "analyses": sections.analysis_section((document or {}).get("analyses", []), slug),
               "document": sections.generic(document) if document else None}
    with atomic_write(out) as fh:
        for chunk in environment().get_template("page.html.j2").generate(**context):
            fh.write(chunk)
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


def slug(value: str) -> str:
    """A fragment id for ``value`` (kept readable when it already is)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in value)
    return safe if safe == value else f"{safe}-{hashlib.sha1(value.encode()).hexdigest()[:6]}"


def match_anchor(match_id: str) -> str:
    return "m-" + slug(match_id)


def result_text(players: list[Player], o: Outcome | None, detail: str = "") -> tuple[str, str, str]:
    """(scores, winner, how it ended) of a match."""
    if o is None:
        return "–", "–", f"error: {detail}"
    names = {p.seat: p.name for p in players}
    best = [s for s, r in enumerate(o.ranks) if r == min(o.ranks)]
    winner = "draw" if len(best) > 1 else names.get(best[0], f"seat {best[0]}")
    how = o.reason if o.forfeited_by is None else f"{o.reason} by {names.get(o.forfeited_by, o.forfeited_by)}"
    scores = " – ".join(f"{s:.2f}".rstrip("0").rstrip(".") for s in o.scores)
    return scores, winner, how + (f": {o.detail}" if o.detail else "")


def players_text(players: list[Player]) -> str:
    return " vs ".join(p.name for p in sorted(players, key=lambda p: p.seat))


# --- sections ------------------------------------------------------------------
def header(store: Store, run_id: str | None, matches: list[MatchRow], limit: int) -> dict[str, Any]:
    failed = sum(m.status == "error" for m in matches)
    lines = []
    for rid in [run_id] if run_id else [r for r, _, _ in store.runs()]:
        cfg = store.run_config(rid)
        lines.append(f"run {rid}: games {', '.join(cfg.get('games', []))}; agents {', '.join(cfg.get('agents', []))}; "
                     f"schedule {cfg.get('schedule')}, {cfg.get('games_per_pair')} per pairing, seed "
                     f"{cfg.get('seed')}; {store.count(rid, 'pending')} pending")
    from arena.report.visuals import page_defs
    return {"title": f"arena report — {run_id or 'all runs'}",
            "heading": f"arena report — {'run ' + run_id if run_id else 'all runs'}", "run_lines": lines,
            "finished": len(matches) - failed, "failed": failed, "big": limit < FIELD_LIMIT, "total": len(matches),
            "big_store": BIG_STORE, "limit": limit,
            "page_defs": page_defs(m.game for m in matches)}


def summary(results: list[Result], distinct: list[Result], document: dict[str, Any], rating: RatingOptions,
            seed: int) -> dict[str, Any]:
    """The rating sections, drawn from the results ``document`` (the numbers ``arena leaderboard`` prints:
    replicate matches counted once) over ``distinct``, the matches left when replicates count once."""
    from arena.tournaments.analyses import metric_columns
    rows = sections.document_rows(document["leaderboard"])
    per_game = sections.per_game_section(document["games"], distinct, rating, seed, slug,
                                         lambda game: metric_columns([game]))
    return {"leaderboard": sections.leaderboard_section(rows, rating, metric_columns([r[1] for r in results])),
            "multiplayer": sections.multiplayer_section(document) if "plackett_luce" in document else None,
            "heatmap": sections.heatmap_section(document["win_matrix"], [r["agent"] for r in rows]),
            "elo": sections.elo_section(results), "per_game": per_game}


def results_document(store: Store, run_id: str | None, stored: Stored, rating: RatingOptions,
                     seed: int) -> dict[str, Any] | None:
    """The results document (``arena leaderboard --json``) of the ``stored`` results, None when there is
    nothing to rate; a bad option (an anchor that is not an agent) is a ValueError."""
    if not stored[0]:
        return None
    from arena.tournaments.summary import store_document
    return store_document(store, run_id, stored, seed=seed, **rating.fit_args())


def match_table(matches: list[MatchRow]) -> dict[str, Any]:
    rows = []
    for n, m in enumerate(matches, 1):
        scores, winner, how = result_text(m.players, m.outcome, m.detail)
        rows.append([{"text": m.match_id, "href": f"#{match_anchor(m.match_id)}"}, str(n), m.game, players_text(m.players), scores, winner, how])
    heads = ["match", "#", "game", "players (seat order)", "scores", "winner", "how it ended"]
    return sections.table(heads, rows, "match-list", left=(0, 2, 3, 5, 6))


def transcripts(store: Store, matches: list[MatchRow], limit: int) -> Iterator[dict[str, Any]]:
    """One template context per match, reading each trajectory only when the page reaches it."""
    frames = 0
    for m in matches:
        if m.status != "done":
            yield {"failed": True, "anchor": match_anchor(m.match_id), "id": m.match_id, "detail": m.detail}
            continue
        traj = store.trajectory(m.match_id)
        visual = frames + len(traj.steps) + 1 <= MAX_REPLAY_FRAMES
        frames += (len(traj.steps) + 1) * visual
        yield transcript(traj, limit, visual)


def transcript(traj: Trajectory, limit: int, visual: bool = True) -> dict[str, Any]:
    from arena.report.replays import build_replay
    scores, winner, how = result_text(traj.players, traj.outcome)
    seats = ", ".join(f"seat {p.seat}: {p.name} ({p.spec})" for p in sorted(traj.players, key=lambda p: p.seat))
    meta = (f"seed {traj.seed}; config {json.dumps(traj.game_config, sort_keys=True)}; {seats}; "
            f"{len(traj.steps)} steps in {max(traj.finished - traj.started, 0.0):.2f} s")
    metrics = traj.outcome.metrics if traj.outcome else {}
    return {"failed": False, "anchor": match_anchor(traj.match_id), "id": traj.match_id, "game": traj.game,
            "players": players_text(traj.players), "scores": scores, "winner": winner, "how": how, "meta": meta,
            "names": {p.seat: p.name for p in traj.players}, "steps": traj.steps, "limit": limit,
            "metrics": json.dumps(metrics, sort_keys=True, default=str) if metrics else "",
            "replay": build_replay(traj) if visual else None,
            "replay_note": "" if visual else f"no visual replay: the report already holds {MAX_REPLAY_FRAMES} frames"}
