"""Sampling methods: random (seeded, Sobol), grid and Bayesian."""

from hypersweep.sampling.base import HyperParameterSampling, Observation
from hypersweep.sampling.grid import GridParameterSampling
from hypersweep.sampling.random import RandomParameterSampling

__all__ = [
    "GridParameterSampling",
    "HyperParameterSampling",
    "Observation",
    "RandomParameterSampling",
]
