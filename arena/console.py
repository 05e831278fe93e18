"""The CLI's consoles and its one-line error exit (exit code 2), shared by every command module."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def db_option(help: str = "SQLite store") -> Any:
    """The ``--db`` option of every command that reads or writes a store."""
    return typer.Option("arena.db", "--db", help=help)


def run_option(help: str = "one run (default: every run in the store)") -> Any:
    """The ``--run`` option of every command that reads one run of a store."""
    return typer.Option(None, "--run", help=help)


def json_flag(help: str = "print one JSON document instead of tables") -> Any:
    """The ``--json`` option of every command: a flag (no value shown in the help)."""
    return typer.Option(False, "--json", metavar="", help=f"{help} (a flag)")


def fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)
