"""Azure ML SDK v2's Python API for sweeps (``azure.ai.ml``), running locally on hypersweep.

An SDK v2 sweep notebook runs after changing its import lines::

    from hypersweep.v2 import MLClient, command, Input, DefaultAzureCredential
    from hypersweep.v2.sweep import Choice, Uniform, MedianStoppingPolicy

    ml_client = MLClient(DefaultAzureCredential(), "<SUBSCRIPTION_ID>", "<RESOURCE_GROUP>", "<WORKSPACE>")
    job = command(code="./src", command="python main.py --lr ${{inputs.lr}}", inputs={"lr": 0.1})
    sweep_job = job(lr=Uniform(min_value=0.01, max_value=0.9)).sweep(
        sampling_algorithm="random", primary_metric="accuracy", goal="Maximize")
    sweep_job.set_limits(max_total_trials=20, max_concurrent_trials=4)
    returned = ml_client.create_or_update(sweep_job)
    ml_client.jobs.stream(returned.name)

A sweep job is written into the same sweep-job YAML mapping a file holds (``job.dump(path)`` writes
it) and validated by the same code as ``hypersweep run``; the trials, records and dashboard are
hypersweep's.
"""

from __future__ import annotations

from typing import Any

from hypersweep.v2._client import DefaultAzureCredential, JobOperations, MLClient
from hypersweep.v2._jobs import CommandJob, Input, Job, Output, SweepJob, dump_yaml

__all__ = [
    "CommandJob",
    "DefaultAzureCredential",
    "Input",
    "Job",
    "JobOperations",
    "MLClient",
    "Output",
    "SweepJob",
    "command",
    "dump_yaml",
]


def command(**kwargs: Any) -> CommandJob:
    """A command job: ``command(code=..., command=..., inputs=..., outputs=..., environment=..., compute=...)``.

    Call it with sweep expressions for some inputs (``job(lr=Uniform(...))``), then ``.sweep(...)``.
    """
    return CommandJob(**kwargs)
