"""Sampling methods: random (seeded, Sobol), grid and Bayesian.

Each method is one module whose class sets ``sampling_name`` (HyperDrive's) and ``yaml_type`` (the
sweep file's); defining it registers it (``hypersweep.sampling.base.SAMPLERS``), and importing it
here exports it.
"""

from hypersweep.sampling.base import HyperParameterSampling, Observation
from hypersweep.sampling.bayesian import BayesianParameterSampling
from hypersweep.sampling.grid import GridParameterSampling
from hypersweep.sampling.random import RandomParameterSampling

__all__ = [
    "BayesianParameterSampling",
    "GridParameterSampling",
    "HyperParameterSampling",
    "Observation",
    "RandomParameterSampling",
]
