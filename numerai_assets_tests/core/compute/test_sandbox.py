"""The sandbox proof with the image's real Python and pinned libraries (a venv built once, see
sandbox_env.py): the demo ensemble passes all four verdicts; pickles that break a limit, touch the
network, return bad output or need a missing module are stopped, each verdict saying why."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import cloudpickle
import pytest

from numerai_assets.core.compute.build import build_pickle, slot_spec
from numerai_assets.core.compute.proof import TOLERANCE, prove_pickle
from numerai_assets.core.compute.sandbox import Limits, SandboxError, find_interpreter, network_isolation
from numerai_assets.core.live.predict import predict_slot


def _verdicts(proof) -> dict:
    return {v.name: v for v in proof.verdicts}


def _pickle(env, source: str, path: Path) -> Path:
    """A test pickle of the ``predict`` defined in ``source``, made by the image's own Python
    (a pickle made by ours would be foreign bytecode there; that failure is the build's to avoid)."""
    script = f"{source}\nimport cloudpickle\nopen({str(path)!r}, 'wb').write(cloudpickle.dumps(predict))\n"
    done = subprocess.run([str(env.python), "-I", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def expected(champions: dict, live_round: dict):
    return predict_slot(champions, live_round["live"]).predictions


def test_demo_ensemble_is_proven(sandbox_env, champions: dict, live_round: dict, expected, tmp_path: Path) -> None:
    built = build_pickle(tmp_path / "slot.pkl", slot_spec(champions), sandbox_env.python)
    proof = prove_pickle(
        sandbox_env, built.path, live_round["live"], live_round["benchmark"], expected, tmp_path / "run"
    )
    assert proof.passed, proof.failures()
    meta = proof.metadata()
    assert meta["sandbox_python"].startswith(sandbox_env.image.python + ".")
    assert (
        f"Python {sandbox_env.image.python}." in meta["sandbox_interpreter"]
        and meta["network_isolation"] == "unshare --net"
    )
    assert 0 < meta["peak_mb"] < 4096 and 0 < meta["seconds"] < 600
    assert meta["max_abs_diff"] <= TOLERANCE
    print(f"\ndemo ensemble in {sandbox_env.base_interpreter}: {meta['seconds']} s, peak {meta['peak_mb']} MB")


def test_demo_ensemble_over_a_small_memory_limit_is_stopped(
    sandbox_env, champions: dict, live_round: dict, expected, tmp_path: Path
) -> None:
    built = build_pickle(tmp_path / "slot.pkl", slot_spec(champions), sandbox_env.python)
    limits = Limits(memory_mb=400)
    proof = prove_pickle(sandbox_env, built.path, live_round["live"], None, expected, tmp_path / "run", limits)
    verdicts = _verdicts(proof)
    assert not verdicts["within_limits"].passed, proof.run
    assert "out of memory at the 400 MB limit" in verdicts["within_limits"].reason


HOG = """
import numpy as np
def predict(live_features, live_benchmark_models):
    block = np.ones((2500, 1024, 1024), dtype=np.uint8)  # 2.5 GB
    return block.sum()
"""


def test_memory_hog_is_stopped_by_the_limit(sandbox_env, live_round: dict, expected, tmp_path: Path) -> None:
    path = _pickle(sandbox_env, HOG, tmp_path / "hog.pkl")
    limits = Limits(memory_mb=1800, timeout_s=120)
    proof = prove_pickle(sandbox_env, path, live_round["live"], None, expected, tmp_path / "run", limits)
    verdicts = _verdicts(proof)
    assert not proof.passed
    assert not verdicts["within_limits"].passed
    assert "out of memory at the 1800 MB limit" in verdicts["within_limits"].reason


SLEEPER = """
import time
def predict(live_features, live_benchmark_models):
    time.sleep(60)
"""


def test_slow_pickle_is_killed_at_the_time_limit(sandbox_env, live_round: dict, expected, tmp_path: Path) -> None:
    path = _pickle(sandbox_env, SLEEPER, tmp_path / "slow.pkl")
    proof = prove_pickle(sandbox_env, path, live_round["live"], None, expected, tmp_path / "run", Limits(timeout_s=8))
    verdicts = _verdicts(proof)
    assert proof.run.timed_out and proof.run.seconds < 30
    assert "killed at the 8 s time limit" in verdicts["within_limits"].reason


CALLER = """
import socket
import pandas as pd
def predict(live_features, live_benchmark_models):
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        raise SystemExit("connected to the test's listening socket")
    except OSError as exc:
        raise SystemExit(f"no network: {{exc}}")
"""


def test_no_network_inside(sandbox_env, live_round: dict, expected, tmp_path: Path) -> None:
    """Even loopback is unreachable (a fresh network namespace with no interface up)."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        path = _pickle(sandbox_env, CALLER.format(port=listening.getsockname()[1]), tmp_path / "net.pkl")
        proof = prove_pickle(sandbox_env, path, live_round["live"], None, expected, tmp_path / "run")
    assert "SystemExit: no network: [Errno 101] Network is unreachable" in proof.run.result["error"]
    assert proof.run.isolation == "unshare --net"
    assert not proof.passed


NAN = """
import pandas as pd
def predict(live_features, live_benchmark_models):
    return pd.DataFrame({"prediction": float("nan")}, index=live_features.index)
"""


def test_nan_output_is_not_a_valid_submission(sandbox_env, live_round: dict, expected, tmp_path: Path) -> None:
    proof = prove_pickle(
        sandbox_env,
        _pickle(sandbox_env, NAN, tmp_path / "nan.pkl"),
        live_round["live"],
        None,
        expected,
        tmp_path / "run",
    )
    verdicts = _verdicts(proof)
    assert verdicts["loads_in_image"].passed and verdicts["within_limits"].passed
    assert "NaN predictions" in verdicts["valid_submission"].reason
    assert not verdicts["equals_live_path"].passed


def test_pickle_needing_a_missing_module_fails_to_load(sandbox_env, live_round: dict, expected, tmp_path: Path) -> None:
    path = tmp_path / "ref.pkl"
    path.write_bytes(cloudpickle.dumps(predict_slot))  # by reference: numerai_assets is not in the image
    proof = prove_pickle(sandbox_env, path, live_round["live"], None, expected, tmp_path / "run")
    assert "ModuleNotFoundError: No module named 'numerai_assets'" in _verdicts(proof)["loads_in_image"].reason


def test_missing_interpreter_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match=r"needs Python 3\.99, but no interpreter was found under .*versions"):
        find_interpreter("3.99", pyenv_root=tmp_path)


def test_no_network_isolation_without_root_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """(os.geteuid is patched: the suite runs as root, and the refusal must name the cause.)"""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxError, match=r"no network isolation: 'unshare --net' needs root .*euid 1000"):
        network_isolation(Limits())
    assert network_isolation(Limits(network=True)) == []  # only by explicit choice
