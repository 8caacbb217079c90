"""W&B tracking, for real, in offline mode (no network here; offline is the default without a key)."""

import pandas as pd
import pytest

from numerai_assets.core.evaluation.tracking import Tracker, resolve_mode

SECRET = "numerai-secret-3c9f1e77"


def test_mode_is_always_explicit():
    assert resolve_mode("auto", None) == "offline"
    assert resolve_mode("auto", "k" * 40) == "online"
    assert resolve_mode("disabled", "k" * 40) == "disabled"
    with pytest.raises(ValueError, match="WANDB_API_KEY"):
        resolve_mode("online", None)
    with pytest.raises(ValueError, match="not one of"):
        resolve_mode("sometimes", None)


def test_offline_run_records_metrics_and_model_artifact_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMERAI_SECRET_KEY", SECRET)
    model = tmp_path / "model.txt"
    model.write_text("tree\n")
    manifest = {"seed": 0, "features_sha256": "ab12", "note": f"token {SECRET}"}
    tracker = Tracker("auto", "numerai_assets_test", tmp_path / "wandb", secrets=(SECRET,))
    per_era = pd.DataFrame({"corr": [0.01, 0.03], "mmc": [0.0, 0.01]}, index=["0575", "0576"])
    run = tracker.log_candidate(
        model_name="lgbm_small",
        config={"engine": "lightgbm", "params": {"eta": 0.03}},
        per_era=per_era,
        summary={"corr_mean": 0.02},
        files={"seed0/model.txt": model},
        manifest=manifest,
    )
    assert run.mode == "offline" and run.artifact == "lgbm_small:candidate"
    files = [p for p in (tmp_path / "wandb").rglob("*") if p.is_file()]
    assert any(p.suffix == ".wandb" for p in files)  # the run, kept for `wandb sync`
    blob = b"".join(p.read_bytes() for p in files)
    assert b"lgbm_small" in blob and b"features_sha256" in blob  # artifact + manifest recorded
    assert SECRET.encode() not in blob


def test_disabled_tracking_writes_nothing(tmp_path):
    run = Tracker("disabled", "p", tmp_path / "wandb").log_candidate(
        model_name="m", config={}, per_era=pd.DataFrame(), summary={}, files={}, manifest={}
    )
    assert run.mode == "disabled" and not (tmp_path / "wandb").exists()
