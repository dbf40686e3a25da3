"""An executor defined outside hypersweep: script trials on this machine, at a lower CPU priority.

Usable as ``compute: nice`` in a sweep file and as ``compute_target="nice"`` in ``ScriptRunConfig``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from hypersweep.executors import LocalProcessExecutor, TrialSpec


class NiceExecutor(LocalProcessExecutor):
    """Runs each script trial under ``nice -n 5``: the local executor's lifecycle, a lower priority.

    Args:
        resources: what each trial asks for (as for the local executor).
    """

    compute_targets: ClassVar[tuple[str, ...]] = ("nice",)
    runs_scripts: ClassVar[bool] = True
    runs_callables: ClassVar[bool] = False

    niceness = 5

    def __init__(self, resources: dict | None = None) -> None:
        super().__init__(resources=resources)

    def start(self, spec: TrialSpec) -> None:
        argv = ["nice", "-n", str(self.niceness), *(spec.argv or [])]
        super().start(dataclasses.replace(spec, argv=argv))
