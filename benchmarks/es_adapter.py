"""Adapter that lets the shared early-stopping harness drive hypersweep's own policies.

The harness (``../shared/bench/early_stop/harness.py``) calls ``make_policy(goal, **kwargs)``
with ``{"policy": "bandit" | "median" | "truncation" | "asha" | "robust_asha" | "none", ...}`` from
``--adapter-kwargs``; every other key is passed to the policy's constructor. ``"recommended"`` and
``"aggressive"`` name the two ``RobustAshaPolicy`` settings of ``benchmarks/results/early_stop.md``
(see ``PRESETS``). Example::

    python harness.py --adapter benchmarks/es_adapter.py \
        --adapter-kwargs '{"policy": "median", "evaluation_interval": 1, "delay_evaluation": 5}' \
        --name hs_median_1_5 --concurrency 1,4 --seeds 20 --n-trials 100 --out es.jsonl

Each trial gets a ``RunHistory`` whose ``values`` is the harness's own list for that trial (the
harness appends to it in place), so nothing is copied per report. ``on_trial_end`` marks a trial
Completed or Canceled. ASHA and robust ASHA receive the harness's ``max_interval`` unless one is given.
"""

from __future__ import annotations

from typing import Any

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import (
    AshaPolicy,
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    RobustAshaPolicy,
    RunHistory,
    TruncationSelectionPolicy,
)
from hypersweep.status import RunStatus

_POLICIES: dict[str, type[EarlyTerminationPolicy]] = {
    "bandit": BanditPolicy,
    "median": MedianStoppingPolicy,
    "truncation": TruncationSelectionPolicy,
    "asha": AshaPolicy,
    "robust_asha": RobustAshaPolicy,
    "none": NoTerminationPolicy,
}


# The two settings the README recommends, by name: ``{"policy": "recommended"}`` and
# ``{"policy": "aggressive"}`` (other keys given with them override the preset's).
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "recommended": (
        "robust_asha",
        {
            "reduction_factor": 3,
            "min_interval": 3,
            "noise_factor": 0.1,
            "noise_window": 4,
            "climb_factor": 0.0,
            "resolution_factor": 0.0,
            "keep_improving_ties": True,
        },
    ),
    "aggressive": (
        "robust_asha",
        {
            "reduction_factor": 3,
            "min_interval": 1,
            "noise_factor": 0.5,
            "noise_window": 5,
            "climb_factor": 1.0,
            "resolution_factor": 0.0,
            "keep_improving_ties": False,
        },
    ),
}


class HypersweepAdapter:
    """The harness's policy object, backed by a hypersweep ``EarlyTerminationPolicy``."""

    def __init__(self, goal: str, policy: EarlyTerminationPolicy) -> None:
        self.goal = PrimaryMetricGoal.from_str(goal)
        self.policy = policy
        self.name = repr(policy)
        self.histories: dict[str, RunHistory] = {}

    def on_trial_start(self, trial_id: int) -> None:
        self.histories[str(trial_id)] = RunHistory(str(trial_id))

    def on_report(
        self, trial_id: int, interval: int, value: float, all_reports: dict[int, list[float]]
    ) -> bool:
        run_id = str(trial_id)
        history = self.histories.get(run_id)
        if history is None:
            history = self.histories[run_id] = RunHistory(run_id)
        history.values = all_reports[trial_id]  # the harness appends to this list in place
        if not self.policy.should_evaluate(interval):
            return False
        return self.policy.evaluate(run_id, interval, self.histories, self.goal).stop

    def on_trial_end(self, trial_id: int, status: str, all_reports: dict[int, list[float]]) -> None:
        history = self.histories[str(trial_id)]
        history.status = RunStatus.COMPLETED if status == "completed" else RunStatus.CANCELED


def make_policy(goal: str, policy: str = "none", **kwargs: Any) -> HypersweepAdapter:
    """Build the adapter; ``kwargs`` beyond the harness context go to the policy's constructor."""
    max_interval = kwargs.pop("max_interval", None)
    for context_key in ("n_trials", "concurrency", "seed"):
        kwargs.pop(context_key, None)
    if policy in PRESETS:
        policy, preset = PRESETS[policy]
        kwargs = {**preset, **kwargs}
    if policy in ("asha", "robust_asha"):
        kwargs.setdefault("max_interval", max_interval)
    return HypersweepAdapter(goal, _POLICIES[policy](**kwargs))
