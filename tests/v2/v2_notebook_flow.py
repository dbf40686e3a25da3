"""The flow of Azure ML's SDK v2 sweep notebook (LightGBM on iris), with hypersweep.v2 imports.

Run as ``python v2_notebook_flow.py IRIS_CSV_URL CODE_FOLDER`` in an empty folder (the workspace).
"""

import sys

from hypersweep.v2 import DefaultAzureCredential, Input, MLClient, command
from hypersweep.v2.sweep import Choice, MedianStoppingPolicy, Uniform

iris_url, code = sys.argv[1], sys.argv[2]

ml_client = MLClient(
    DefaultAzureCredential(), "<SUBSCRIPTION_ID>", "<RESOURCE_GROUP>", "<AML_WORKSPACE_NAME>"
)

command_job = command(
    code=code,
    command="python boosting.py --iris-csv ${{inputs.iris_csv}} --learning-rate ${{inputs.learning_rate}} "
    "--boosting ${{inputs.boosting}}",
    environment="AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu@latest",
    inputs={
        "iris_csv": Input(type="uri_file", path=iris_url),
        "learning_rate": 0.9,
        "boosting": "gbdt",
    },
    compute="cpu-cluster",
)
returned_job = ml_client.jobs.create_or_update(command_job)
print("command job", returned_job.name, returned_job.studio_url)
ml_client.jobs.stream(returned_job.name)

command_job_for_sweep = command_job(
    learning_rate=Uniform(min_value=0.01, max_value=0.9),
    boosting=Choice(values=["gbdt", "dart"]),
)
sweep_job = command_job_for_sweep.sweep(
    compute="cpu-cluster",
    sampling_algorithm="random",
    primary_metric="test-multi_logloss",
    goal="Minimize",
)
sweep_job.set_limits(max_total_trials=4, max_concurrent_trials=2, timeout=7200)
returned_sweep_job = ml_client.create_or_update(sweep_job)
print("sweep job", returned_sweep_job.name, returned_sweep_job.studio_url)
ml_client.jobs.stream(returned_sweep_job.name)

command_component = command(
    code=code,
    command="python boosting.py --iris-csv ${{inputs.iris_csv}} --learning-rate ${{inputs.learning_rate}} "
    "--boosting ${{inputs.boosting}}",
    environment="AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu@latest",
    inputs={"iris_csv": Input(type="uri_file"), "learning_rate": 0.9, "boosting": "gbdt"},
    display_name="lightgbm-iris-example",
    experiment_name="lightgbm-iris-example",
    description="Train a model on the Iris dataset.",
)
component_for_sweep = command_component(
    learning_rate=Uniform(min_value=0.01, max_value=0.9),
    boosting=Choice(values=["gbdt", "dart"]),
    iris_csv=Input(type="uri_file", path=iris_url),
)
component_sweep_job = component_for_sweep.sweep(
    compute="cpu-cluster",
    sampling_algorithm="random",
    primary_metric="test-multi_logloss",
    goal="Minimize",
)
component_sweep_job.display_name = "lightgbm-iris-sweep-example"
component_sweep_job.experiment_name = "lightgbm-iris-sweep-example"
component_sweep_job.description = "Run a hyperparameter sweep job on the Iris dataset."
component_sweep_job.set_limits(max_total_trials=4, max_concurrent_trials=2, timeout=7200)
component_sweep_job.early_termination = MedianStoppingPolicy(
    delay_evaluation=5, evaluation_interval=2
)
returned_component_job = ml_client.jobs.create_or_update(component_sweep_job)
ml_client.jobs.stream(returned_component_job.name)

best = ml_client.jobs.get(returned_component_job.name).properties["best_child_run_id"]
print("best", returned_component_job.name, best, returned_component_job.status)
