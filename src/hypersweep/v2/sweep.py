"""``azure.ai.ml.sweep``'s classes, with v2's names and arguments, on hypersweep's expressions and policies.

The expressions are hypersweep's own (so a ``search_space`` built from them is one hypersweep
understands everywhere); the policies and sampling algorithms become the sweep job's YAML sections.

Example:
    >>> from hypersweep.v2.sweep import Choice, Uniform, BanditPolicy
    >>> Uniform(min_value=0.01, max_value=0.9).to_dict()
    {'type': 'uniform', 'min_value': 0.01, 'max_value': 0.9}
"""

from __future__ import annotations

from hypersweep.v2._jobs import Objective, SweepJob, SweepJobLimits
from hypersweep.v2._search import (
    BanditPolicy,
    BayesianSamplingAlgorithm,
    Choice,
    GridSamplingAlgorithm,
    LogNormal,
    LogUniform,
    MedianStoppingPolicy,
    Normal,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    Randint,
    RandomSamplingAlgorithm,
    TruncationSelectionPolicy,
    Uniform,
)

__all__ = [
    "BanditPolicy",
    "BayesianSamplingAlgorithm",
    "Choice",
    "GridSamplingAlgorithm",
    "LogNormal",
    "LogUniform",
    "MedianStoppingPolicy",
    "Normal",
    "Objective",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "RandomSamplingAlgorithm",
    "Randint",
    "SweepJob",
    "SweepJobLimits",
    "TruncationSelectionPolicy",
    "Uniform",
]
