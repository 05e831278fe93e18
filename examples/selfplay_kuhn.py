"""Self-play on Kuhn poker with the embedded model (SmolLM2-135M), measured honestly, on a 2-core CPU.

    python examples/selfplay_kuhn.py [OUT_DIR]

One iteration of :func:`arena.train.selfplay.selfplay`: the model (choice mode: it scores the legal
actions) plays the anchors ``random`` and ``cfr`` (CFR+ equilibrium); every decision of those
matches -- the model's and, expert-iteration style, the anchors' -- becomes a step pair valued by
CFR continuations (the other seat and the rest of the hand played by the equilibrium policy);
a LoRA adapter is trained with DPO; then the tuned model and the base model are evaluated on
fresh seeds no play run used, in mirrored pairs (same deal, seats swapped), against each anchor
(paired bootstrap of tuned - base) and head to head (SPRT).  Writes ``OUT_DIR/report.html``.

Why Kuhn poker: two legal actions per decision (cheap to score on a CPU), twelve information
sets (one iteration's pairs cover the game), exact equilibrium values from CFR, and a base model
far from equilibrium.  But every good decision depends on the card, which DPO did not learn here;
``selfplay_tictactoe.py`` is the example where the values teach something position-independent.

Measured (README, "Self-play preference data and training"): 13 minutes, and no improvement --
DPO teaches the model the majority answer of each betting history, not a policy of its card.
"""

from __future__ import annotations

import sys

from arena.cli_data import run_example

# batch_size x grad_accum = 10 takes (about) every pair in each step: full-batch steps (minibatches of 4
# pulled the adapter back and forth between pairs that want opposite answers: 30 steps, lr 2e-4, no
# change); accumulation instead of one batch of 10 keeps TRL's full-vocabulary logits at 5.6 GB, not 16
SETTINGS = dict(baselines=["random", "cfr"], games_per_pair=16, eval_seeds=20, rollout="cfr", rollouts=16,
                min_margin=2.0, experts=True, test_split=0.15, steps=24, lr=5e-4, beta=0.1, batch_size=2,
                grad_accum=5, concurrency=16, device="cpu", seed=0)


if __name__ == "__main__":
    run_example("kuhn-poker", sys.argv[1] if len(sys.argv) > 1 else "selfplay-kuhn", SETTINGS)
