"""Per-era validation metrics (CORR, MMC, BMC, FNC, feature exposure) and their summaries.

The formulas are numerai-tools' (``numerai_tools.scoring``), not ours: ``engine="numerai_tools"``
calls it era by era; the default ``engine="vectorized"`` computes CORR / MMC / BMC / exposure over
all eras at once (``scoring_fast``), proven equal to numerai-tools to 1e-9 by the tests, because
the per-era calls are the slow part at full validation size. FNC always goes through
``numerai_tools.scoring.feature_neutral_corr`` per era: one least-squares fit per era against
every feature given (measured 39-63 s per full-size era at 2,748 features, ~0.1-0.5 s at 42), so
pass a feature subset (``fnc_features``); figures in docs/scoring.md.

Alignment rules (numerai-tools asserts on unsorted or badly overlapping ids, we decide first):
only rows with a non-NaN target are scored; predictions must cover >= 80% of each era's scored
rows (numerai-tools' own overlap floor) or we raise, and are scored on the rows they cover; a
meta-model / benchmark era covering < 80% of the scored rows is NaN (the real meta model starts
late), else it is scored on the rows it covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numerai_tools import scoring as nt

from numerai_assets.core.data.batches import MISSING_FEATURE_VALUE
from numerai_assets.core.evaluation import scoring_fast as fast

META_MODEL_COLUMN = "numerai_meta_model"
MIN_OVERLAP = 1 - nt.DEFAULT_MAX_FILTERED_INDEX_RATIO  # 0.8
Engine = Literal["vectorized", "numerai_tools"]


def load_scoring_frame(
    validation_path: str | Path,
    meta_model_path: str | Path | None,
    benchmark_path: str | Path | None,
    benchmark_column: str | None,
    target: str = "target",
    features: Sequence[str] = (),
) -> pd.DataFrame:
    """The scored rows only (non-NaN ``target``), with just the columns scoring needs.

    Reads id, era, data_type, the target (and ``features``, kept int8, if asked) from validation,
    ``numerai_meta_model`` and one benchmark column joined by id: full validation (3.9 M rows) is
    ~190 MB in pandas (~1.5 GB peak while joining), not the ~11 GB of every feature. Index
    ``id``; sorted by (era, id); reference columns are NaN where their file has no row.
    """
    columns = ["id", "era", "data_type", target, *features]
    scored = pc.field(target).is_valid() & ~pc.field(target).is_nan()  # null or NaN: unscored
    table = pq.read_table(validation_path, columns=columns, filters=scored)
    table = table.replace_schema_metadata(None)  # keep ``id`` a column until we index by it
    for path, column in ((meta_model_path, META_MODEL_COLUMN), (benchmark_path, benchmark_column)):
        if path is None or column is None:
            continue
        right = pq.read_table(path, columns=["id", column])
        table = table.join(right, keys="id", join_type="left outer", use_threads=True)
    table = table.sort_by([("era", "ascending"), ("id", "ascending")])
    table = table.set_column(
        table.schema.get_field_index("data_type"),
        "data_type",
        pc.dictionary_encode(table["data_type"]),
    )
    frame = table.to_pandas(self_destruct=True).set_index("id")
    ordered = ["era", "data_type", target, META_MODEL_COLUMN, benchmark_column, *features]
    return frame[[c for c in ordered if c is not None and c in frame.columns]]


def per_era_scores(
    predictions: pd.Series,
    eras: pd.Series,
    targets: pd.Series,
    meta_model: pd.Series | None = None,
    benchmark: pd.Series | None = None,
    features: pd.DataFrame | None = None,
    *,
    fnc_features: Sequence[str] | None = None,
    exposure_features: Sequence[str] | None = None,
    engine: Engine = "vectorized",
) -> pd.DataFrame:
    """Scores per era (index ``era``, sorted): ``corr`` always; ``mmc`` with a meta model;
    ``bmc`` with a benchmark column; ``fnc`` and ``feature_exposure`` with ``features``.

    All inputs are indexed by id. ``fnc_features`` restricts FNC (the expensive one) to a subset
    of ``features``; ``[]`` skips FNC. ``feature_exposure`` is the per-era max |Pearson| between
    the raw predictions and a feature (numerai_tools ``max_feature_correlation``), over
    ``exposure_features`` (default: every column of ``features``).
    """
    data = _align(predictions, eras, targets, {"mmc": meta_model, "bmc": benchmark})
    rows = None if features is None else _feature_rows(features, targets.index, data)
    exposed = features if features is None or exposure_features is None else features[list(exposure_features)]
    if engine == "vectorized":
        scores = _vectorized(data, exposed, rows)
    elif engine == "numerai_tools":
        scores = _numerai_tools(data.frame(), exposed, rows)
    else:
        raise ValueError(f"unknown engine {engine!r}")
    if features is not None:
        fnc_cols = list(features.columns if fnc_features is None else fnc_features)
        if fnc_cols:
            scores.insert(
                scores.columns.get_loc("feature_exposure"), "fnc", _fnc(data.frame(), features[fnc_cols], rows)
            )
    return scores


@dataclass(frozen=True)
class _Scored:
    """The scored rows as arrays: era codes into ``labels`` (sorted), values, reference columns."""

    ids: pd.Index
    positions: np.ndarray | None  # rows of ``targets`` scored; None = all of them, in order
    codes: np.ndarray
    labels: pd.Index
    prediction: np.ndarray
    target: np.ndarray
    references: dict[str, np.ndarray]

    def frame(self) -> pd.DataFrame:
        columns = {
            "era": self.labels.take(self.codes),
            "prediction": self.prediction,
            "target": self.target,
            **self.references,
        }
        return pd.DataFrame(columns, index=self.ids)


def _align(
    predictions: pd.Series,
    eras: pd.Series,
    targets: pd.Series,
    references: dict[str, pd.Series | None],
) -> _Scored:
    """Scored rows (non-NaN target, covered by predictions) and the usable reference values."""
    era = eras if eras.index.equals(targets.index) else eras.reindex(targets.index)
    codes, labels = pd.factorize(era, sort=True)
    pred = _values_on(predictions, targets.index)
    target = targets.to_numpy(dtype=np.float64, na_value=np.nan)
    scored = ~np.isnan(target)
    if (codes[scored] < 0).any():
        raise ValueError("eras missing for some scored rows")
    covered = scored & ~np.isnan(pred)
    coverage = _share(codes[covered], codes[scored], len(labels))
    bad = labels[coverage < MIN_OVERLAP]
    if len(bad):
        raise ValueError(
            f"predictions cover < {MIN_OVERLAP:.0%} of the scored rows in eras "
            f"{list(bad[:5])} ({len(bad)} eras); numerai-tools would refuse"
        )
    positions = None if covered.all() else np.flatnonzero(covered)

    def take(values: np.ndarray) -> np.ndarray:
        return values if positions is None else values[positions]

    present = np.bincount(codes[covered], minlength=len(labels)) > 0
    codes = (np.cumsum(present) - 1)[take(codes)]  # drop eras with nothing scored (test eras)
    labels = pd.Index(labels[present], name="era")
    values = {}
    for name, reference in references.items():
        if reference is not None:
            ref = take(_values_on(reference, targets.index))
            ref[_share(codes[~np.isnan(ref)], codes, len(labels))[codes] < MIN_OVERLAP] = np.nan
            values[name] = ref
    ids = targets.index if positions is None else targets.index.take(positions)
    return _Scored(ids, positions, codes, labels, take(pred), take(target), values)


def _share(part_codes: np.ndarray, all_codes: np.ndarray, n: int) -> np.ndarray:
    """Per era, rows in ``part`` / rows in ``all`` (eras with no rows count as fully covered)."""
    total = np.bincount(all_codes, minlength=n)
    return np.bincount(part_codes, minlength=n) / np.maximum(total, 1) + (total == 0)


def _values_on(series: pd.Series, index: pd.Index) -> np.ndarray:
    """float64 values of ``series`` in ``index`` order, without a reindex when ids match."""
    if not series.index.equals(index):
        if not series.index.is_unique:
            raise ValueError(f"duplicate ids in {series.name!r}")
        series = series.reindex(index)
    return np.array(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _feature_rows(features: pd.DataFrame, index: pd.Index, data: _Scored) -> np.ndarray | None:
    """Row of each scored id in ``features`` (None: the same rows in the same order)."""
    if features.index.equals(index):
        return data.positions
    rows = features.index.get_indexer(data.ids)
    if (rows < 0).any():
        raise ValueError(f"features missing for {(rows < 0).sum()} scored rows")
    return rows


def _feature_matrix(features: pd.DataFrame) -> np.ndarray:
    values = features.to_numpy()
    if values.dtype.kind == "f" and np.isnan(values).any():
        values = np.where(np.isnan(values), MISSING_FEATURE_VALUE, values)
    return values


def _vectorized(data: _Scored, features: pd.DataFrame | None, rows: np.ndarray | None) -> pd.DataFrame:
    codes, n = data.codes, len(data.labels)
    pred, target = data.prediction, data.target
    gauss = fast.gaussian_rank(codes, pred, n)
    out = {"corr": fast.numerai_corr(codes, pred, target, n, gaussianized=gauss)}
    for name, ref in data.references.items():
        has = ~np.isnan(ref)
        if has.all():
            out[name] = fast.correlation_contribution(codes, pred, ref, target, n, gauss)
        else:
            out[name] = fast.correlation_contribution(codes[has], pred[has], ref[has], target[has], n)
    if features is not None:
        out["feature_exposure"] = fast.max_feature_exposure(codes, pred, _feature_matrix(features), n, rows)
    return pd.DataFrame(out, index=data.labels)


def _era_frames(frame: pd.DataFrame, features: pd.DataFrame | None, rows: np.ndarray | None):
    """(era, its rows sorted by id, their features in the same order), in era order."""
    frame = frame.assign(_row=np.arange(len(frame)))
    for era, group in frame.groupby("era", sort=True):
        group = group.sort_index()
        feats = None
        if features is not None:
            take = group["_row"].to_numpy()
            take = take if rows is None else rows[take]
            feats = pd.DataFrame(_feature_matrix(features.iloc[take]), index=group.index, columns=features.columns)
        yield era, group, feats


def _numerai_tools(frame: pd.DataFrame, features: pd.DataFrame | None, rows: np.ndarray | None) -> pd.DataFrame:
    """The reference engine: numerai_tools.scoring called once per era."""
    records = {}
    for era, group, feats in _era_frames(frame, features, rows):
        preds, target = group[["prediction"]], group["target"]
        record = {"corr": nt.numerai_corr(preds, target).iloc[0]}
        for name in ("mmc", "bmc"):
            if name in group:
                ref = group[name].dropna()
                record[name] = (
                    np.nan
                    if ref.empty
                    else nt.correlation_contribution(preds.loc[ref.index], ref, target.loc[ref.index]).iloc[0]
                )
        if feats is not None:
            record["feature_exposure"] = _max_feature_correlation(group["prediction"], feats)
        records[era] = record
    scores = pd.DataFrame.from_dict(records, orient="index")
    scores.index.name = "era"
    return scores


def _max_feature_correlation(preds: pd.Series, feats: pd.DataFrame) -> float:
    """numerai-tools' max |corr|; NaN when every feature is constant (it would raise)."""
    try:
        return float(nt.max_feature_correlation(preds, feats)[1])
    except ValueError:
        return np.nan


def _fnc(frame: pd.DataFrame, features: pd.DataFrame, rows: np.ndarray | None) -> np.ndarray:
    """numerai_tools.feature_neutral_corr per era (one lstsq per era against ``features``)."""
    out = []
    for _, group, feats in _era_frames(frame, features, rows):
        preds = group[["prediction"]]
        if len(group) < 2 or preds["prediction"].nunique() < 2:
            out.append(np.nan)
            continue
        out.append(float(nt.feature_neutral_corr(preds, feats, group["target"]).iloc[0]))
    return np.asarray(out, dtype=np.float64)


# ----------------------------------------------------------------------------------- summaries
def max_drawdown(scores: pd.Series) -> float:
    """Largest fall of the cumulative score below its running peak (the official notebooks'
    ``(cumsum.expanding().max() - cumsum).max()``: the peak starts at the first era, not at 0)."""
    cumulative = scores.dropna().cumsum()
    if cumulative.empty:
        return np.nan
    return float((cumulative.cummax() - cumulative).max())


def series_stats(scores: pd.Series) -> dict[str, float]:
    """mean, std (ddof=0), sharpe (``scoring_fast.sharpe``), max drawdown, hit rate."""
    s = scores.dropna().astype(np.float64)
    if s.empty:
        nan = float("nan")
        return {"mean": nan, "std": nan, "sharpe": nan, "max_drawdown": nan, "hit_rate": nan, "n_eras": 0}
    return {
        "mean": float(s.mean()),
        "std": float(np.std(s, ddof=fast.SHARPE_DDOF)),
        "sharpe": fast.sharpe(s),
        "max_drawdown": max_drawdown(s),
        "hit_rate": float((s > 0).mean()),
        "n_eras": int(len(s)),
    }


def summarize(per_era: pd.DataFrame, recent_eras: int = 52) -> dict[str, dict[str, dict]]:
    """``{metric: {"all": stats, "recent": stats}}`` over every era and over the last
    ``recent_eras`` (by era order) per metric column; NaN eras are left out of that metric."""
    per_era = per_era.sort_index()
    return {
        metric: {"all": series_stats(per_era[metric]), "recent": series_stats(per_era[metric].iloc[-recent_eras:])}
        for metric in per_era.columns
    }


def flatten_summary(summary: dict[str, dict[str, dict]]) -> dict[str, float]:
    """``corr_mean``, ``corr_recent_sharpe``, ...: flat keys for asset metadata and promotion."""
    flat = {}
    for metric, windows in summary.items():
        for window, stats in windows.items():
            prefix = metric if window == "all" else f"{metric}_{window}"
            flat.update({f"{prefix}_{name}": value for name, value in stats.items()})
    return flat


def summary_stat(summary: Mapping, metric: str, stat: str) -> object:
    """One figure of :func:`summarize` output (``summary[metric]["all"][stat]``) or of
    :func:`flatten_summary` output (``summary[f"{metric}_{stat}"]``); None when absent."""
    nested = summary.get(metric)
    if isinstance(nested, Mapping):
        return nested.get("all", {}).get(stat)
    return summary.get(f"{metric}_{stat}")
