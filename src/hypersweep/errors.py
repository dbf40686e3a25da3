"""Exceptions raised by hypersweep.

The hierarchy::

    HypersweepError                      root of everything hypersweep raises on purpose
    ├── InvalidConfigError (ValueError)  a parameter, search space, YAML file or limit is invalid
    │   └── SweepBusyError               the sweep is driven by another process
    ├── WorkspaceError                   the workspace folder or its database cannot be used
    │   ├── SchemaVersionError           the database was written by a newer hypersweep
    │   └── DriverLostError              another process took over the sweep this process drove
    ├── NotFoundError (KeyError)         no experiment, sweep, run or file by that name
    ├── RunFailedError                   ``wait_for_completion(raise_on_error=True)`` saw a failed run
    └── TrialStopped                     raised inside a callable trial that a policy stopped
"""

from __future__ import annotations


class HypersweepError(Exception):
    """Root of every error hypersweep raises on purpose."""


class InvalidConfigError(HypersweepError, ValueError):
    """A parameter, search space, sweep file or limit is invalid.

    The message names the parameter, its owner, the rule and the value received.
    """


class WorkspaceError(HypersweepError):
    """The workspace folder or its database cannot be used."""


class SchemaVersionError(WorkspaceError):
    """The workspace database was written by a newer version of hypersweep."""


class NotFoundError(HypersweepError, KeyError):
    """No experiment, sweep, run or file by that name."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class RunFailedError(HypersweepError):
    """A run that was waited on with ``raise_on_error=True`` ended as Failed."""


class TrialStopped(HypersweepError):
    """Raised by ``Run.log`` inside a callable trial that was stopped (policy, timeout, cancel)."""


class SweepBusyError(InvalidConfigError):
    """The sweep is driven by another process (it holds the sweep's lock); the message names it."""


class DriverLostError(WorkspaceError):
    """Another process owns the sweep now: every write of this process's driver is refused."""
