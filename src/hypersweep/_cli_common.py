"""What every ``hypersweep`` command shares: the --workspace option and the way errors end a command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from hypersweep.errors import HypersweepError, InvalidConfigError, NotFoundError

console = Console()
err_console = Console(stderr=True)

workspace_option = click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HYPERSWEEP_WORKSPACE",
    default=".",
    show_default="the current folder",
    help="The workspace folder; its records live in WORKSPACE/.hypersweep/.",
)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input (exit 2) and failures (exit 1) end the command with one message, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (InvalidConfigError, NotFoundError) as exc:
            err_console.print(f"[bold red]Error:[/] {exc}", highlight=False)
            sys.exit(2)
        except HypersweepError as exc:
            err_console.print(f"[bold red]Error:[/] {exc}", highlight=False)
            sys.exit(1)

    return wrapper
