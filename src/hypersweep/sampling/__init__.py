"""Sampling methods: random (seeded, Sobol), grid and Bayesian."""

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
