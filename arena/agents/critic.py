"""The AI-critic feedback loop: ``critic:INNER[|CRITIC]`` wraps any agent.

After each game a critic LLM reads what the wrapped player saw (its own final
observation: no private information of the other side) and the result, and writes
short advice; the advice and the previous transcripts are added to the wrapped
player's rules text in its next game against the same opponents in the same game
(in-context learning from AI feedback, as in Fu et al., 2023).  Memory lives in this
process, keyed by (agent name, game, opponents): run with ``successive = true`` and
one worker so the games of a pair are played in order.  ``CRITIC`` is an LLM agent
spec (default: the wrapped agent's own model when it is an LLM, else local:smollm2).

Accounting: a critic call happens after a game, when no decision is left to carry it, so
its tokens and cost are added to the first decision of the next game that reads its
advice (``info["critic_calls"]`` counts them there). A failing critic (provider error,
empty answer) costs the match nothing: it is logged and recorded as a downgrade on that
same decision ("critic failed: ..."), and that game brings no advice.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from arena.agents.base import Decision, Turn, ask, reset_agent
from arena.redact import redact

Key = tuple[str, str, tuple[str, ...]]
MEMORY: dict[Key, list[dict[str, str]]] = {}
#: Critic calls not yet charged to a decision: {"tokens_in", "tokens_out", "cost", "error"} each.
UNCHARGED: dict[Key, list[dict[str, Any]]] = {}
log = logging.getLogger("arena.critic")
COACH = ("You are an expert negotiation coach. Below is what your student saw in one game and how it ended. "
         "Give three short, concrete suggestions that would get the student a better result next time. "
         "Answer with the three suggestions only.")


class CriticAgent:
    def __init__(self, inner: Any, critic: Any, history: int = 3) -> None:
        self.inner, self.critic, self.history = inner, critic, history
        self.needs_state = getattr(inner, "needs_state", False)
        self.key: Key | None = None

    def reset(self, match_info: dict[str, Any]) -> None:
        names = list(match_info.get("players", []))
        me = names[match_info["player"]] if names else "agent"
        self.key = (me, str(match_info.get("game")), tuple(n for i, n in enumerate(names) if i != match_info["player"]))
        reset_agent(self.inner, match_info)

    def lessons(self) -> str:
        past = MEMORY.get(self.key, []) if self.key else []
        if not past:
            return ""
        parts = [f"Game {i + 1} (what you saw):\n{p['transcript']}\nCoach's advice:\n{p['feedback']}"
                 for i, p in enumerate(past[-self.history:])]
        return "\n\nYour previous games against this opponent, with a coach's advice:\n\n" + "\n\n".join(parts)

    async def aact(self, turn: Turn) -> Decision:
        decision = await ask(self.inner, replace(turn, rules=turn.rules + self.lessons()))
        decision.info = {**decision.info, "critic_lessons": len(MEMORY.get(self.key, [])) if self.key else 0}
        calls = UNCHARGED.pop(self.key, []) if self.key else []
        for call in calls:
            decision.tokens_in += call["tokens_in"]
            decision.tokens_out += call["tokens_out"]
            decision.cost += call["cost"]
            if call["error"]:
                decision.downgrades.append(f"critic failed: {call['error']}"[:300])
        if calls:
            decision.info["critic_calls"] = len(calls)
        return decision

    async def afinish(self, result: dict[str, Any]) -> None:
        if self.key is None:
            return
        seat, outcome = result["player"], result["outcome"]
        transcript = (f"Rules and private information:\n{result['rules']}\n\nThe game:\n{result['final_observation']}\n"
                      f"Your final score: {outcome.scores[seat]:g}.")
        messages = [{"role": "system", "content": COACH}, {"role": "user", "content": transcript}]
        try:
            done = await self.critic.backend.complete(messages, max_tokens=160, temperature=0.0, seed=0)
        except Exception as err:  # noqa: BLE001 - the game is over and kept; the next one goes without advice
            why = redact(f"{type(err).__name__}: {err}")
            log.warning("critic for %s failed: %s", result.get("match_id"), why)
            UNCHARGED.setdefault(self.key, []).append({"tokens_in": 0, "tokens_out": 0, "cost": 0.0, "error": why})
            return
        MEMORY.setdefault(self.key, []).append({"transcript": transcript, "feedback": done.text.strip()})
        UNCHARGED.setdefault(self.key, []).append({"tokens_in": done.tokens_in, "tokens_out": done.tokens_out,
                                                   "cost": done.cost, "error": ""})


def build_critic(inner: Any, critic_llm: Any, history: int = 3) -> CriticAgent:
    if not hasattr(critic_llm, "backend"):
        raise ValueError("the critic must be an LLM agent (local:MODEL or a litellm model id)")
    return CriticAgent(inner, critic_llm, history)
