"""CatBoost on int8 batches gathered into one int8 frame, quantized in place.

CatBoost has no batch iterator for training data. ``Pool(numpy array)`` copies the features into
float32 (4 bytes per cell) before quantizing, and ``catboost.utils.quantize`` on a text file
peaked higher still (5.4 GB for 0.51 GB of int8, measured). A pandas frame of int8 columns is
read without that copy: the batches fill one int8 array (1 byte per cell, the frame is a view of
it, column-major), ``Pool.quantize`` adds the binned pool (~1 byte per cell), then the array is freed before
training. So CatBoost peaks near 2 x the int8 bytes, not within the 1.5 x + 0.5 GB the streaming
engines meet: ``fit`` refuses, before reading any feature, a matrix whose estimate exceeds the
``memory_budget_gb`` param (default 80% of the machine's memory). Models are saved without
CatBoost's random ``model_guid`` and its training timestamp, so the same data, params and seed
give byte-identical files.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import catboost as cb
import numpy as np
import pandas as pd

from numerai_assets.core.training.base import Fit, Progress, TrainingData
from numerai_assets.core.training.roster import ModelSpec

DEFAULTS: dict[str, Any] = {"loss_function": "RMSE", "logging_level": "Silent"}
# Parameters of quantization: they go to `Pool.quantize`, and a quantized pool refuses them in `fit`.
QUANTIZE_PARAMS = ("border_count", "max_bin", "feature_border_type", "nan_mode", "per_float_feature_quantization")
BUDGET_PARAM = "memory_budget_gb"  # ours, not CatBoost's: never passed to it
DEFAULT_BUDGET_SHARE = 0.8  # of physical memory, when the roster sets no budget
_VOLATILE_METADATA = ("model_guid", "train_finish_time")  # differ between identical runs


class MemoryBudgetError(MemoryError):
    """A training matrix CatBoost would hold in memory is larger than its configured budget."""


def engine_params(spec: ModelSpec, seed: int, threads: int) -> dict[str, Any]:
    """Defaults < roster params < what reproducibility needs (seed, threads, no files in the cwd)."""
    params = {**DEFAULTS, **spec.params}
    params.update(random_seed=seed, thread_count=threads, allow_writing_files=False)
    return params


def budget_bytes(params: dict[str, Any]) -> float:
    if params.get(BUDGET_PARAM) is not None:
        return float(params[BUDGET_PARAM]) * 1e9
    return DEFAULT_BUDGET_SHARE * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_budget(params: dict[str, Any], train: TrainingData, valid: TrainingData | None) -> None:
    """Refuse, before any feature is read, a matrix whose in-memory estimate exceeds the budget:
    the gathered array plus the quantized pool (1 byte per cell) for training, the array for eval."""
    rows, features = train.matrix.shape
    need = rows * features * (train.matrix.dtype.itemsize + 1) + (valid.matrix.nbytes if valid else 0)
    budget = budget_bytes(params)
    if need > budget:
        raise MemoryBudgetError(
            f"catboost needs about {need / 1e9:.2f} GB for {rows:,} rows x {features:,} features "
            f"({train.matrix.dtype}{f', eval {valid.matrix.n_rows:,} rows' if valid else ''}), over its budget "
            f"{budget / 1e9:.2f} GB ({BUDGET_PARAM}); raise {BUDGET_PARAM} in the roster params, keep fewer eras "
            f"(era_step) or use an engine that streams (lightgbm, xgboost)"
        )


def _frame(data: TrainingData) -> pd.DataFrame:
    """Every selected row in one ``dtype`` array, seen as a frame without copying it. Column-major:
    CatBoost reads contiguous columns as they are, but copies strided ones into float32."""
    matrix = data.matrix
    out = np.empty(matrix.shape, dtype=matrix.dtype, order="F")
    offset = 0
    for batch in matrix.batches():
        out[offset : offset + batch.shape[0]] = batch
        offset += batch.shape[0]
    return pd.DataFrame(out, columns=list(matrix.features), copy=False)


def _quantized(data: TrainingData, params: dict[str, Any]) -> cb.Pool:
    pool = cb.Pool(_frame(data), label=data.labels, thread_count=params["thread_count"])
    quantization = {k: params[k] for k in QUANTIZE_PARAMS if k in params}
    pool.quantize(random_seed=params["random_seed"], **quantization)  # the frame is freed with this scope
    return pool


class _ProgressCallback:
    def __init__(self, progress: Progress):
        self.progress = progress

    def after_iteration(self, info: Any) -> bool:
        iteration = info.iteration
        if self.progress.due(iteration):
            data, metrics = list(info.metrics.items())[-1]  # "validation" when present, else "learn"
            metric, values = next(iter(metrics.items()))
            name = {"learn": "train", "validation": "eval"}.get(data, data)
            self.progress.report(iteration, f"{name}_{metric.lower()}", float(values[-1]))
        return True


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
    check_budget(params, train, valid)
    started = time.perf_counter()
    dtrain = _quantized(train, params)
    # the eval set stays raw: CatBoost bins it with the training pool's borders
    dvalid = cb.Pool(_frame(valid), label=valid.labels) if valid is not None else None
    built = time.perf_counter()
    progress.started = built
    stopping = dvalid is not None and bool(patience)
    model = cb.CatBoost(
        {k: v for k, v in params.items() if k not in (*QUANTIZE_PARAMS, BUDGET_PARAM)}
        | {"iterations": rounds, "use_best_model": stopping}
        | ({"early_stopping_rounds": patience} if stopping else {})
    )
    model.fit(dtrain, eval_set=dvalid, callbacks=[_ProgressCallback(progress)])
    trained = time.perf_counter()
    best = score = None
    if stopping:
        best = int(model.get_best_iteration()) + 1
        score = float(next(iter(model.get_best_score()["validation"].values())))
    return Fit(model, model.tree_count_, best, score, built - started, trained - built)


def model_bytes(fitted: Fit) -> bytes:
    """CatBoost binary model (.cbm) without the metadata that differs between identical runs."""
    model = fitted.booster
    metadata = model.get_metadata()
    for key in _VOLATILE_METADATA:
        if key in metadata:
            del metadata[key]
    with tempfile.TemporaryDirectory(prefix="numerai-catboost-") as folder:
        path = os.path.join(folder, "model.cbm")
        model.save_model(path, format="cbm")
        with open(path, "rb") as fh:
            return fh.read()


@dataclass(frozen=True)
class Loaded:
    """A loaded model and the threads it predicts with (a fitted CatBoost refuses new params)."""

    model: cb.CatBoost
    threads: int


def load(path: str, threads: int | None = None) -> Loaded:
    model = cb.CatBoost()
    model.load_model(str(path), format="cbm")
    return Loaded(model, threads or -1)  # -1: every core


def predict_batch(loaded: Loaded, batch: np.ndarray) -> np.ndarray:
    # int8 as is; float32 NaN goes to CatBoost's missing-value bin, as in training
    return np.asarray(loaded.model.predict(batch, thread_count=loaded.threads))
