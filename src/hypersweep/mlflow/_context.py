"""The ``mlflow.run_context_provider`` plugin: runs a trial starts carry its hypersweep run id, and a
trial that sends its values to a tracking URI of its own is told, once, that the sweep sees none."""

from __future__ import annotations

import warnings

from mlflow.tracking.context.abstract_context import RunContextProvider

from hypersweep.mlflow._trials import RUN_ID_TAG, SCHEME, current_trial


def own_uri_message(uri: str) -> str:
    """The warning for a trial whose MLflow tracking URI is not its sweep's."""
    return (
        f"This trial logs with MLflow to the tracking URI {uri!r}, which the script set itself: "
        "the sweep sees none of the values logged there (no metric reaches the policy or the "
        "sweep's results). Remove the mlflow.set_tracking_uri call to log to the sweep."
    )


class HypersweepRunContext(RunContextProvider):
    """Tags a run started in a trial with ``hypersweep.run_id``; warns when it is not logged to the sweep."""

    def in_context(self) -> bool:
        return current_trial() is not None

    def tags(self) -> dict[str, str]:
        import mlflow

        trial = current_trial()
        if trial is None:
            return {}
        uri = mlflow.get_tracking_uri()
        if not uri.startswith(SCHEME + ":") and not trial.warned:
            trial.warned = True
            message = own_uri_message(uri)
            trial.live.tag("hypersweep.warning", message)
            warnings.warn(message, UserWarning, stacklevel=2)
        return {RUN_ID_TAG: trial.run_id}
