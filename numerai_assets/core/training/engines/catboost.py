"""CatBoost on streamed int8 batches, quantized from a temporary text file.

CatBoost has no batch iterator for training data, and ``Pool(array)`` first copies the features
into float32 (4 bytes per cell) before quantizing. ``catboost.utils.quantize`` instead reads a
delimited file block by block and keeps only the quantized pool. So each set of rows is written
as tab-separated text (label first) to a temporary folder under TMPDIR, about 2 bytes per cell,
quantized, and deleted before training starts. The eval set is quantized with the training
pool's borders. Models are saved without CatBoost's random ``model_guid`` and its training
timestamp, so the same data, params and seed give byte-identical files.
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
from catboost.utils import quantize

from numerai_assets.core.training.base import Fit, Progress, TrainingData
from numerai_assets.core.training.roster import ModelSpec

DEFAULTS: dict[str, Any] = {"loss_function": "RMSE", "logging_level": "Silent"}
# Parameters of quantization: they go to `quantize`, and a quantized pool refuses them in `fit`.
QUANTIZE_PARAMS = ("border_count", "max_bin", "feature_border_type", "nan_mode", "per_float_feature_quantization")
_VOLATILE_METADATA = ("model_guid", "train_finish_time")  # differ between identical runs


def engine_params(spec: ModelSpec, seed: int, threads: int) -> dict[str, Any]:
    """Defaults < roster params < what reproducibility needs (seed, threads, no files in the cwd)."""
    params = {**DEFAULTS, **spec.params}
    params.update(random_seed=seed, thread_count=threads, allow_writing_files=False)
    return params


def _text_rows(batch: np.ndarray, labels: np.ndarray) -> bytes:
    """``label<TAB>f1<TAB>f2...`` lines; digits 0-9 are written byte-wise, anything else formatted."""
    head = [repr(float(v)).encode() for v in labels]
    if batch.dtype == np.int8 and batch.size and 0 <= batch.min() and batch.max() <= 9:
        cells = np.empty((batch.shape[0], 2 * batch.shape[1] + 1), dtype=np.uint8)
        cells[:, 0:-1:2] = ord("\t")
        cells[:, 1:-1:2] = batch.view(np.uint8) + ord("0")
        cells[:, -1] = ord("\n")
        return b"".join(h + row.tobytes() for h, row in zip(head, cells, strict=True))
    body = ("\t".join(f"{v:.9g}" for v in row) for row in batch.tolist())  # NaN -> "nan": missing
    return b"".join(h + b"\t" + line.encode() + b"\n" for h, line in zip(head, body, strict=True))


def _quantized(data: TrainingData, folder: str, name: str, params: dict[str, Any], borders: str | None) -> cb.Pool:
    """Stream ``data`` to a text file, quantize it (with ``borders`` when given), delete the file."""
    path, cd = os.path.join(folder, f"{name}.tsv"), os.path.join(folder, "columns.cd")
    with open(cd, "w") as fh:  # column 0 is the label, then the features by name
        fh.write("0\tLabel\n" + "".join(f"{i}\tNum\t{f}\n" for i, f in enumerate(data.matrix.features, 1)))
    offset = 0
    with open(path, "wb") as fh:
        for batch in data.matrix.batches():
            fh.write(_text_rows(batch, data.labels[offset : offset + batch.shape[0]]))
            offset += batch.shape[0]
    quantization = {k: params[k] for k in QUANTIZE_PARAMS if k in params}
    pool = quantize(
        path,
        column_description=cd,
        thread_count=params["thread_count"],
        random_seed=params["random_seed"],
        input_borders=borders,
        **quantization,
    )
    os.remove(path)
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
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="numerai-catboost-") as folder:
        dtrain = _quantized(train, folder, "train", params, None)
        dvalid = None
        if valid is not None:
            borders = os.path.join(folder, "borders.tsv")
            dtrain.save_quantization_borders(borders)
            dvalid = _quantized(valid, folder, "eval", params, borders)
    built = time.perf_counter()
    progress.started = built
    stopping = dvalid is not None and bool(patience)
    model = cb.CatBoost(
        {k: v for k, v in params.items() if k not in QUANTIZE_PARAMS}
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
