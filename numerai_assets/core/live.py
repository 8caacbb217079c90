"""Live predictions for one slot: champions' seeds -> per-model ensemble -> slot ensemble.

The same ``training.predict`` reads the live file that reads validation, and the same
``postprocess.ensemble`` ranks per era and averages, so a row gets the same prediction through
either path (tested). Submissions are written as Numerai's CSV (id, prediction) atomically.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from numerai_assets.core import postprocess
from numerai_assets.core.dataset import read_by_id
from numerai_assets.core.atomic import write_bytes_atomic


@dataclass(frozen=True)
class SlotPredictions:
    predictions: pd.Series  # index id, values in (0, 1)
    per_model: dict[str, pd.Series]
    features: dict[str, list[str]]  # model -> the features its seeds were trained on


def predict_slot(
    models: Mapping[str, Sequence[Path]],
    live_path: str | Path,
    *,
    neutralize_proportion: float = 0.0,
    neutralize_features: Sequence[str] = (),
) -> SlotPredictions:
    """``models`` maps each model of the slot to its seeds' model files (manifests beside them)."""
    from numerai_assets.core.training import load_model, predict

    eras = read_by_id(live_path, ["era"])["era"]
    per_model, features = {}, {}
    for model, paths in models.items():
        if not paths:
            raise ValueError(f"model {model} has no champion seeds")
        predictors = [load_model(p) for p in paths]
        seeds = pd.DataFrame({f"seed{i}": predict(p, live_path) for i, p in enumerate(predictors)})
        per_model[model] = postprocess.ensemble(seeds, eras)
        features[model] = predictors[0].features
    slot = next(iter(per_model.values())) if len(per_model) == 1 else postprocess.ensemble(
        pd.DataFrame(per_model), eras)
    if neutralize_proportion > 0:
        feats = read_by_id(live_path, list(neutralize_features)).reindex(slot.index)
        slot = postprocess.neutralize(slot, feats, neutralize_proportion, eras)
    return SlotPredictions(slot.rename("prediction"), per_model, features)


def submission_frame(predictions: pd.Series) -> pd.DataFrame:
    """Numerai's submission layout: ``id`` as a column (numerapi drops an id index silently)."""
    return pd.DataFrame({"id": predictions.index.to_numpy(), "prediction": predictions.to_numpy()})


def write_submission_csv(path: str | Path, predictions: pd.Series) -> str:
    """Write ``id,prediction`` atomically; returns the file's sha256 (the ledger's identity)."""
    buffer = io.StringIO()
    submission_frame(predictions).to_csv(buffer, index=False)
    data = buffer.getvalue().encode()
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()
