"""The data behind the importance panel: a sweep's runs read in one snapshot, the estimate cached."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypersweep.errors import NotFoundError


def importance_payload(conn: sqlite3.Connection, sweep_id: str) -> dict[str, Any]:
    """The hyperparameter importances of a sweep's primary metric (see :mod:`hypersweep.importance`).

    Returns:
        ``{"sweep_id", "primary_metric", "goal", "method", "importances": [{"name", "label",
        "importance", "std"}], "n_runs", "counts", "message"}``; with too few usable runs,
        ``importances`` is empty and ``message`` says why.
    """
    from hypersweep.importance import sweep_importances

    sweep = conn.execute("SELECT config, primary_metric, goal FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
    if sweep is None:
        raise NotFoundError(f"No sweep {sweep_id!r} in this workspace.")
    runs = conn.execute(
        "SELECT status, hyperparameters, best_value FROM runs WHERE sweep_id = ? ORDER BY number", (sweep_id,)
    ).fetchall()
    data = sweep_importances(sweep, runs).to_dict()
    for entry in data["importances"]:
        entry["label"] = entry["name"].lstrip("-")
    return {"sweep_id": sweep_id, "primary_metric": sweep["primary_metric"], "goal": sweep["goal"].lower(), **data}
