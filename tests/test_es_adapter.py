"""benchmarks/es_adapter.py: the named presets build the documented RobustAshaPolicy settings, and
the adapter drives a policy through the shared harness's interface."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from hypersweep.policy import RobustAshaPolicy

ADAPTER = Path(__file__).resolve().parents[1] / "benchmarks" / "es_adapter.py"


def load_adapter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("es_adapter_under_test", ADAPTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_presets_are_the_documented_settings() -> None:
    adapter = load_adapter()
    recommended = adapter.make_policy("maximize", policy="recommended", max_interval=50)
    assert recommended.policy == RobustAshaPolicy(max_interval=50)
    aggressive = adapter.make_policy(
        "maximize", policy="aggressive", max_interval=50, n_trials=100, concurrency=4, seed=3
    )
    assert aggressive.policy == RobustAshaPolicy(
        reduction_factor=3,
        min_interval=1,
        max_interval=50,
        noise_factor=0.5,
        noise_window=5,
        climb_factor=1.0,
        resolution_factor=0.0,
        keep_improving_ties=False,
    )
    # A key given with a preset overrides the preset's value.
    custom = adapter.make_policy("maximize", policy="aggressive", max_interval=50, noise_window=3)
    assert custom.policy.noise_window == 3
    assert custom.policy.reduction_factor == 3


def test_the_aggressive_preset_stops_the_bottom_two_thirds_at_the_first_report() -> None:
    adapter = load_adapter()
    policy = adapter.make_policy("maximize", policy="aggressive", max_interval=10)
    reports: dict[int, list[float]] = {}
    stopped = []
    for trial_id in range(6):
        policy.on_trial_start(trial_id)
        value = 0.1 * (trial_id + 1)
        reports[trial_id] = [value]
        if policy.on_report(trial_id, 1, value, reports):
            stopped.append(trial_id)
            policy.on_trial_end(trial_id, "stopped", reports)
    # Rising values: each new trial is at the top when it reports, so none stops ...
    assert stopped == []
    # ... but a seventh one outside the top third of the first report does (0.5 and 0.6 are
    # the top 2 of 7) ...
    policy.on_trial_start(6)
    reports[6] = [0.45]
    assert policy.on_report(6, 1, 0.45, reports)
    policy.on_trial_end(6, "stopped", reports)
    # ... and an eighth one inside it goes on (only 0.6 is ahead of it; the top 2 of 8 are kept).
    policy.on_trial_start(7)
    reports[7] = [0.55]
    assert not policy.on_report(7, 1, 0.55, reports)
