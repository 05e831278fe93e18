"""Dataset files of exported rows: the match-level split, JSONL/Parquet writing, loading with ``datasets``.

Every row has a ``split`` column, ``"train"`` or ``"test"``: a key is in the test split when
a hash of it (salted with ``split_seed``) falls below the ``split`` fraction, so every row of
one key is on the same side, and a key keeps its side when the store grows and the export is
run again.  The preference export splits by ``prompt_id`` (the same prompt met in several
matches is never on both sides).  One file holds both sides; :func:`load_rows` (and
``arena train dpo``) take one side with ``split="train"``.

Metadata columns are plain strings and numbers of one type each; anything variable
(per-action values, counts, match lists) is a JSON string, so Arrow never sees a
column of mixed types.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from arena.atomic import atomic_path, atomic_write

SPLITS = ("train", "test")
FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def split_of(match_id: str, fraction: float, salt: str = "") -> str:
    """``"test"`` for about ``fraction`` of keys (stable per key and salt), else ``"train"``."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"split must be in [0, 1), got {fraction}")
    digest = hashlib.sha256(f"{salt}:{match_id}".encode()).hexdigest()
    return "test" if int(digest[:15], 16) / 16 ** 15 < fraction else "train"


def as_json(value: Any) -> str:
    """A variable metadata value as one JSON string (keys sorted, so equal values are equal strings)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def file_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown dataset format {suffix or '(none)'!r}; use .jsonl or .parquet")
    return FORMATS[suffix]


def write_rows(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as JSON lines (``.jsonl``) or Parquet (``.parquet``); returns the path."""
    path = Path(path)
    kind = file_format(path)
    if kind == "json":
        with atomic_write(path) as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    return path


def load_rows(path: str | Path, split: str | None = None) -> Any:
    """The file as a ``datasets.Dataset``; ``split`` ("train"/"test") keeps that side only."""
    from datasets import load_dataset
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (the export produced no rows)")
    data = load_dataset(file_format(path), data_files=str(path), split="train")
    if split is None:
        return data
    if "split" not in data.column_names:  # a file without the column is all training data
        return data if split == "train" else data.select([])
    return data.filter(lambda row: row["split"] == split)
