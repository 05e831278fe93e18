"""What an agent is handed: the fields of a Turn and, per game, the keys of ``turn.data``.

Generated from the declarations (``State.data_keys`` of each game, :data:`TURN_FIELDS`
here), printed by ``arena list data [GAME]``; tests check both against what a match
really hands an agent, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from arena.games.registry import parse_game

TURN_FIELDS = {
    "game_id": "the id of the game being played, e.g. prisoners-dilemma",
    "player": "your seat (0-based)",
    "rules": "the rules and the answer format (what an LLM gets as its system prompt)",
    "text": "the state and the history you may know, as text",
    "legal_actions": "the legal answers as strings, or None for a free-text answer",
    "data": "the same knowledge as structured data: the game's keys (arena list data GAME)",
    "deadline": "time.monotonic() by which to answer, or None",
    "match_id": "the match's id",
    "step": "the index of this decision in the match",
    "attempt": "0, then 1, 2, ... on re-asks after an illegal answer",
    "feedback": "on a re-ask: why the previous answer was refused",
    "state": "a copy of the rules State, only for agents that set needs_state (search); else None",
    "answer_pattern": "for free text: a regular expression every acceptable answer matches, or None",
}


def data_keys(game: str) -> dict[str, str]:
    """The declared ``turn.data`` keys of a game spec (``{}``: the game hands no structured data)."""
    return dict(type(parse_game(game).make(seed=0)).data_keys)
