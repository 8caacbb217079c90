"""The code that runs inside Numerai's model-upload image: ``predict(live_features, live_benchmark_models)``.

This module is pickled *by value* into the upload, so it must run where ``numerai_assets`` is not
installed, under the image's pandas 2.3 / numpy 2.1: it imports nothing from this package, imports
the boosting libraries lazily per engine, and the pickle holds only plain data (str, float, list,
bytes) -- never a pandas object built by our pandas 3. Boosters are loaded from their embedded
bytes at the first call.

The post-processing mirrors ``core.evaluation.postprocess`` (per-era tie-kept rank, seed and model
ensembles as mean of ranks re-ranked, optional feature neutralization of the gaussianized rank):
a test proves both give the same numbers, and the sandbox proof compares the pickle's output with
our live path on the real live file before any upload.
"""

from __future__ import annotations

from typing import Any

PREDICTION = "prediction"
MISSING_FEATURE_VALUE = 2  # the fill of NaN features before neutralization (as in postprocess)


def rank01(values: Any) -> Any:
    """Tie-kept rank ``(average rank - 0.5) / n`` of one era, in (0, 1); NaN raises."""
    import numpy as np
    import pandas as pd

    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{int(np.isnan(values).sum())} NaN predictions")
    return (pd.Series(values).rank(method="average").to_numpy() - 0.5) / len(values)


def ensemble(columns: list) -> Any:
    """Mean of each column's rank, ranked again: no column dominates by its spread."""
    import numpy as np

    if not columns:
        raise ValueError("nothing to ensemble")
    return rank01(np.mean([rank01(c) for c in columns], axis=0))


def neutralize(ranks: Any, features: Any, proportion: float) -> Any:
    """Gaussianize ``ranks`` and subtract ``proportion`` of its least-squares projection on
    ``features`` (plus a constant), re-ranked; rows must be in id order (as numerai-tools needs)."""
    import numpy as np
    from scipy import stats

    ranks = np.asarray(ranks, dtype=np.float64)
    if len(np.unique(ranks)) < 2 or features.shape[1] == 0:
        return ranks
    gauss = stats.norm.ppf(rank01(ranks))
    feats = np.asarray(features, dtype=np.float64)
    feats = np.where(np.isnan(feats), MISSING_FEATURE_VALUE, feats)
    design = np.hstack((feats, np.ones((len(feats), 1))))
    fit = np.linalg.lstsq(design, gauss.reshape(-1, 1), rcond=1e-6)[0]
    return rank01(gauss - proportion * design.dot(fit).ravel())


def _load_booster(engine: str, blob: bytes) -> Any:
    if engine == "lightgbm":
        import lightgbm

        return lightgbm.Booster(model_str=blob.decode())
    if engine == "xgboost":
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(bytearray(blob))
        booster.set_param({"nthread": 1})
        return booster
    if engine == "catboost":
        import catboost

        return catboost.CatBoost().load_model(blob=blob)
    raise ValueError(f"unknown engine {engine!r} in the pickle")


def _predict_booster(engine: str, booster: Any, matrix: Any) -> Any:
    import numpy as np

    if engine == "lightgbm":
        return np.asarray(booster.predict(matrix, num_threads=1), dtype=np.float64)
    if engine == "xgboost":
        return np.asarray(booster.inplace_predict(matrix), dtype=np.float64)
    return np.asarray(booster.predict(matrix, thread_count=1), dtype=np.float64)


def _era_prediction(spec: dict, boosters: dict, frame: Any) -> Any:
    """One era's slot prediction (rows in id order): per model, seeds ensembled; then models."""
    import numpy as np

    per_model = []
    for model in spec["models"]:
        matrix = frame[model["features"]].to_numpy(dtype=np.float32)
        seeds = [_predict_booster(model["engine"], b, matrix) for b in boosters[model["name"]]]
        per_model.append(ensemble(seeds))
    slot = per_model[0] if len(per_model) == 1 else ensemble(per_model)
    if spec["neutralize_proportion"] > 0:
        slot = neutralize(slot, frame[spec["neutralize_features"]].to_numpy(), spec["neutralize_proportion"])
    return slot


def make_predict(spec: dict) -> Any:
    """Numerai's entry point over ``spec`` (plain data: models with engine, features, seed bytes).

    The runner calls it once per era; a call with several eras is split by its ``era`` column.
    """
    boosters: dict = {}

    def predict(live_features: Any, live_benchmark_models: Any = None) -> Any:
        import numpy as np
        import pandas as pd

        if not boosters:
            for model in spec["models"]:
                boosters[model["name"]] = [_load_booster(model["engine"], b) for b in model["seeds"]]
        ordered = live_features.sort_index(kind="stable")
        eras = ordered["era"].to_numpy() if "era" in ordered.columns else np.zeros(len(ordered))
        out = np.empty(len(ordered))
        for positions in pd.Series(eras).groupby(eras).indices.values():
            out[positions] = _era_prediction(spec, boosters, ordered.iloc[positions])
        return pd.DataFrame({PREDICTION: out}, index=ordered.index).reindex(live_features.index)

    return predict
