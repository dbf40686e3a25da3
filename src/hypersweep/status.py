"""Run statuses, as HyperDrive names them."""

from __future__ import annotations

import enum


class RunStatus(str, enum.Enum):
    """The status of a sweep or of one of its runs.

    ``RunStatus.COMPLETED.is_terminal`` tells whether the run is over.
    """

    QUEUED = "Queued"
    RUNNING = "Running"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        """True for Completed, Failed and Canceled."""
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED)

    def __str__(self) -> str:
        return self.value
