"""Training on exported self-play data: DPO with TRL (:mod:`arena.train.dpo`) and the self-play loop
(:mod:`arena.train.selfplay`).  Needs the ``train`` extra (``trl``, ``datasets``)."""
