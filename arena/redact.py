"""Keeps secrets out of everything the arena records or prints.

Known secrets are the values of credential-named environment variables and every
credential found in an agent spec (``api_key=...``, ``token=...``, the password of a
URL ``http://user:PASS@host``): :func:`redact` scrubs them (and key-shaped tokens) from
any text; :func:`redact_spec` gives the form of a spec that may be stored, with each
credential replaced by :data:`PLACEHOLDER`.  The live agent keeps the real values: a
redacted spec parsed again in the same process is restored (:func:`restore_spec`); in a
new process its placeholders are refused, since arena never stored them.
"""

from __future__ import annotations

import os
import re
from typing import Any

PLACEHOLDER = "[REDACTED]"
_SECRET_NAMES = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9_\-.]{8,})")
#: ``scheme://user:password@`` in any URL: the password part.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/@:\s,]*:)(?P<secret>[^/@\s,]+)(?=@)")
#: ``name=value`` items of a spec whose name looks like a credential.
_SPEC_PARAM = re.compile(r"(?:^|(?<=[:,|]))\s*(?P<name>[A-Za-z_][\w\-]*)\s*=\s*")
_VALUE_END = re.compile(r"[,|]|$")
_KNOWN: set[str] = set()
_ORIGINALS: dict[str, str] = {}


class SecretNotStored(ValueError):
    """A stored spec's credential placeholder cannot be restored in this process."""


def register_secret(value: str) -> None:
    """Scrub ``value`` from everything this process records or prints from now on."""
    if len(value) >= 4 and value != PLACEHOLDER:
        _KNOWN.add(value)


def secrets() -> list[str]:
    """Values of environment variables whose names look like credentials, and registered secrets."""
    found = {v for k, v in os.environ.items() if _SECRET_NAMES.search(k) and len(v) >= 8}
    return sorted(found | _KNOWN, key=len, reverse=True)  # longest first: a key containing another


def redact(text: str) -> str:
    """Replace any known secret value or key-shaped token by ``[REDACTED]``."""
    for value in secrets():
        if value in text:
            text = text.replace(value, PLACEHOLDER)
    return _KEY_SHAPES.sub(PLACEHOLDER, text)


def redact_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run's configuration as it may be stored: agent specs by :func:`redact_spec`, other text by :func:`redact`."""
    def clean(key: str, value: Any) -> Any:
        if isinstance(value, str):
            return redact_spec(value) if key == "agents" else redact(value)
        if isinstance(value, list):
            return [clean(key, v) for v in value]
        return value
    return {key: clean(key, value) for key, value in config.items()}


def spec_secrets(spec: str) -> list[str]:
    """The credentials a spec carries: URL passwords and values of key-like parameters."""
    found = [m.group("secret") for m in _URL_PASSWORD.finditer(spec)]
    found += [spec[start:end].strip() for start, end in _key_values(spec)]
    return [s for s in found if s and s != PLACEHOLDER]


def _key_values(spec: str) -> list[tuple[int, int]]:
    """Spans of the values of key-like ``name=value`` items (a value ends at ``,`` or ``|``)."""
    spans = []
    for m in _SPEC_PARAM.finditer(spec):
        if _SECRET_NAMES.search(m.group("name")):
            end = _VALUE_END.search(spec, m.end())
            spans.append((m.end(), end.start() if end else len(spec)))
    return spans


def redact_spec(spec: str) -> str:
    """The storable form of an agent spec: every credential replaced by the placeholder.

    Registers the credentials (so :func:`redact` scrubs them from completions and errors)
    and remembers the original, for :func:`restore_spec` in this process."""
    found = spec_secrets(spec)
    if not found:
        return spec
    for value in found:
        register_secret(value)
    out = spec
    for start, end in reversed(_key_values(spec)):
        if out[start:end].strip():
            out = out[:start] + PLACEHOLDER + out[end:]
    out = _URL_PASSWORD.sub(lambda m: m.group("head") + PLACEHOLDER, out)
    _ORIGINALS[out] = spec
    return out


def restore_spec(spec: str) -> str:
    """The spec with its real credentials, if this process redacted it; raises
    :class:`SecretNotStored` for a placeholder it cannot fill."""
    if PLACEHOLDER not in spec:
        return spec
    if spec in _ORIGINALS:
        return _ORIGINALS[spec]
    raise SecretNotStored(f"agent spec {spec!r} had credentials, which arena never stores; give the key "
                          "in the environment (e.g. OPENAI_API_KEY) and an api_base without a password")
