"""The JSON API under ``/api/`` that the pages use (its schema: ``/api/openapi.json``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response, StreamingResponse

from hypersweep import _runfiles
from hypersweep.dashboard import _importance, _json, _models, _runs, _sweeps
from hypersweep.dashboard._db import Reader
from hypersweep.errors import InvalidConfigError, NotFoundError


class FastJSON(Response):
    """Compact JSON without validation (payloads are already JSON-safe: NaN and infinities are None)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json.dumps(content).encode()


def _doc(model: type) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model}, 404: {"description": "No such sweep or run."}}


def make_router(reader: Reader, workspace: Path) -> APIRouter:
    """The API routes, reading through ``reader`` (cancel goes through the results API)."""
    api = APIRouter(prefix="/api", tags=["hypersweep"], default_response_class=FastJSON)

    def _404(exc: Exception) -> HTTPException:
        return HTTPException(status_code=404, detail=str(exc))

    def answer(read: Callable[..., Any], *args: Any) -> Any:
        """``read(reads, *args)`` on one snapshot of the store, as JSON; 404 for a sweep or run not found."""
        try:
            with reader.snapshot() as reads:
                return FastJSON(read(reads, *args))
        except NotFoundError as exc:
            raise _404(exc) from exc

    @api.get(
        "/sweeps",
        summary="Every sweep, newest first",
        responses={200: {"model": list[_models.SweepSummary]}},
    )
    def list_sweeps() -> Any:
        if not reader.exists:
            return FastJSON([])
        with reader.snapshot() as reads:
            return FastJSON(_sweeps.sweep_list(reads))

    @api.get(
        "/sweeps/{sweep_id}",
        summary="A sweep, its runs and their primary metric",
        responses=_doc(_models.SweepPage),
    )
    def sweep(
        sweep_id: str,
        max_points: int = Query(
            200_000, ge=1000, le=5_000_000, description="Budget of chart points for all runs."
        ),
    ) -> Any:
        return answer(_sweeps.sweep_payload, sweep_id, max_points)

    @api.get(
        "/sweeps/{sweep_id}/updates",
        summary="What changed since a cursor",
        responses={
            **_doc(_models.SweepUpdates),
            400: {"description": "A malformed or out-of-range cursor."},
        },
    )
    def sweep_updates(
        sweep_id: str,
        since: str = Query(..., description="The cursor of an earlier answer.", max_length=64),
    ) -> Any:
        try:
            _sweeps.parse_cursor(since)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=f"Bad cursor {since!r}: {exc}") from exc
        return answer(_sweeps.sweep_updates, sweep_id, since)

    @api.get(
        "/sweeps/{sweep_id}/importance",
        summary="Hyperparameter importance for the primary metric (cached until the runs change)",
        responses=_doc(_models.ImportancePage),
    )
    def sweep_importance(sweep_id: str) -> Any:
        return answer(_importance.importance_payload, sweep_id)

    @api.post(
        "/sweeps/{sweep_id}/cancel",
        summary="Cancel a sweep (needs the token in the Authorization header)",
        responses={**_doc(_models.CancelResult), 403: {"description": "No token in a header."}},
    )
    def cancel_sweep(sweep_id: str) -> Any:
        from hypersweep.experiment import HyperDriveRun, Workspace

        ws = Workspace(workspace)
        try:
            run = ws.get_run(sweep_id)
        except NotFoundError as exc:
            raise _404(exc) from exc
        if not isinstance(run, HyperDriveRun):
            raise HTTPException(status_code=404, detail=f"{sweep_id!r} is a run, not a sweep.")
        canceled = run.cancel()
        return FastJSON({"canceled": canceled, "status": run.get_status()})

    @api.post(
        "/runs/{run_id}/cancel",
        summary="Cancel one run; its sweep goes on (needs the token in the Authorization header)",
        responses={**_doc(_models.CancelResult), 403: {"description": "No token in a header."}},
    )
    def cancel_run(run_id: str) -> Any:
        from hypersweep.experiment import HyperDriveRun, Workspace

        try:
            _runs.run_row(reader.reads(), run_id)
            run = Workspace(workspace).get_run(run_id)
        except NotFoundError as exc:
            raise _404(exc) from exc
        if isinstance(run, HyperDriveRun):
            raise HTTPException(
                status_code=404,
                detail=f"{run_id!r} is a sweep; cancel it at /api/sweeps/{run_id}/cancel.",
            )
        canceled = run.cancel()
        return FastJSON({"canceled": canceled, "status": run.get_status()})

    @api.get(
        "/models",
        summary="Every registered model version, newest first",
        responses={200: {"model": list[_models.ModelSummary]}},
    )
    def list_models() -> Any:
        if not reader.exists:
            return FastJSON([])
        with reader.snapshot() as reads:
            return FastJSON(_runs.models_list(reads))

    def open_run_file(run_id: str, name: str) -> BinaryIO:
        """A run's file, checked as every served file is: 400 for a malformed name, 404 for no such file."""
        try:
            with reader.snapshot() as reads:
                run_dir = _runs.run_row(reads, run_id).run_dir
                uploaded = _runs.logged_media(reads, run_id)[
                    2
                ]  # upload_file() names outside outputs/
            return _runfiles.open_file(run_dir, name, run_id, uploaded)
        except InvalidConfigError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        except NotFoundError as exc:
            raise _404(exc) from exc

    @api.get(
        "/runs/{run_id}/image",
        summary="An image the run logged with log_image (PNG, JPEG, GIF, WebP or BMP), to show inline",
        response_class=StreamingResponse,
        responses={
            200: {"content": {media: {} for media in sorted(set(_runs.IMAGE_TYPES.values()))}},
            400: {
                "description": "A malformed name (NUL, absolute, '..', a component over 255 bytes)."
            },
            404: {"description": "No such image in the run."},
        },
    )
    def image(
        run_id: str,
        name: str = Query(
            ..., max_length=4096, description="The image's path, e.g. outputs/images/loss.png."
        ),
    ) -> Any:
        media = _runs.IMAGE_TYPES.get(PurePosixPath(name).suffix.lower())
        if media is None:
            shown = ", ".join(_runs.IMAGE_TYPES)
            raise _404(NotFoundError(f"{name!r} is not an image this page shows ({shown})."))
        f = open_run_file(run_id, name)
        size = os.fstat(f.fileno()).st_size
        return StreamingResponse(
            _runfiles.FileChunks(f, size),
            media_type=media,
            headers={"Cache-Control": "no-store", "content-length": str(size)},
        )

    @api.get(
        "/runs/{run_id}",
        summary="A run: definition, metrics, tags, files",
        responses=_doc(_models.RunPage),
    )
    def run(run_id: str) -> Any:
        return answer(_runs.run_payload, run_id)

    @api.get(
        "/runs/{run_id}/logs/{stream}",
        summary="A run's stdout or stderr",
        responses=_doc(_models.LogChunk),
    )
    def logs(
        run_id: str,
        stream: str,
        offset: int | None = Query(
            None,
            ge=0,
            le=2**62,
            description="Byte offset from an earlier answer; omit for the tail.",
        ),
        tail: int = Query(
            200, ge=0, le=100_000, description="Lines of the tail, when offset is omitted."
        ),
    ) -> Any:
        if stream not in ("stdout", "stderr"):
            raise HTTPException(status_code=404, detail="The stream is stdout or stderr.")
        try:
            run_dir = _runs.run_row(reader.reads(), run_id).run_dir
        except NotFoundError as exc:
            raise _404(exc) from exc
        return FastJSON(_runs.log_chunk(run_dir, stream, offset, tail))

    @api.get(
        "/runs/{run_id}/file",
        summary="Download one of a run's files (under outputs/ or logs/, or one it uploaded)",
        response_class=StreamingResponse,
        responses={
            200: {"content": {"application/octet-stream": {}}},
            400: {
                "description": "A malformed name (NUL, absolute, '..', a component over 255 bytes)."
            },
            404: {
                "description": "No such file in the run's outputs/ or logs/ (links out of the run count as none)."
            },
        },
    )
    def download(
        run_id: str,
        name: str = Query(
            ...,
            max_length=4096,
            description="As listed in the run's files, e.g. outputs/model.joblib.",
        ),
    ) -> Any:
        f = open_run_file(run_id, name)
        size = os.fstat(f.fileno()).st_size
        base = PurePosixPath(_runfiles.check_name(name)).name
        quoted = quote(base, errors="replace")
        disposition = (
            f"attachment; filename*=utf-8''{quoted}"
            if quoted != base
            else f'attachment; filename="{base}"'
        )
        return StreamingResponse(
            _runfiles.FileChunks(
                f, size
            ),  # the descriptor opened and checked above, not the name again
            media_type="application/octet-stream",
            headers={"content-disposition": disposition, "content-length": str(size)},
        )

    return api
