"""Environments: specifications, the registry, and real virtual environments built from a local wheel."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

import hypersweep.run
from hypersweep import (
    CondaDependencies,
    Environment,
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    choice,
)
from hypersweep._launch import run_config_from_description
from hypersweep.environment import EnvironmentBuildError, needs_of, prepare
from hypersweep.errors import InvalidConfigError, NotFoundError, RunFailedError

PKG = "hs-tinypkg"


def make_wheel(
    folder: Path, name: str = PKG, version: str = "0.1", code: str = "VALUE = 41\n"
) -> Path:
    """A pure-Python wheel of one module, written by hand (no build backend, no network)."""
    dist = name.replace("-", "_")
    files = {
        f"{dist}/__init__.py": code,
        f"{dist}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        )
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}-{version}.dist-info/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(f"{dist}-{version}.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def tiny_env(wheels: Path, name: str = "tiny") -> Environment:
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=[f"{PKG}==0.1", "--no-index", f"--find-links={wheels}"], python_version="3"
    )
    env.environment_variables = {"TINY_FLAG": "on"}
    return env


TRAIN = """
    import os, sys
    import hs_tinypkg
    from hypersweep import Run
    run = Run.get_context()
    run.log("value", hs_tinypkg.VALUE + float(sys.argv[sys.argv.index("--x") + 1]))
    run.log("flag", os.environ.get("TINY_FLAG", "missing"))
    with open("outputs/python.txt", "w") as f:
        f.write(sys.executable)
"""


def sweep_config(src: Path, env: Environment | None, n: int = 2) -> HyperDriveConfig:
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="train.py", environment=env),
        hyperparameter_sampling=RandomParameterSampling(
            {"--x": choice(1, 2)}, properties={"seed": 1}
        ),
        primary_metric_name="value",
        primary_metric_goal="maximize",
        max_total_runs=n,
        max_concurrent_runs=2,
    )


def test_conda_dependencies_create_add_serialize_and_save(tmp_path) -> None:
    cd = CondaDependencies.create(
        pip_packages=["scikit-learn>=1.3"], conda_packages=["numpy=1.26"], python_version="3.11"
    )
    cd.add_conda_package("h5py<=3.10")
    cd.add_pip_package("joblib")
    cd.add_pip_package("joblib")  # once
    assert list(cd.conda_packages) == ["python=3.11", "numpy=1.26", "h5py<=3.10"]
    assert list(cd.pip_packages) == ["scikit-learn>=1.3", "joblib"]
    path = cd.save(tmp_path / "env.yml")
    assert "scikit-learn>=1.3" in cd.serialize_to_string()
    env = Environment.from_conda_specification("from-file", path)
    assert env.python.conda_dependencies == cd
    needs = needs_of(env)
    assert needs.python_version == "3.11"
    assert [str(r) for r in needs.requirements] == [
        "numpy==1.26.*",
        "h5py<=3.10",
        "scikit-learn>=1.3",
        "joblib",
    ]
    req = tmp_path / "requirements.txt"
    req.write_text("# comment\nnumpy>=1.0  # inline\n\n--no-index\n")
    assert list(
        Environment.from_pip_requirements("pip", req).python.conda_dependencies.pip_packages
    ) == ["numpy>=1.0", "--no-index"]


def test_bad_environment_files_name_the_parameter(tmp_path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("dependencies: [numpy\n  - : :")
    with pytest.raises(
        InvalidConfigError,
        match=r"'file_path' parameter of Environment.from_conda_specification.*does not parse",
    ):
        Environment.from_conda_specification("x", bad)
    bad.write_text("dependencies: numpy\n")
    with pytest.raises(InvalidConfigError, match="'dependencies' must be a list"):
        Environment.from_conda_specification("x", bad)
    with pytest.raises(InvalidConfigError, match="'file_path'"):
        Environment.from_conda_specification("x", tmp_path / "missing.yml")
    req = tmp_path / "req.txt"
    req.write_text("numpy\nnot a requirement !!\n")
    with pytest.raises(InvalidConfigError, match=r"line 2 of .* is not a pip requirement"):
        Environment.from_pip_requirements("x", req)
    with pytest.raises(InvalidConfigError, match="'environment' parameter of ScriptRunConfig"):
        ScriptRunConfig(source_directory=tmp_path, command="python -c 1", environment="sklearn")


def test_register_get_list_and_curated(workspace) -> None:
    env = Environment("my-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["numpy"])
    assert env.register(workspace).version == "1"
    env.environment_variables["A"] = "1"
    assert env.register(workspace).version == "2"
    assert Environment.get(workspace, "my-env").environment_variables == {"A": "1"}
    assert Environment.get(workspace, "my-env", version="1").environment_variables == {}
    assert set(Environment.list(workspace)) == {"my-env"}
    assert Environment.list(workspace)["my-env"].version == "2"
    with pytest.raises(NotFoundError, match="'nope'"):
        Environment.get(workspace, "nope")
    with pytest.raises(NotFoundError, match="no version '7'"):
        Environment.get(workspace, "my-env", version="7")
    with pytest.warns(
        UserWarning, match="curated environment; hypersweep runs it with this Python"
    ) as record:
        curated = Environment.get(workspace, name="AzureML-sklearn-1.5")
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepared = prepare(curated, workspace.path)
    assert prepared.python == sys.executable and prepared.built is None


def test_an_environment_this_python_satisfies_runs_here(workspace) -> None:
    env = Environment("here")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["numpy>=1", "azureml-defaults"], conda_packages=["python=3", "pip", "pyyaml"]
    )
    prepared = prepare(env, workspace.path, progress=False)
    assert prepared.python == sys.executable and prepared.built is None
    assert not (workspace.path / ".hypersweep" / "envs").exists()


def test_docker_and_conda_only_packages_give_one_warning(workspace) -> None:
    env = Environment("gpu")
    env.python.conda_dependencies = CondaDependencies.create(
        conda_packages=["cudatoolkit=11.3", "numpy"]
    )
    env.docker.enabled = True
    env.docker.base_image = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.1-cudnn8-ubuntu20.04"
    with pytest.warns(UserWarning) as record:
        prepared = prepare(env, workspace.path, progress=False)
    assert len(record) == 1
    message = str(record[0].message)
    assert "Docker" in message and "without Docker" in message and "cudatoolkit=11.3" in message
    assert prepared.python == sys.executable


def test_a_sweep_runs_in_a_built_environment_and_the_next_reuses_it(
    workspace, script_dir, tmp_path
) -> None:
    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    src = script_dir("train.py", TRAIN)
    env = tiny_env(wheels)
    first = Experiment(workspace, "env").submit(sweep_config(src, env))
    first.wait_for_completion()
    assert first.get_status() == "Completed"
    envs = workspace.path / ".hypersweep" / "envs"
    (folder,) = [p for p in envs.iterdir() if p.is_dir()]
    marker = folder / ".hypersweep-built"
    assert marker.is_file()
    stamp = marker.read_text()
    for child in first.get_children():
        metrics = child.get_metrics()
        assert metrics["value"] in (42.0, 43.0) and metrics["flag"] == "on"
        assert Path(
            workspace.path / ".hypersweep" / "runs" / child.id / "outputs" / "python.txt"
        ).read_text() == str(folder / "bin" / "python")
    # the same environment in a second sweep: no rebuild, and the description carries it for resume
    second = Experiment(workspace, "env").submit(sweep_config(src, tiny_env(wheels)))
    second.wait_for_completion()
    assert second.get_status() == "Completed" and marker.read_text() == stamp
    assert [p for p in envs.iterdir() if p.is_dir()] == [folder]
    description = workspace.store.sweep(second.id).config
    assert run_config_from_description(description).environment == tiny_env(wheels)


def test_a_requirement_pip_cannot_install_fails_the_sweep_before_any_trial(
    workspace, script_dir, tmp_path
) -> None:
    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    src = script_dir("train.py", TRAIN)
    earlier = Experiment(workspace, "env").submit(sweep_config(src, None, n=1))
    earlier.wait_for_completion(raise_on_error=False)
    env = Environment("broken")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["hs-not-there==9.9", "--no-index", f"--find-links={wheels}"]
    )
    with pytest.raises(
        EnvironmentBuildError, match="pip could not install hs-not-there==9.9"
    ) as info:
        Experiment(workspace, "env").submit(sweep_config(src, env))
    assert (
        "No matching distribution" in str(info.value)
        or "no matching distribution" in str(info.value).lower()
    )
    (failed,) = [s for s in workspace.store.sweeps("env") if s["id"] != earlier.id]
    assert failed["status"] == "Failed" and "hs-not-there" in failed["error"]
    assert workspace.store.runs(failed["id"]) == []
    assert (
        workspace.store.sweep(earlier.id)["status"] == earlier.get_status()
    )  # nothing recorded is lost
    envs = workspace.path / ".hypersweep" / "envs"
    assert not any((p / ".hypersweep-built").exists() for p in envs.iterdir() if p.is_dir())
    with pytest.raises(RunFailedError):
        from hypersweep import HyperDriveRun

        HyperDriveRun(Experiment(workspace, "env"), failed["id"]).wait_for_completion()


def test_env_python_leading_python_in_a_command_means_the_environment(
    workspace, script_dir, tmp_path
) -> None:
    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    src = script_dir("train.py", TRAIN)
    rc = ScriptRunConfig(
        source_directory=src, command="python train.py", environment=tiny_env(wheels, "cmd")
    )
    prepared = prepare(rc.environment, workspace.path, progress=False)
    assert rc.build_argv(["python", "train.py"], prepared.python)[0] == str(
        prepared.built / "bin" / "python"
    )
    # hypersweep is importable in it whatever PYTHONPATH says (installed, editable or from a source tree)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [
            prepared.python,
            "-c",
            "import hypersweep.run, hs_tinypkg; print(hypersweep.run.__file__)",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert Path(out).resolve() == Path(hypersweep.run.__file__).resolve()
    # a build that did not finish (no marker) is redone
    (prepared.built / ".hypersweep-built").unlink()
    (prepared.built / "bin" / "python").unlink()
    again = prepare(rc.environment, workspace.path, progress=False)
    assert again.built == prepared.built and (again.built / ".hypersweep-built").is_file()
    assert Path(again.python).exists()


BUILD_ONE = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_environment import tiny_env
from hypersweep.environment import prepare
print("BUILT" if prepare(tiny_env(Path({wheels!r})), Path({ws!r}), progress=False).built_now else "CACHED")
"""


def test_two_sweeps_starting_together_build_the_environment_once(tmp_path) -> None:
    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    code = BUILD_ONE.format(
        tests=str(Path(__file__).parent), wheels=str(wheels), ws=str(tmp_path / "ws")
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sorted(out.strip() for out, _ in outs) == ["BUILT", "CACHED"]


def test_user_managed_dependencies_run_the_given_interpreter(workspace) -> None:
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["hs-not-installed-anywhere"]
    )
    assert (
        prepare(env, workspace.path, progress=False).python == sys.executable
    )  # nothing is installed
    env.python.interpreter_path = "/no/such/python"
    with pytest.raises(InvalidConfigError, match="interpreter_path"):
        prepare(env, workspace.path, progress=False)


def test_a_resumed_sweep_runs_in_its_recorded_environment(workspace, script_dir, tmp_path) -> None:
    from hypersweep._launch import create_sweep

    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    src = script_dir("train.py", TRAIN)
    # recorded (and its environment built) by a driver that never got to start a trial, and then gave
    # the sweep up as a dead driver does
    abandoned = create_sweep(
        workspace.store,
        workspace.path,
        "env",
        sweep_config(src, tiny_env(wheels)),
        "HD_resume_env",
        {},
    )
    abandoned._on_end()
    (folder,) = [p for p in (workspace.path / ".hypersweep" / "envs").iterdir() if p.is_dir()]
    run = workspace.get_run("HD_resume_env").resume()  # rebuilt from the description alone
    run.wait_for_completion()
    children = run.get_children()
    assert len(children) == 2 and all(c.get_status() == "Completed" for c in children)
    for child in children:
        assert child.get_metrics()["flag"] == "on"
        assert (
            workspace.path / ".hypersweep" / "runs" / child.id / "outputs" / "python.txt"
        ).read_text() == str(folder / "bin" / "python")


def test_a_v2_job_environment_becomes_an_environment(workspace, tmp_path) -> None:
    from hypersweep.environment import environment_from_job

    (tmp_path / "conda.yml").write_text(
        "name: job\ndependencies:\n  - python=3.11\n  - pip:\n    - numpy>=1\n"
    )
    env = environment_from_job(
        {"image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04", "conda_file": "conda.yml"},
        tmp_path,
    )
    assert env.docker.base_image.startswith("mcr.") and list(
        env.python.conda_dependencies.pip_packages
    ) == ["numpy>=1"]
    inline = environment_from_job({"conda_file": {"dependencies": ["numpy"]}}, tmp_path)
    assert list(inline.python.conda_dependencies.conda_packages) == ["numpy"]
    with pytest.warns(UserWarning, match="curated"):
        curated = environment_from_job(
            "azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest", tmp_path
        )
    assert prepare(curated, workspace.path).python == sys.executable
    Environment("mine").register(workspace)
    assert environment_from_job("azureml:mine:1", tmp_path, workspace=workspace).version == "1"
    with pytest.raises(InvalidConfigError, match=r"trial.environment.conda_file.*does not parse"):
        (tmp_path / "bad.yml").write_text("dependencies: [a\n - :")
        environment_from_job({"conda_file": "bad.yml"}, tmp_path)
    with pytest.raises(InvalidConfigError, match="unknown key 'docker'"):
        environment_from_job({"docker": "x"}, tmp_path)
