"""The same sweep written as a HyperDrive notebook would, with only the import lines changed.

python examples/digits/run_sweep.py
"""

import os
from pathlib import Path

from hypersweep import (
    BanditPolicy,
    Experiment,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    loguniform,
)

ws = Workspace.from_config()
experiment = Experiment(workspace=ws, name="digits-mlp")

src = ScriptRunConfig(
    source_directory=str(Path(__file__).parent),
    script="train.py",
    arguments=["--epochs", 20],
)
param_sampling = RandomParameterSampling(
    {
        "--hidden": choice(16, 32, 64, 128),
        "--alpha": loguniform(-12, -2),
        "--learning-rate": loguniform(-9, -2),
        "--batch-size": choice(32, 64, 128),
    },
    properties={"seed": 7},
)
early_termination_policy = BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=5)

hyperdrive_config = HyperDriveConfig(
    run_config=src,
    hyperparameter_sampling=param_sampling,
    policy=early_termination_policy,
    primary_metric_name="accuracy",
    primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
    max_total_runs=int(os.environ.get("EXAMPLE_RUNS", 16)),  # the tests run fewer
    max_concurrent_runs=2,
)

hyperdrive_run = experiment.submit(hyperdrive_config)
hyperdrive_run.wait_for_completion(show_output=True)

best_run = hyperdrive_run.get_best_run_by_primary_metric()
print("Best run:", best_run.id)
print("Its metrics:", {k: v for k, v in best_run.get_metrics().items() if k != "loss"})
print("Its arguments:", best_run.get_details()["runDefinition"]["arguments"])
best_run.download_file("outputs/model.joblib", output_file_path="best_model.joblib")
print("Model saved to best_model.joblib")
