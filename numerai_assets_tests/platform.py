"""Shared test helpers: the tiny roster, a lenient policy, and a broken champion to inject."""

import dataclasses
import json
from pathlib import Path

from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.training.roster import Roster
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.policy import EvaluationPolicy

TINY_ROSTER = """
models:
  - {name: lgbm_tiny, engine: lightgbm, slot: demo_slot_a, feature_set: medium, seeds: [0, 1],
     num_boost_round: 40, params: {learning_rate: 0.05, num_leaves: 8, colsample_bytree: 0.5}}
  - {name: xgb_tiny, engine: xgboost, slot: demo_slot_b, feature_set: medium, seeds: [0, 1],
     num_boost_round: 40, params: {learning_rate: 0.05, max_depth: 3, max_bin: 8}}
"""
# Tiny data has 16 validation eras: Sharpe is noise there, so the floor is off in these tests; 12 are
# left after the embargo, so the paired promotion test accepts 8 common eras.
LENIENT = EvaluationPolicy(min_sharpe=-100.0, promotion_min_eras=8)


def install_broken_champion(
    roster: Roster, model: str, store: ModelStore, store_dir: Path, train_path: Path, workdir: Path
) -> str:
    """Make ``model``'s champion a model that predicts a constant (no split can be made).

    Returns the original champion record (JSON text) so the caller can put it back.
    """
    from numerai_assets.core.training.train import train_model

    spec = roster.get(model)
    features = FeatureSets.from_json_file(train_path.with_name("features.json")).sets["all"][:8]
    broken = dataclasses.replace(
        spec, name="broken", engine="lightgbm", num_boost_round=1, params={"min_data_in_leaf": 10**9}
    )
    trained = train_model(broken, 0, train_path, list(features), workdir, log=lambda _: None)
    for path in (trained.model_path, trained.manifest_path):
        store.put_file(path, f"broken/{path.name}")
    record_path = store_dir / ChampionRecord.key(model)
    original = record_path.read_text()
    record = json.loads(original)
    record["seeds"] = [
        {
            "model_key": f"broken/{trained.model_path.name}",
            "manifest_key": f"broken/{trained.manifest_path.name}",
            "model_sha256": trained.manifest["model_sha256"],
        }
    ]
    record_path.write_text(json.dumps(record))
    return original
