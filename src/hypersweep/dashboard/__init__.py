"""The web dashboard: ``hypersweep ui`` serves it, ``hypersweep report`` writes its HTML report.

It reads the workspace database only (its own read-only connections; SQLite WAL never makes a
sweep wait for it) and changes nothing, except cancelling a sweep or a run through the results API
(``HyperDriveRun.cancel()``, ``Run.cancel()``).

``create_app`` is imported lazily, so registering the commands on the CLI costs no FastAPI import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from hypersweep.dashboard.app import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from hypersweep.dashboard.app import create_app

        return create_app
    raise AttributeError(f"module 'hypersweep.dashboard' has no attribute {name!r}")
