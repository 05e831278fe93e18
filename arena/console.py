"""The CLI's consoles and its one-line error exit (exit code 2), shared by every command module."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)
