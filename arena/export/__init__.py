"""Exports of stored trajectories: PGN for chess (:mod:`arena.export.pgn`), datasets for training."""
