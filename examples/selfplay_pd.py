"""One self-play iteration on the repeated prisoner's dilemma with the embedded SmolLM2, on the CPU.

    python examples/selfplay_pd.py [--out selfplay-pd] [--iterations 1] [--steps 10]

Play: SmolLM2 (choice mode: it scores C and D and takes the likelier) meets three baselines.  Export: every one of its turns is replayed and both actions are valued
by rollouts in which every seat keeps its own policy (``rollout="players"``), so a defection
against tit-for-tat pays for the retaliation that follows.  Train: a LoRA adapter with DPO (TRL).
Evaluate: mirrored pairs on fresh seeds against each baseline and head to head against the base
(see :mod:`arena.train.evaluate`; the game has no chance, so identical replicate pairs collapse).
The same loop from the command line: ``arena selfplay --game prisoners-dilemma:rounds=3``.
"""

from __future__ import annotations

import argparse
import time

from arena.cli_data import print_summary, quiet_libraries
from arena.train.selfplay import selfplay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="selfplay-pd", help="folder for the store, the pairs and the adapters")
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="DPO steps per iteration")
    parser.add_argument("--game", default="prisoners-dilemma:rounds=3")
    args = parser.parse_args()
    quiet_libraries()
    started = time.perf_counter()
    summary = selfplay(args.game, args.iterations, args.out, base="local:smollm2",
                       baselines=["tit-for-tat", "always-defect", "always-cooperate"], games_per_pair=2,
                       eval_seeds=4, rollout="players", rollouts=2, min_margin=2.0, steps=args.steps, lr=1e-4,
                       beta=0.1, batch_size=2, seed=0, progress=lambda message: print(message, flush=True))
    print_summary(summary)
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
