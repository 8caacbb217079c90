"""LightGBM on streamed int8 batches through ``lgb.Sequence``, binned from a separate row sample.

``lgb.Dataset(frame)`` first copies the features into one float32 matrix (4x the int8 bytes). Here
the bins are found on a ``bin_construct_sample_cnt``-row sample (a small reference Dataset, freed
before the rest), then every row is pushed through a Sequence in float32 slices of 4,096 rows into
LightGBM's binned dataset. Letting the Sequence sample for itself would keep LightGBM's float64
copies of the sample (0.53 GB at 20k rows x 2,748 features) alive until every row is pushed.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from numerai_assets.core.data.batches import FeatureMatrix, SequentialRows
from numerai_assets.core.training.base import Fit, Progress, TrainingData
from numerai_assets.core.training.roster import ModelSpec

PUSH_ROWS = 4096  # float32 rows per push: 45 MB at 2,748 features
DEFAULTS: dict[str, Any] = {
    "objective": "regression",
    "verbosity": -1,
    # Binning holds the sample as float32 plus LightGBM's float64 copy of its non-zero cells, ~0.75 GB
    # for 20k rows x 2,748 features (2.5x that at 50k, 10x at the default 200k). Features take
    # 5 values, so 20k rows find exactly the bins millions would (demo: same model from 5k to 200k).
    "bin_construct_sample_cnt": 20_000,
    # Bins come from the sample alone, so pre-filtering would judge `min_data_in_leaf` against 20k
    # rows instead of all of them and could drop every feature; keep all (none is constant here).
    "feature_pre_filter": False,
}


def engine_params(spec: ModelSpec, seed: int, threads: int) -> dict[str, Any]:
    """Defaults < roster params < what reproducibility needs (seed, threads, deterministic)."""
    params = {**DEFAULTS, **spec.params}
    if not params.get("force_row_wise"):
        params["force_col_wise"] = True  # no row-wise copy of the bins; also makes runs repeatable
    params.update(seed=seed, deterministic=True, num_threads=threads)
    return params


class ParquetSequence(lgb.Sequence):
    """A :class:`FeatureMatrix` seen as an ``lgb.Sequence``: slices as float32 (what pushing reads).

    With a binning reference LightGBM only reads slices; single rows (float64, as LightGBM's own
    sampler wants them) are kept for the ``lgb.Sequence`` contract."""

    def __init__(self, matrix: FeatureMatrix, batch_size: int = PUSH_ROWS):
        self.rows = SequentialRows(matrix)
        self.batch_size = batch_size
        self._n = matrix.n_rows

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, idx: int | slice) -> np.ndarray:  # type: ignore[override]  # lightgbm passes int or slice only
        if isinstance(idx, numbers.Integral):
            i = int(idx) + (self._n if idx < 0 else 0)
            return self.rows.take(i, i + 1)[0].astype(np.float64)
        if isinstance(idx, slice):
            start, stop, step = idx.indices(self._n)
            if step != 1:
                raise IndexError("ParquetSequence supports contiguous slices only")
            return self.rows.take(start, stop).astype(np.float32)
        raise TypeError(f"ParquetSequence index must be an int or slice, got {type(idx).__name__}")


def _bin_reference(data: TrainingData, params: dict[str, Any], features: Sequence[str]) -> lgb.Dataset:
    """A Dataset of a seeded row sample, whose bin boundaries the full Dataset then reuses."""
    matrix = data.matrix
    count = min(matrix.n_rows, int(params["bin_construct_sample_cnt"]))
    rows = np.sort(np.random.default_rng(params["seed"]).choice(matrix.n_rows, size=count, replace=False))
    sample = matrix.take_rows(rows, np.float32)
    reference = lgb.Dataset(sample, params=params, feature_name=list(features), free_raw_data=True)
    return reference.construct()


def _dataset(
    data: TrainingData, params: dict[str, Any], features: Sequence[str], reference: lgb.Dataset | None = None
) -> lgb.Dataset:
    reference = reference if reference is not None else _bin_reference(data, params, features)
    dataset = lgb.Dataset(
        ParquetSequence(data.matrix),
        label=data.labels,
        params=params,
        feature_name=list(features),
        reference=reference,
        free_raw_data=True,
    )
    return dataset.construct()


def _progress_callback(progress: Progress):
    def callback(env: lgb.callback.CallbackEnv) -> None:
        iteration = env.iteration - env.begin_iteration + 1
        if not progress.due(iteration):
            return
        # CVBooster in the stub union has no eval_train(feval); the model here is a Booster
        results = env.evaluation_result_list or env.model.eval_train()  # type: ignore[call-arg]
        if results:
            data, metric, value = results[0][:3]
            progress.report(iteration, f"{'train' if data == 'training' else data}_{metric}", value)
        else:
            progress.report(iteration, None, None)

    callback.order = 5  # type: ignore[attr-defined]  # after LightGBM's own callbacks' bookkeeping
    return callback


def fit(
    params: dict[str, Any],
    train: TrainingData,
    rounds: int,
    *,
    features: Sequence[str],
    progress: Progress,
    valid: TrainingData | None = None,
    patience: int | None = None,
) -> Fit:
    started = time.perf_counter()
    dtrain = _dataset(train, params, features)
    dvalid = _dataset(valid, params, features, reference=dtrain) if valid is not None else None
    built = time.perf_counter()
    progress.started = built
    callbacks = [_progress_callback(progress)]
    if dvalid is not None and patience:
        callbacks.append(lgb.early_stopping(patience, first_metric_only=True, verbose=False))
    booster = lgb.train(
        params,
        dtrain,
        num_boost_round=rounds,
        callbacks=callbacks,
        valid_sets=[dvalid] if dvalid is not None else None,
        valid_names=["eval"] if dvalid is not None else None,
    )
    trained = time.perf_counter()
    best = booster.best_iteration if dvalid is not None and booster.best_iteration > 0 else None
    score = booster.best_score["eval"][next(iter(booster.best_score["eval"]))] if best else None
    booster.free_dataset()  # the binned data: not needed to save or predict
    return Fit(booster, best or booster.current_iteration(), best, score, built - started, trained - built)


def model_bytes(fitted: Fit) -> bytes:
    """Text model (no timestamps), truncated to the best iteration when early stopping ran."""
    return fitted.booster.model_to_string(num_iteration=fitted.rounds).encode()


def load(path: str, threads: int | None = None) -> lgb.Booster:
    booster = lgb.Booster(model_file=str(path))
    if threads:
        booster.params["num_threads"] = threads
    return booster


def predict_batch(booster: lgb.Booster, batch: np.ndarray) -> np.ndarray:
    # float32 keeps NaN, which LightGBM routes as missing (use_missing), as in training
    return np.asarray(
        booster.predict(batch.astype(np.float32, copy=False), num_threads=booster.params.get("num_threads", 0))
    )
