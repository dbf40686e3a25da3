"""The dashboard's web app: three pages (sweeps, a sweep, a run), their static files and the API.

Run it with ``hypersweep ui``, or serve :func:`create_app` with any ASGI server.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from hypersweep import __version__
from hypersweep.dashboard._db import Reader
from hypersweep.dashboard._security import Guard
from hypersweep.dashboard.api import make_router

STATIC = Path(__file__).parent / "static"
#: The scripts of each page, after ``hs-core.js``, in order; every page shares ``static/page.html``.
PAGE_SCRIPTS: dict[str, tuple[str, ...]] = {
    "index": ("index.js",),
    "sweep": ("sweep.js", "echarts.min.js", "hs-charts.js", "hs-sweep.js", "hs-importance.js"),
    "run": ("run.js", "echarts.min.js", "hs-charts.js", "hs-run.js"),
}
# Pages run only the package's own scripts; data never reaches the page as HTML.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)


def create_app(workspace_path: str | Path, token: str | None = None) -> FastAPI:
    """The dashboard for the workspace folder ``workspace_path``.

    Args:
        workspace_path: the workspace folder (the one holding ``.hypersweep/``).
        token: if given, every request must carry it (``?token=``, ``Authorization: Bearer``, or
            the cookie set by the first); required when serving beyond loopback.

    Returns:
        A FastAPI app; its API schema is at ``/api/openapi.json``.

    Example:
        >>> import uvicorn                                                  # doctest: +SKIP
        >>> uvicorn.run(create_app("/tmp/sweeps"), host="127.0.0.1", port=8765)  # doctest: +SKIP
    """
    workspace = Path(workspace_path).expanduser().resolve()
    reader = Reader(workspace)
    guard = Guard(token)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        reader.close()

    app = FastAPI(
        title="hypersweep dashboard",
        version=__version__,
        description="Read-only views of the sweeps in a hypersweep workspace; cancelling a sweep or a run is the one write.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.reader = reader
    app.state.guard = guard
    app.middleware("http")(guard)
    app.include_router(make_router(reader, workspace))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    template = (STATIC / "page.html").read_text(encoding="utf-8")

    def page(name: str) -> Response:
        scripts = "\n".join(
            f'  <script src="/static/{script}" defer></script>' for script in PAGE_SCRIPTS[name]
        )
        text = template.replace("__HS_SCRIPTS__", scripts)
        text = text.replace("__HS_TOKEN__", html.escape(guard.action_token, quote=True))
        return HTMLResponse(
            text, headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"}
        )

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return page("index")

    @app.get("/sweeps/{sweep_id}", include_in_schema=False)
    def sweep_page(sweep_id: str) -> Response:
        return page("sweep")

    @app.get("/runs/{run_id}", include_in_schema=False)
    def run_page(run_id: str) -> Response:
        return page("run")

    return app
