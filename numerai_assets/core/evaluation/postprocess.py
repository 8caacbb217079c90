"""The postprocessing applied to predictions, the same for validation and live.

Validation scores are only a forecast of live scores if live predictions go through exactly the
same transformation, so these functions are the single implementation both paths call: same
inputs, same outputs. Every result is a per-era tie-kept rank in (0, 1), the form Numerai accepts
(``numerai_tools.submissions`` rejects values outside [0, 1]) and the form numerai-tools scores.
Live data is one era (``"X"``) and goes through the same code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numerai_tools import scoring as nt

from numerai_assets.core.data.batches import MISSING_FEATURE_VALUE
from numerai_assets.core.evaluation import scoring_fast


def _eras_for(index: pd.Index, eras: pd.Series) -> np.ndarray:
    """Era labels in ``index`` order; every row needs one."""
    aligned = eras if eras.index.equals(index) else eras.reindex(index)
    if aligned.isna().any():
        raise ValueError(f"no era for {int(aligned.isna().sum())} prediction rows")
    return aligned.to_numpy()


def rank_per_era(preds: pd.Series, eras: pd.Series) -> pd.Series:
    """Per-era tie-kept rank ``(rank - 0.5) / n`` (numerai_tools ``tie_kept_rank``), in (0, 1).

    NaN predictions raise: Numerai rejects them, and a silently dropped row would change ``n``.
    """
    if preds.isna().any():
        raise ValueError(f"{int(preds.isna().sum())} NaN predictions")
    codes, uniques = pd.factorize(_eras_for(preds.index, eras))
    ranked = scoring_fast.tie_kept_rank(codes, preds.to_numpy(dtype=np.float64), len(uniques))
    return pd.Series(ranked, index=preds.index, name=preds.name)


def ensemble(seed_predictions: pd.DataFrame, eras: pd.Series) -> pd.Series:
    """Mean of each seed's per-era rank, re-ranked per era into (0, 1), named ``prediction``.

    Ranking first puts every seed on the same scale, so no seed dominates by its spread.
    """
    if seed_predictions.shape[1] == 0:
        raise ValueError("no seed columns to ensemble")
    ranked = [rank_per_era(seed_predictions[c], eras) for c in seed_predictions.columns]
    mean = pd.concat(ranked, axis=1).mean(axis=1)
    return rank_per_era(mean, eras).rename("prediction")


def neutralize(
    preds: pd.Series,
    features: pd.DataFrame,
    proportion: float,
    eras: pd.Series,
) -> pd.Series:
    """Per era: tie-kept rank -> gaussianize -> ``numerai_tools.scoring.neutralize`` against
    ``features`` by ``proportion`` -> re-rank into (0, 1).

    Gaussianizing first (as numerai-tools' own FNC does) makes the least-squares projection act on
    a symmetric, unit-variance signal rather than on raw model output. It is one lstsq per era of
    (rows x features): pass the feature subset you mean to neutralize against. NaN features are
    filled with 2. A constant era has nothing to neutralize and ranks to 0.5.
    """
    if not 0.0 <= proportion <= 1.0:
        raise ValueError(f"proportion must be in [0, 1], got {proportion}")
    if preds.isna().any():
        raise ValueError(f"{int(preds.isna().sum())} NaN predictions")
    era_values = _eras_for(preds.index, eras)
    if features.index.equals(preds.index):
        feats = features
    else:
        rows = features.index.get_indexer(preds.index)
        if (rows < 0).any():
            raise ValueError(f"features missing for {int((rows < 0).sum())} prediction rows")
        feats = features.iloc[rows]
    ids = preds.index.to_numpy()
    neutral = np.empty(len(preds))
    for positions in pd.Series(era_values).groupby(era_values).indices.values():
        idx = positions[np.argsort(ids[positions], kind="stable")]  # numerai-tools wants sorted ids
        era_preds = preds.iloc[idx]
        if era_preds.nunique() < 2 or feats.shape[1] == 0:
            neutral[idx] = era_preds.to_numpy(dtype=np.float64)
            continue
        gauss = nt.gaussian(nt.tie_kept_rank(era_preds.to_frame("prediction")))
        era_feats = feats.iloc[idx].astype(np.float64).fillna(MISSING_FEATURE_VALUE)
        neutral[idx] = nt.neutralize(gauss, era_feats, proportion)["prediction"].to_numpy()
    return rank_per_era(pd.Series(neutral, index=preds.index), eras).rename(preds.name)
