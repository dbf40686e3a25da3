"""Azure ML's ``azureml.core.compute_target``: where notebooks import ``ComputeTargetException`` from."""

from __future__ import annotations

from hypersweep.compute import ComputeTarget, ComputeTargetException

__all__ = ["ComputeTarget", "ComputeTargetException"]
