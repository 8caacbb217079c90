"""Upload through the real numerapi client to the local tournament, once per pickle; the
tournament runs each model's latest pickle at round open in the same sandbox and records a
submission, or a failure visible through the API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.compute.build import build_pickle, slot_spec
from numerai_assets.core.compute.proof import TOLERANCE
from numerai_assets.core.compute.uploads import UploadChoiceError, UploadLedger, upload_pickle
from numerai_assets.core.live.predict import predict_slot
from numerai_assets.core.numerai.client import NumeraiClient, RetryPolicy
from numerai_assets.tournament.server import TournamentServer
from numerai_assets_tests.core.compute.sandbox_env import CACHE, TEST_IMAGE

RUNS = (
    "query($m: String) { computePickleRuns(modelId: $m) { round modelId status reason submissionId peakMb seconds } }"
)


@pytest.fixture
def compute_server(tournament_root: Path, sandbox_env):
    with TournamentServer(tournament_root, compute_sandbox_root=CACHE) as srv:
        yield srv


def _client(server: TournamentServer) -> NumeraiClient:
    return NumeraiClient(
        server.url, "LOCALPUBLICID", "local-secret-key", policy=RetryPolicy(timeout_s=30, max_attempts=1)
    )


def test_upload_once_then_the_tournament_runs_it_at_round_open(
    compute_server: TournamentServer, sandbox_env, champions: dict, dataset_version: str, tmp_path: Path
) -> None:
    client = _client(compute_server)
    built = build_pickle(tmp_path / "demo_slot_b.pkl", slot_spec(champions), sandbox_env.python)
    kwargs = dict(slot="demo_slot_b", pickle_path=built.path, sha256=built.sha256)
    with UploadLedger(tmp_path / "uploads.sqlite") as ledger:
        first = upload_pickle(client, ledger, **kwargs, data_version=dataset_version, docker_image=TEST_IMAGE)
        again = upload_pickle(client, ledger, **kwargs, data_version=dataset_version, docker_image=TEST_IMAGE)
        assert first.status == "uploaded" and first.upload_id
        assert again.status == "already_uploaded" and again.upload_id == first.upload_id
        assert ledger.get("demo_slot_b", built.sha256)["status"] == "uploaded"
    stored = client._api.raw_query("query { computePickles { id sha256 dockerImage dataVersion } }", authorization=True)
    assert stored["data"]["computePickles"] == [
        {"id": first.upload_id, "sha256": built.sha256, "dockerImage": TEST_IMAGE, "dataVersion": dataset_version}
    ]

    round_ = compute_server.open_round(staking_window_s=3600)
    model_id = compute_server.models["demo_slot_b"]
    runs = client._api.raw_query(RUNS, {"m": model_id}, authorization=True)["data"]["computePickleRuns"]
    assert [(r["round"], r["status"]) for r in runs] == [(round_.number, "submitted")], runs
    assert 0 < runs[0]["peakMb"] < 4096
    subs = compute_server.state.submissions(model_ids=[model_id], round_number=round_.number)
    assert [s.id for s in subs] == [runs[0]["submissionId"]]
    live = compute_server.catalog.path_for(dataset_version, "live.parquet", round_.number)
    ours = predict_slot(champions, live).predictions
    theirs = pd.read_csv(subs[0].path).set_index("id")["prediction"]
    assert np.abs(theirs.reindex(ours.index).to_numpy() - ours.to_numpy()).max() <= TOLERANCE
    assert compute_server.state.submissions(model_ids=[compute_server.models["demo_slot_a"]]) == []


def test_a_failing_pickle_is_recorded_with_its_reason(
    compute_server: TournamentServer, sandbox_env, dataset_version: str, tmp_path: Path
) -> None:
    import subprocess

    path = tmp_path / "bad.pkl"
    script = (
        "import cloudpickle\n"
        "def predict(live_features, live_benchmark_models):\n"
        "    raise RuntimeError('model file missing')\n"
        f"open({str(path)!r}, 'wb').write(cloudpickle.dumps(predict))\n"
    )
    subprocess.run([str(sandbox_env.python), "-I", "-c", script], check=True, timeout=120)
    client = _client(compute_server)
    with UploadLedger(tmp_path / "uploads.sqlite") as ledger:
        upload_pickle(
            client,
            ledger,
            slot="demo_slot_a",
            pickle_path=path,
            sha256="bad",
            data_version=dataset_version,
            docker_image=TEST_IMAGE,
        )
    round_ = compute_server.open_round(staking_window_s=3600)
    runs = client._api.raw_query(RUNS, {"m": compute_server.models["demo_slot_a"]}, authorization=True)
    (run,) = runs["data"]["computePickleRuns"]
    assert run["status"] == "failed" and "RuntimeError: model file missing" in run["reason"]
    assert compute_server.state.submissions(round_number=round_.number) == []


def test_unknown_image_or_version_names_the_slot_and_choices(compute_server: TournamentServer, tmp_path: Path) -> None:
    (tmp_path / "x.pkl").write_bytes(b"x")
    with UploadLedger(tmp_path / "u.sqlite") as ledger:
        with pytest.raises(UploadChoiceError, match=r"slot demo_slot_a: docker image 'Python 2.7' is not offered"):
            upload_pickle(
                _client(compute_server),
                ledger,
                slot="demo_slot_a",
                pickle_path=tmp_path / "x.pkl",
                sha256="x",
                data_version=compute_server.catalog.version,
                docker_image="Python 2.7",
            )
        assert ledger.uploads() == []


def test_an_image_without_pins_fails_its_run_visibly(compute_server: TournamentServer, tmp_path: Path) -> None:
    """Numerai lists images for Pythons we hold no pins for: the run fails, saying so, no guess."""
    (tmp_path / "any.pkl").write_bytes(b"not run")
    with UploadLedger(tmp_path / "u.sqlite") as ledger:
        upload_pickle(
            _client(compute_server),
            ledger,
            slot="demo_slot_a",
            pickle_path=tmp_path / "any.pkl",
            sha256="any",
            data_version=compute_server.catalog.version,
            docker_image="Python 3.10",
        )
    round_ = compute_server.open_round(staking_window_s=3600)
    [run] = compute_server.compute.runs([compute_server.models["demo_slot_a"]], round_.number)
    assert run["status"] == "failed"
    assert "image Python 3.10" in run["reason"] and "only ['3.11', '3.12'] have pinned requirements" in run["reason"]
