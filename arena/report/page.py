"""The page shell: the Jinja2 environment (autoescape on), the page's own script and style, and
the Content-Security-Policy that allows only them.

The script and the style live beside the templates (``report.js``, ``report.css``); the CSP
carries the script's SHA-256, so even markup that slipped through escaping could neither run
nor load anything.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape


def asset(name: str) -> str:
    return resources.files("arena.report").joinpath("templates", name).read_text(encoding="utf-8")


def csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:"


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("arena.report", "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    script = asset("report.js")
    env.globals.update(script=script, style=asset("report.css"), csp=csp(script))
    return env
