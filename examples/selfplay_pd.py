"""One self-play iteration on the repeated prisoner's dilemma with the embedded SmolLM2, on the CPU.

    python examples/selfplay_pd.py [--out selfplay-pd] [--iterations 1] [--steps 10]

Play: SmolLM2 (choice mode: it scores C and D and takes the likelier) meets a copy of itself
and three baselines.  Export: every one of its turns is replayed and both actions are valued
by rollouts in which every seat keeps its own policy (``rollout="players"``), so a defection
against tit-for-tat pays for the retaliation that follows.  Train: DPO with TRL.  Rate: a round
robin of the tuned model, the base model and the baselines; Bradley--Terry with base = 1500,
so the tuned model's rating and its 95% bootstrap interval are the change against its base.
The same loop from the command line: ``arena selfplay --game prisoners-dilemma:rounds=3``.
"""

from __future__ import annotations

import argparse
import json
import time

from arena.cli_data import print_iteration, quiet_libraries
from arena.train.selfplay import selfplay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="selfplay-pd", help="folder for the store, the pairs and the models")
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="DPO steps per iteration")
    parser.add_argument("--game", default="prisoners-dilemma:rounds=3")
    args = parser.parse_args()
    quiet_libraries()
    started = time.perf_counter()
    summaries = selfplay(args.game, args.iterations, args.out, base="local:smollm2",
                         baselines=["tit-for-tat", "always-defect", "always-cooperate"],
                         games_per_pair=2, eval_games_per_pair=2, rollout="players", rollouts=2, min_margin=2.0,
                         steps=args.steps, lr=2e-5, beta=0.1, batch_size=2, seed=0,
                         progress=lambda message: print(message, flush=True))
    for summary in summaries:
        print_iteration(summary)
        print("export:", json.dumps(summary["export"]), "| DPO losses:",
              ", ".join(f"{x:.3f}" for x in summary.get("train", {}).get("losses", [])))
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
