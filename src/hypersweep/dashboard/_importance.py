"""The data behind the importance panel: a sweep's runs read in one snapshot, the estimate cached."""

from __future__ import annotations

from typing import Any

from hypersweep.store import Reads


def importance_payload(reads: Reads, sweep_id: str) -> dict[str, Any]:
    """The hyperparameter importances of a sweep's primary metric (see :mod:`hypersweep.importance`).

    Returns:
        ``{"sweep_id", "primary_metric", "goal", "method", "importances": [{"name", "label",
        "importance", "std"}], "n_runs", "counts", "message"}``; with too few usable runs,
        ``importances`` is empty and ``message`` says why.
    """
    from hypersweep.importance import sweep_importances

    sweep = reads.sweep(sweep_id)  # NotFoundError if there is none
    data = sweep_importances(sweep, reads.runs(sweep_id)).to_dict()
    for entry in data["importances"]:
        entry["label"] = entry["name"].lstrip("-")
    return {
        "sweep_id": sweep_id,
        "primary_metric": sweep.primary_metric,
        "goal": sweep.goal.lower(),
        **data,
    }
