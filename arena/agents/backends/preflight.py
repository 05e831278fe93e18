"""Pre-flight checks of a remote backend: the provider's key is set, the server answers.

Run before a tournament writes anything, so a missing key or a wrong ``api_base`` is one
line and exit 2, not a run of forfeits.  Loads nothing heavy beyond litellm itself.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from arena.errors import NotReady
from arena.redact import redact


def missing_keys(model: str, api_base: str | None, api_key: str | None) -> list[str]:
    """Environment variables the provider needs that are not set (litellm's ``validate_environment``);
    ``*_API_BASE`` entries don't count (litellm has defaults), nor keys when ``api_key`` is given."""
    from arena.agents.backends.remote import _litellm
    report = _litellm().validate_environment(model=model, api_key=api_key or None, api_base=api_base or None)
    return [k for k in report.get("missing_keys", []) if not k.endswith("_API_BASE") and not api_key]


def check_reachable(api_base: str, timeout: float = 5.0) -> None:
    """Raise :class:`NotReady` unless ``api_base``'s host accepts a TCP connection."""
    parts = urlsplit(api_base if "://" in api_base else f"http://{api_base}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise NotReady(f"api_base {redact(api_base)!r} has a bad port") from None
    if not parts.hostname:
        raise NotReady(f"api_base {redact(api_base)!r} names no host")
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as err:
        raise NotReady(f"api_base {redact(api_base)} is not reachable ({err.strerror or err}); "
                       "start the server or fix api_base=") from None


def check_remote(model: str, api_base: str | None, api_key: str | None = None) -> None:
    keys = missing_keys(model, api_base, api_key)
    if keys:
        raise NotReady(f"{model} needs {' and '.join(keys)} in the environment: export {keys[0]}=... "
                       "(or give api_key= in the agent spec)")
    if api_base:
        check_reachable(api_base)
