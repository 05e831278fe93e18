"""The options of training (``arena train dpo|kto``: :class:`DPOOptions`) and of the self-play loop
(``arena selfplay``: :class:`SelfPlayOptions`, which composes the DPO and the export options).

Light on purpose: the command line builds its options from these classes at start-up, so this
module imports neither TRL nor the self-play machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.export.options import ExportOptions
from arena.options import option
from arena.train.common import TrainingError

BASELINES = ["random"]


@dataclass
class DPOOptions:
    """How :func:`train_dpo` and :func:`train_kto` train (the ``arena train`` options)."""

    loss: str = option("sigmoid", "sigmoid (DPO) | ipo | sppo_hard | robust | ... (TRL's DPOConfig loss types) | "
                                  "simpo (TRL's CPO trainer)")
    steps: int = option(10, "optimizer steps")
    lr: float = option(5e-6, "learning rate")
    beta: float = option(0.1, "beta: strength of the KL anchor to the base model (DPO, KTO; SimPO's reward scale)")
    batch_size: int = option(2, "rows per step")
    grad_accum: int = option(1, "gradient accumulation steps")
    max_length: int = option(1024, "tokens per sequence; longer prompts are dropped")
    seed: int = option(0, "training seed")
    evaluate: bool = option(True, "evaluate on the file's test split (when it has one)", flags=("--eval/--no-eval",))
    overwrite: bool = option(False, "allow writing into a non-empty --out")
    device: str = option("auto", "cpu | cuda | auto (CUDA when available; bf16 there)")
    lora: bool = option(True, "a LoRA adapter, or --full fine-tuning (saves a whole model)",
                        flags=("--lora/--full",))
    lora_rank: int = option(8, "LoRA rank")
    simpo_gamma: float = option(0.5, "SimPO: target reward margin (gamma)")

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "grad_accum", "max_length", "lora_rank"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name.replace('_', '-')} must be at least 1")
        if self.lr <= 0 or self.beta <= 0:
            raise TrainingError("lr and beta must be positive")


# the DPO and export options self-play shows as its own (flat: ``steps=``, ``--steps``), by name
TRAIN_OPTIONS = ("loss", "steps", "lr", "beta", "batch_size", "grad_accum", "max_length", "lora", "lora_rank",
                 "simpo_gamma", "device")
EXPORT_OPTIONS = {name: "test_split" if name == "split" else name for name in (
    "kind", "rollout", "rollouts", "min_margin", "min_gap", "experts", "split", "candidates", "max_points", "sample",
    "co_movers", "allow_peeking")}  # the export's split is self-play's --test-split


@dataclass
class SelfPlayOptions:
    """The self-play loop's own options, and the DPO (``train``) and export options it trains and exports with.

    The nested ``train.seed``, ``export.seed``, ``export.split_seed``, ``export.run_id`` and
    ``export.agents`` are set by each iteration (from ``seed`` and the play run)."""

    base: str = option("local:smollm2", "model to improve: local:smollm2 or local:PATH")
    baselines: list[str] = option(factory=lambda: list(BASELINES), help="fixed anchors (repeatable)",
                                  flags=("--baseline", "-b"))
    games_per_pair: int = option(8, "play: matches of the model against each member of the pool",
                                 flags=("--games-per-pair", "-n"))
    eval_seeds: int = option(16, "evaluation: fresh seeds (a mirrored pair each, per opponent)")
    llm_params: str = option("mode=choice", "added to every LLM spec")
    seed: int = option(0, "seed (evaluation seeds are derived from it and never played in training)")
    concurrency: int = option(8, "matches in flight at once")
    bootstrap: int = option(2000, "bootstrap replicates of the confidence intervals")
    elo0: float = option(0.0, "SPRT H0 Elo difference")
    elo1: float = option(50.0, "SPRT H1 Elo difference")
    train: DPOOptions = option(factory=lambda: DPOOptions(steps=20, lr=1e-4, batch_size=4),
                               help="Training (each iteration)", expose={n: n for n in TRAIN_OPTIONS})
    export: ExportOptions = option(factory=lambda: ExportOptions(rollouts=8, split=0.2),
                                   help="Pairs (export of each iteration)", expose=EXPORT_OPTIONS)

    def __post_init__(self) -> None:
        if self.export.kind not in ("step", "outcome"):
            raise ValueError(f"self-play trains on pairs: kind must be step or outcome, not {self.export.kind!r}")
        if self.eval_seeds < 2 or self.games_per_pair < 1:
            raise ValueError("eval-seeds must be at least 2 and games-per-pair at least 1")
