"""Champion integrity and the gate verdict, on real files: what live inference refuses, and why."""

import hashlib
import json

import pytest

from numerai_assets.core.live.gates import GateResult
from numerai_assets.core.live.predict import ChampionError, verify_champion
from numerai_assets.core.live.verdict import build_verdict, live_contract_entry, pending_verdict, refusal


def write_seed(folder, name: str, payload: bytes, **manifest_extra) -> dict:
    """A model file and its manifest side by side, as training writes them; returns its record seed."""
    folder.mkdir(parents=True, exist_ok=True)
    model, manifest = folder / f"{name}.lgb.txt", folder / f"{name}.manifest.json"
    model.write_bytes(payload)
    sha = hashlib.sha256(payload).hexdigest()
    manifest.write_text(json.dumps({"model": name, "model_sha256": sha, **manifest_extra}))
    return {
        "model_key": str(model.relative_to(folder.parent)),
        "manifest_key": str(manifest.relative_to(folder.parent)),
        "model_sha256": sha,
    }


def verify(tmp_path, record, version="v5.2"):
    return verify_champion("m", record, "champions/m.json", lambda key: tmp_path / key, version)


def test_a_consistent_champion_gives_its_seed_files(tmp_path):
    seed = write_seed(tmp_path / "models", "m-seed0", b"model zero")
    assert verify(tmp_path, {"seeds": [seed], "dataset_version": "v5.2"}) == [tmp_path / seed["model_key"]]


def test_another_models_valid_files_swapped_in_are_refused(tmp_path):
    seed = write_seed(tmp_path / "models", "m-seed0", b"model zero")
    write_seed(tmp_path / "models", "m-seed0", b"another model")  # valid file + manifest, other model
    with pytest.raises(ChampionError, match="was replaced") as error:
        verify(tmp_path, {"seeds": [seed]})
    assert "m-seed0.lgb.txt" in str(error.value) and seed["model_sha256"][:12] in str(error.value)


def test_a_model_file_not_matching_its_own_manifest_is_refused(tmp_path):
    seed = write_seed(tmp_path / "models", "m-seed0", b"model zero")
    (tmp_path / seed["model_key"]).write_bytes(b"tampered")
    with pytest.raises(ChampionError, match="was replaced"):
        verify(tmp_path, {"seeds": [seed]})


def test_a_champion_of_another_dataset_version_says_retrain(tmp_path):
    seed = write_seed(tmp_path / "models", "m-seed0", b"model zero")
    with pytest.raises(ChampionError, match="trained on dataset v5.1.*configured dataset version is v5.2.*retrain"):
        verify(tmp_path, {"seeds": [seed], "dataset_version": "v5.1"})


def test_corrupt_or_incomplete_records_and_manifests_name_the_file(tmp_path):
    seed = write_seed(tmp_path / "models", "m-seed0", b"model zero")
    with pytest.raises(ChampionError, match=r"champions/m.json lacks key 'seeds'"):
        verify(tmp_path, {"model": "m"})
    with pytest.raises(ChampionError, match=r"champions/m.json lacks key 'model_sha256'"):
        verify(tmp_path, {"seeds": [{k: v for k, v in seed.items() if k != "model_sha256"}]})
    manifest = tmp_path / seed["manifest_key"]
    manifest.write_text('{"model_sha256": ')
    with pytest.raises(ChampionError, match=f"manifest {manifest} is not valid JSON"):
        verify(tmp_path, {"seeds": [seed]})
    manifest.write_text("{}")
    with pytest.raises(ChampionError, match=f"manifest {manifest} lacks key 'model_sha256'"):
        verify(tmp_path, {"seeds": [seed]})


SHA = "ab" * 32
PASSED = [GateResult("std_above_floor", True, "ok"), GateResult("feature_drift", False, "drifted")]
LIVE_OK = live_contract_entry("cd" * 32, True, [])


def check(verdict, sha=SHA):
    return refusal(verdict, source="v.json", sha256=sha, round_number=7, slot="s")


def test_a_verdict_clears_only_the_file_it_judged_with_blocking_gates_and_contract_passed():
    good = build_verdict(round_number=7, slot="s", sha256=SHA, gates=PASSED, live_contract=LIVE_OK)
    assert check(good) is None  # a failing warning (drift) does not block
    assert "judged sha256 abababababab" in check(good, sha="ef" * 32)
    assert "no gate verdict v.json" in check(None)
    assert "pending" in check(pending_verdict(7, "s"))
    gated = build_verdict(
        round_number=7,
        slot="s",
        sha256=SHA,
        live_contract=LIVE_OK,
        gates=[GateResult("numerai_validation", False, "bad"), *PASSED],
    )
    assert "blocking gates failed" in check(gated) and "numerai_validation" in check(gated)
    assert "feature_drift" not in check(gated)
    broken_live = build_verdict(
        round_number=7,
        slot="s",
        sha256=SHA,
        gates=PASSED,
        live_contract=live_contract_entry("cd" * 32, False, ["unique_ids: 3 dup"]),
    )
    assert "live contract (unique_ids: 3 dup)" in check(broken_live)
    other_round = {**good, "round": 6}
    assert "round 6" in check(other_round)
    assert "malformed" in check({"sha256": SHA})


def test_a_stored_live_contract_is_read_back_only_for_the_same_file(tmp_path):
    """live_data records the contract beside the live file; a slot reads it back only for the
    exact file (sha256) it judged, so a replaced live file is checked again."""
    from numerai_assets.core.live.verdict import store_live_contract, stored_live_contract

    live = tmp_path / "live.parquet"
    assert stored_live_contract(live, "ab" * 32) is None  # nothing recorded yet
    store_live_contract(live, live_contract_entry("ab" * 32, False, ["unique_ids: 3 dup"]))
    assert stored_live_contract(live, "ab" * 32) == live_contract_entry("ab" * 32, False, ["unique_ids: 3 dup"])
    assert stored_live_contract(live, "cd" * 32) is None  # another file under the same name
    (tmp_path / "live.parquet.contract.json").write_text("{")
    assert stored_live_contract(live, "ab" * 32) is None  # unreadable: checked again
