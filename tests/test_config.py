from __future__ import annotations

import warnings

import pytest

from hypersweep import (
    GridParameterSampling,
    HyperDriveConfig,
    InvalidConfigError,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    choice,
    uniform,
)


def fn(cfg):
    return 0.0


def make(**overrides):
    kwargs = dict(
        run_config=fn,
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
        primary_metric_name="acc",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=10,
    )
    kwargs.update(overrides)
    return HyperDriveConfig(**kwargs)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"max_total_runs": 0},
            "The 'max_total_runs' parameter of HyperDriveConfig must be an integer in [1, 1000]. Got 0 instead.",
        ),
        (
            {"max_total_runs": 1001},
            "'max_total_runs' parameter of HyperDriveConfig must be an integer in [1, 1000]. Got 1001",
        ),
        ({"max_total_runs": 2.5}, "'max_total_runs'"),
        ({"max_total_runs": None}, "'max_total_runs'"),
        (
            {"max_concurrent_runs": 101},
            "'max_concurrent_runs' parameter of HyperDriveConfig must be an integer in [1, 100]. Got 101",
        ),
        ({"max_concurrent_runs": -1}, "'max_concurrent_runs'"),
        ({"max_duration_minutes": 0}, "'max_duration_minutes'"),
        (
            {"primary_metric_goal": "maximise"},
            "'primary_metric_goal' parameter must be either 'maximize' or 'minimize'",
        ),
        ({"primary_metric_goal": None}, "'primary_metric_goal'"),
        ({"primary_metric_name": ""}, "'primary_metric_name'"),
        ({"hyperparameter_sampling": None}, "'hyperparameter_sampling'"),
        ({"run_config": None}, "needs run_config"),
        ({"run_config": 3}, "'run_config'"),
        ({"policy": "bandit"}, "'policy'"),
        ({"trial_timeout": 0}, "'trial_timeout'"),
        ({"custom_run_id": "a b"}, "'custom_run_id'"),
    ],
)
def test_invalid_config_names_the_field(overrides, message) -> None:
    with pytest.raises(InvalidConfigError) as info:
        make(**overrides)
    assert message in str(info.value)


def test_defaults_follow_hyperdrive() -> None:
    config = make(max_total_runs=12, max_concurrent_runs=None)
    assert config.max_concurrent_runs == 12
    assert make(max_total_runs=500, max_concurrent_runs=0).max_concurrent_runs == 100
    assert config.max_duration_minutes == 10080
    assert make(primary_metric_goal="Minimize").primary_metric_goal is PrimaryMetricGoal.MINIMIZE
    with pytest.warns(
        UserWarning, match=r"\(20000 minutes\) exceeds the service limit of 10080 minutes"
    ):
        assert make(max_duration_minutes=20000).max_duration_minutes == 10080


def test_script_arguments_append_sampled_flags_and_drop_duplicates(tmp_path) -> None:
    (tmp_path / "train.py").write_text("")
    src = ScriptRunConfig(
        source_directory=tmp_path,
        script="train.py",
        arguments=["--kernel", "linear", "--penalty", 1.0, "--data", "x"],
    )
    with pytest.warns(UserWarning, match="override"):
        args = src.build_arguments({"--kernel": "rbf", "penalty": 0.5})
    assert args == ["--data", "x", "--kernel", "rbf", "--penalty", "0.5"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert src.build_arguments({"lr": 0.1}) == [
            "--kernel",
            "linear",
            "--penalty",
            "1.0",
            "--data",
            "x",
            "--lr",
            "0.1",
        ]


def test_command_placeholders_are_substituted(tmp_path) -> None:
    (tmp_path / "train.py").write_text("")
    src = ScriptRunConfig(
        source_directory=tmp_path,
        command="python train.py --lr ${{search_space.lr}} --data ${{inputs.data}}",
        inputs={"data": "/d"},
    )
    assert src.build_arguments({"lr": 0.5})[1:] == ["train.py", "--lr", "0.5", "--data", "/d"]
    argv = src.build_argv(src.build_arguments({"lr": 0.5}))
    assert argv[0].endswith("python") or "python" in argv[0]
    with pytest.raises(InvalidConfigError, match="never used in trial.command"):
        make(
            run_config=src,
            hyperparameter_sampling=RandomParameterSampling(
                {"lr": uniform(0, 1), "b": choice(1, 2)}
            ),
        )
    with pytest.raises(InvalidConfigError, match="does not define"):
        make(run_config=src, hyperparameter_sampling=GridParameterSampling({"b": choice(1, 2)}))


def test_script_run_config_checks_its_inputs(tmp_path) -> None:
    with pytest.raises(InvalidConfigError, match="'source_directory'"):
        ScriptRunConfig(source_directory=tmp_path / "missing", script="train.py")
    with pytest.raises(InvalidConfigError, match="'script'"):
        ScriptRunConfig(source_directory=tmp_path, script="missing.py")
    with pytest.raises(InvalidConfigError, match="exactly one of 'script'"):
        ScriptRunConfig(source_directory=tmp_path)
    (tmp_path / "t.py").write_text("")
    with pytest.raises(InvalidConfigError, match="'arguments'"):
        ScriptRunConfig(source_directory=tmp_path, script="t.py", arguments="--x 1")


def test_script_run_config_refuses_at_construction_what_would_fail_every_run(tmp_path) -> None:
    (tmp_path / "t.py").write_text("")
    with pytest.raises(InvalidConfigError) as info:
        ScriptRunConfig(source_directory=tmp_path, script="t.py", max_run_duration_seconds=-5)
    assert str(info.value) == (
        "The 'max_run_duration_seconds' parameter of ScriptRunConfig must be a positive number of seconds. "
        "Got -5 instead."
    )
    with pytest.raises(
        InvalidConfigError,
        match=r"The 'command' parameter of ScriptRunConfig must be a non-empty list",
    ):
        ScriptRunConfig(source_directory=tmp_path, command=[])
    with pytest.raises(InvalidConfigError) as info:
        ScriptRunConfig(source_directory=tmp_path, command="python t.py --name 'unbalanced")
    assert (
        "'command' parameter of ScriptRunConfig must be a command line with balanced quotes (No closing quotation)"
        in str(info.value)
    )
    with pytest.raises(
        InvalidConfigError, match="'environment_variables' parameter of ScriptRunConfig"
    ):
        ScriptRunConfig(source_directory=tmp_path, script="t.py", environment_variables=["A=1"])
    with pytest.raises(
        InvalidConfigError,
        match="'arguments' parameter of ScriptRunConfig must be strings and numbers",
    ):
        ScriptRunConfig(source_directory=tmp_path, script="t.py", arguments=["--x", {"a": 1}])
    ok = ScriptRunConfig(
        source_directory=tmp_path, command=["python", "t.py", 3, True], max_run_duration_seconds=2
    )
    assert ok.command == ["python", "t.py", "3", "True"]
    assert make(run_config=ok, max_total_runs=1).trial_timeout == 2
