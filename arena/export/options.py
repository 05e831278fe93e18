"""The options of a preference export (``arena export preferences``; self-play composes them).

Light on purpose: the command line builds its options from this class at start-up, so it imports
nothing of the export machinery (:mod:`arena.export.preferences` does the work).
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.export.dataset import split_of
from arena.options import option

CO_MOVERS = ("policy", "stored")  # step: how the other movers of a simultaneous node act in a rollout
KINDS = ("step", "outcome", "kto", "sft")


@dataclass
class ExportOptions:
    """What :func:`export_preferences` exports and how (the ``arena export preferences`` options)."""

    kind: str = option("step", "step (counterfactual pairs) | outcome | kto | sft", choices=KINDS)
    games: list[str] = option(factory=list, help="only these games (spec or id); repeatable [all]",
                              flags=("--game", "-g"))
    run_id: str | None = option(None, "only this run", flags=("--run",))
    agents: list[str] = option(factory=list, help="only the turns of these players (name or spec); repeatable "
                                                  "[every LLM]", flags=("--agent", "-a"))
    min_margin: float = option(2.0, "keep a pair when its value gap > this many SEs")
    split: float = option(0.0, "share of prompts in the test split (a 'split' column; no test prompt is in train)")
    split_seed: str = option("", "salt of the split")
    rollouts: int = option(16, "step: rollouts per candidate action")
    rollout_batch: int = option(32, "step: rollouts in flight at once; their pending LLM calls go to the local "
                                "model as one batch (1 = one after another)", flags=("--rollout-batch",))
    rollout: str = option("players", "step: players (their own agents) | random | mcts[:simulations=N] | cfr | "
                                     "an agent spec")
    co_movers: str = option("policy", "step: other movers of a simultaneous node: policy (re-chosen) | stored")
    candidates: int = option(0, "step: candidate actions per turn, the played one included (0 = all)")
    sample: float = option(1.0, "step: share of LLM turns used as decision points")
    max_points: int = option(0, "step: decision points per match (0 = all)")
    free_text_samples: int = option(0, "step: candidates for a free-text turn (stored + n-1 sampled)")
    sampler: str = option("", "step: agent spec sampling free-text candidates [the player's own]")
    sample_temperature: float = option(1.0, "step: temperature of the free-text samples")
    seed: int = option(0, "seed of sampling and rollouts")
    min_gap: float = option(0.0, "keep a pair only when its gap exceeds this (score units; alone when every "
                                 "rollout is identical)")
    allow_peeking: bool = option(False, "step: value hidden-information games without determinize (rows marked "
                                        "+peeking)")
    experts: bool = option(False, "also export seats that sent no prompt (MCTS, CFR, scripted) as if an LLM held "
                                  "them")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.co_movers not in CO_MOVERS:
            raise ValueError(f"unknown co_movers {self.co_movers!r}; valid: {', '.join(CO_MOVERS)}")
        if self.rollouts < 1:
            raise ValueError("rollouts must be at least 1")
        if self.rollout_batch < 1:
            raise ValueError("rollout_batch must be at least 1")
        if not 0.0 < self.sample <= 1.0:
            raise ValueError(f"sample must be in (0, 1], got {self.sample}")
        for name in ("candidates", "max_points", "free_text_samples"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        split_of("", self.split)  # validates the fraction
