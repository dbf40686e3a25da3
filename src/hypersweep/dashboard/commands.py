"""The ``hypersweep ui`` and ``hypersweep report`` commands (registered on the main CLI group)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import click

from hypersweep._cli_common import (
    existing_workspace,
    handle_errors,
    resolve_sweep,
    workspace_option,
)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0): asyncio then sets TCP_NODELAY on accepted connections, which
    # spares each response a 40 ms wait (Nagle's algorithm against delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(  # exit 1
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}"
            + (
                " (another program, or another hypersweep ui, uses it; choose another with --port, or --port 0 "
                "for any free one)"
                if exc.errno == errno.EADDRINUSE
                else ""
            )
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@click.command()
@workspace_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: any free one).",
)
@click.option(
    "--token",
    envvar="HYPERSWEEP_UI_TOKEN",
    help="Token every request must carry; made up and printed when --host is not a loopback address.",
)
@handle_errors
def ui(workspace: Path, host: str, port: int, token: str | None) -> None:
    """Serve the live dashboard of the workspace's sweeps (read-only, except cancelling sweeps and runs).

    \b
    By default it listens on 127.0.0.1 only. On any other address every request must carry a
    token: the URL printed at start has it (?token=...); API clients send
    "Authorization: Bearer TOKEN". The API is described at /api/openapi.json.
    """
    import uvicorn

    from hypersweep.dashboard._security import is_loopback, new_token
    from hypersweep.dashboard.app import create_app

    existing_workspace(workspace)  # a folder with no sweeps: exit 2, saying how to start one
    if not is_loopback(host) and not token:
        token = new_token()
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"hypersweep dashboard for {Path(workspace).resolve()}: {url}  (Ctrl-C stops it)")
    config = uvicorn.Config(
        create_app(workspace, token=token), log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


@click.command()
@click.argument("sweep")
@workspace_option
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The HTML file to write (self-contained: open it anywhere, offline).",
)
@handle_errors
def report(sweep: str, workspace: Path, html_path: Path) -> None:
    """Write one self-contained HTML file with SWEEP's summary, charts and runs table.

    SWEEP is an id, a unique prefix, or 'latest'; for a single run, the file shows the run.
    """
    from hypersweep.dashboard.report import write_report

    ws = existing_workspace(workspace)
    hd = resolve_sweep(ws, sweep)
    single = ws.store.sweep(hd.id).kind == "single"  # a single run: the report of the run
    runs = ws.store.runs(hd.id) if single else []
    run_id = runs[0]["id"] if runs else None
    path = write_report(ws.path, hd.id, html_path, run_id=run_id)
    click.echo(
        f"Wrote {path} ({path.stat().st_size // 1024} KiB): the report of {run_id or hd.id}."
    )
