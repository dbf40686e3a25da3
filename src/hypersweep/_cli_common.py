"""What every ``hypersweep`` command shares (those of :mod:`hypersweep.cli` and of the dashboard): the
--workspace option, the way errors end a command, and finding the workspace and the sweep named."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Mapping
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from hypersweep.display import safe
from hypersweep.errors import HypersweepError, InvalidConfigError, NotFoundError
from hypersweep.experiment import Experiment, HyperDriveRun, Workspace
from hypersweep.store import DB_NAME, STATE_DIR

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
            err_console.print(f"[bold red]Error:[/] {safe(exc)}", highlight=False)
            sys.exit(2)
        except HypersweepError as exc:
            err_console.print(f"[bold red]Error:[/] {safe(exc)}", highlight=False)
            sys.exit(1)
        except BrokenPipeError:  # `hypersweep ... | head`: the reader left, as it may
            raise
        except OSError as exc:  # a file it reads or writes: no folder, no permission, disk full
            place = f" {safe(exc.filename)}" if exc.filename else ""
            err_console.print(
                f"[bold red]Error:[/] cannot use{place}: {safe(exc.strerror or exc)}. "
                "Check that the folder exists and that you may write there.",
                highlight=False,
            )
            sys.exit(1)

    return wrapper


def _pointer_part(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def json_data(value: Any, non_finite: dict[str, str], pointer: str = "") -> Any:
    """``value`` as strict JSON data: inf, -inf and NaN become null, and are noted in ``non_finite``.

    ``non_finite`` maps the JSON Pointer (RFC 6901) of each such value to ``"inf"``, ``"-inf"`` or
    ``"nan"``; values JSON cannot hold otherwise are given as their text (``str``).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value, "ndim", None) == 0):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if math.isfinite(number):
            return value if isinstance(value, float) else value.item()
        non_finite[pointer] = "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")
        return None
    if isinstance(value, Mapping):
        return {
            str(k): json_data(v, non_finite, f"{pointer}/{_pointer_part(k)}")
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [json_data(v, non_finite, f"{pointer}/{i}") for i, v in enumerate(value)]
    return str(value)


def json_text(data: Any) -> str:
    """The one encoder of every ``--json`` output: always valid JSON (RFC 8259), never ``Infinity``/``NaN``.

    Non-finite numbers are written as ``null``, and the object gets a ``"non_finite"`` member mapping
    the JSON Pointer of each of them to ``"inf"``, ``"-inf"`` or ``"nan"`` (empty when there are none),
    e.g. ``{"best_value": null, ..., "non_finite": {"/best_value": "inf"}}``. A list (``models --json``)
    has no room for that member: its non-finite numbers are ``null`` all the same.
    """
    non_finite: dict[str, str] = {}
    converted = json_data(data, non_finite)
    if isinstance(converted, dict):
        converted["non_finite"] = non_finite
    return json.dumps(converted, indent=2, allow_nan=False)


def echo_json(data: Any) -> None:
    """Print ``data`` as JSON (see :func:`json_text`)."""
    click.echo(json_text(data))


def existing_workspace(path: Path) -> Workspace:
    """The workspace at ``path`` for reading; an error (not a new empty database) if there is none."""
    ws = Workspace(path)
    if not (ws.state_dir / DB_NAME).exists():
        raise NotFoundError(
            f"{ws.path} is not a hypersweep workspace yet (no {STATE_DIR}/{DB_NAME}). Start a sweep there with "
            "'hypersweep run SWEEP.yml', or point to one with --workspace DIR."
        )
    return ws


def resolve_sweep(ws: Workspace, ref: str) -> HyperDriveRun:
    """A sweep by id, unique id prefix, or ``latest``."""
    rows = ws.store.sweeps()
    if not rows:
        raise NotFoundError(
            f"The workspace {ws.path} has no sweeps yet. Start one with: hypersweep run SWEEP.yml"
        )
    if ref == "latest":
        row = rows[-1]
    else:
        matches = [r for r in rows if r.id == ref] or [r for r in rows if r.id.startswith(ref)]
        if len(matches) != 1:
            what = "matches no sweep" if not matches else f"matches {len(matches)} sweeps"
            raise NotFoundError(f"{ref!r} {what} in {ws.path}; list them with: hypersweep ls")
        row = matches[0]
    return HyperDriveRun(Experiment(ws, row.experiment), row.id)
