"""The Dagster graph as users and deployments see it."""

import os
import subprocess
import sys
from collections import defaultdict

from numerai_assets.core.data.contracts import checks_for_kind
from numerai_assets.core.live.gates import GATE_NAMES
from numerai_assets.core.training.roster import load_roster
from numerai_assets.definitions import defs

ASSETS = {
    "features_metadata",
    "train_data",
    "validation_data",
    "train_benchmark_models",
    "validation_benchmark_models",
    "meta_model",
    "validation_example_preds",
    "feature_sets",
    "live_data",
    "train_feature_distribution",
    "benchmark_alignment",
    "trained_model",
    "validation_predictions",
    "model_evaluation",
    "champion",
    "round_report",
}
# per slot: the live stage, then live results (scores per round, monitoring against validation)
SLOT_ASSETS = ("live_predictions", "submission")
SLOT_RESULT_ASSETS = ("live_scores", "live_monitoring")

# dataset asset -> contract kind, pinned here (the code reads core.data.files.DATASET_FILES)
CONTRACT_KINDS = {
    "train_data": "train",
    "validation_data": "validation",
    "train_benchmark_models": "benchmark_models",
    "validation_benchmark_models": "benchmark_models",
    "meta_model": "meta_model",
    "validation_example_preds": "example_preds",
}


def test_dagster_definitions_validate_passes():
    env = {**os.environ, "DAGSTER_HOME": "", "GX_ANALYTICS_ENABLED": "false"}
    env.pop("DAGSTER_HOME")
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "numerai_assets.definitions"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_graph_snapshot():
    """Pins assets, lineage, partitions and checks so an accidental graph change shows in review."""
    graph = defs.resolve_asset_graph()
    by_name = {k.to_user_string(): k for k in graph.get_all_asset_keys()}
    slots = load_roster().slots
    assert set(by_name) == ASSETS | {f"{s}/{s}_{a}" for s in slots for a in SLOT_ASSETS} | {
        f"{s}/{s}_{a}" for s in slots for a in SLOT_RESULT_ASSETS
    }
    for s in slots:
        scores = graph.get(by_name[f"{s}/{s}_live_scores"])
        assert scores.partitions_def.name == "rounds"
        monitoring = graph.get(by_name[f"{s}/{s}_live_monitoring"])
        assert monitoring.partitions_def is None
        assert {d.to_user_string() for d in monitoring.parent_keys} == {f"{s}/{s}_live_scores"}
    report = graph.get(by_name["round_report"])
    assert report.partitions_def.name == "rounds"
    assert {d.to_user_string() for d in report.parent_keys} == {f"{s}/{s}_live_scores" for s in slots}
    groups = {name: graph.get(key).group_name for name, key in by_name.items()}
    assert {n: g for n, g in groups.items() if g == "evaluation"} == {
        "benchmark_alignment": "evaluation",
        "model_evaluation": "evaluation",
        "champion": "evaluation",  # beside the evaluation that promotes it (issue 10)
    }
    live = graph.get(by_name["live_data"])
    assert live.partitions_def.name == "rounds"
    assert {d.to_user_string() for d in live.parent_keys} == {"feature_sets"}
    assert {d.to_user_string() for d in graph.get(by_name["feature_sets"]).parent_keys} == {"features_metadata"}
    checks = defaultdict(set)
    for key in graph.asset_check_keys:
        checks[key.asset_key.to_user_string()].add(key.name)
    expected = {asset: set(checks_for_kind(kind)) for asset, kind in CONTRACT_KINDS.items()}
    expected["live_data"] = set(checks_for_kind("live"))
    expected["model_evaluation"] = {"promotion_gate"}
    expected["benchmark_alignment"] = {"benchmark_coverage"}
    for slot in load_roster().slots:
        expected[f"{slot}/{slot}_live_predictions"] = set(GATE_NAMES)
        expected[f"{slot}/{slot}_live_monitoring"] = {"live_within_band"}
    assert dict(checks) == expected
    blocking = {
        (k.asset_key.to_user_string(), k.name): graph.get_check_spec(k).blocking for k in graph.asset_check_keys
    }
    assert {k for k, b in blocking.items() if not b} == {
        (f"{slot}/{slot}_live_predictions", "feature_drift") for slot in load_roster().slots
    } | {(f"{slot}/{slot}_live_monitoring", "live_within_band") for slot in load_roster().slots}  # warnings


def test_definitions_import_no_heavy_libraries():
    code = (
        "import sys, numerai_assets.definitions; "
        "print(sorted(m for m in ('lightgbm','xgboost','catboost','wandb','great_expectations') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
