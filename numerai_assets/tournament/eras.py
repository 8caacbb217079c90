"""Per-era generation of rows (features, targets, fake model predictions) into Arrow batches.

Each era draws from its own generators keyed by (seed, stream, era), so an era's rows are the
same whichever batch it lands in; consecutive eras are stacked into one batch per Parquet row
group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from numerai_assets.tournament.layout import FeatureLayout, build_layout
from numerai_assets.tournament.planted_signal import (
    LIVE_STREAM_OFFSET,
    STREAM_ERA,
    STREAM_FEATURES,
    STREAM_NAN,
    STREAM_PREDICTIONS,
    STREAM_QUANTUM,
    STREAM_TARGETS,
    SignalModel,
    era_rng,
)
from numerai_assets.tournament.profiles import DEFAULT_PROFILE, NEXT_ERA, Profile, get_profile
from numerai_assets.tournament.scales import BENCHMARK_TARGET_NAMES, Scale
from numerai_assets.tournament.versions import benchmark_prefix, n_quantum_features
from numerai_assets.tournament.writer import frame_schema, make_ids, repeat_string

LIVE_ERA = "X"
NAN_RATE = 0.1  # share of rows of a NaN-feature column that are NaN, per era
_ROW_BITS = 20  # id counter = era key << 20 | row; live keys start above every era index
_LIVE_KEY_BASE = 1 << 21
MAX_ROUND = 1 << 20


@dataclass(frozen=True)
class Era:
    index: int  # 0-based position in train + validation; live eras continue after them
    label: str
    data_type: str  # train / validation (or the profile's label of unresolved eras) / live
    n_rows: int
    strength: float  # signal multiplier of the era
    key: int  # generator key: the era index, or the round number for live eras
    resolved: bool = True  # False: a validation era whose targets are not known yet (all NaN)


class TournamentContext:
    """Everything fixed for one (scale, seed, version, profile) tournament: layout, signal,
    schemas. v5.2 features, targets, ids and fake models are the same in every version."""

    def __init__(self, scale: Scale, seed: int, version: str, profile: Profile | str = DEFAULT_PROFILE) -> None:
        self.scale, self.seed, self.version = scale, seed, version
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.layout: FeatureLayout = build_layout(scale, seed, n_quantum_features(version, scale.n_features))
        self.model = SignalModel(scale, seed, self.layout)
        prefix = benchmark_prefix(version)
        names = BENCHMARK_TARGET_NAMES
        self.bench_cols = [f"{prefix}_lgbm_{n}{h}" for n in names for h in (20, 60)]
        self.nan_features = _nan_feature_indices(self.layout, self.profile.nan_features)
        nan_set = set(self.nan_features.tolist())
        strings = [("era", pa.string()), ("data_type", pa.string())]
        target_fields = [(t, pa.float32()) for t in self.model.target_columns]
        feature_fields = [(n, pa.float32() if i in nan_set else pa.int8())
                          for i, n in enumerate(self.layout.names)]  # fmt: skip
        self.data_schema = frame_schema(strings + feature_fields + target_fields)
        self.live_schema = frame_schema(strings + feature_fields + (target_fields if self.profile.live_targets else []))
        bench_strings = strings if self.profile.benchmark_data_type else strings[:1]
        bench_fields = [(c, pa.float32()) for c in self.bench_cols]
        self.bench_schema = frame_schema(bench_strings + bench_fields)
        self.meta_schema = frame_schema(bench_strings + [("numerai_meta_model", pa.float32())])
        self.preds_schema = frame_schema([("prediction", pa.float32())])
        self.csv_schema = pa.schema([("id", pa.string()), ("prediction", pa.float32())])
        self.oracle_schema = frame_schema([("era", pa.string()), ("oracle", pa.float32())])
        self.live_oracle_schema = frame_schema([("era", pa.string()), ("oracle", pa.float32())] + target_fields)
        self.n_resolved = scale.n_train_eras + scale.n_validation_eras
        self.n_eras = self.n_resolved + scale.n_test_eras
        self.unresolved_60_from = self.n_resolved - scale.n_test_eras
        self.bench_start = 1 + round(scale.n_train_eras * 157 / 574)  # real: era 0158 of 574

    def era(self, index: int) -> Era:
        s = self.scale
        resolved = index < self.n_resolved
        if index < s.n_train_eras:
            kind, mean_rows = "train", s.train_rows_per_era
        else:
            kind = "validation" if resolved else self.profile.unresolved_data_type
            mean_rows = s.validation_rows_per_era
        rng = era_rng(self.seed, STREAM_ERA, index)
        n_rows = max(10, round(mean_rows * rng.uniform(0.9, 1.1)))
        strength = self.model.era_strength(rng)
        return Era(index, f"{index + 1:04d}", kind, n_rows, strength, index, resolved)

    def live_era_label(self, round_number: int) -> str:
        """The era value of a round's live rows, as the profile says."""
        if self.profile.live_era == NEXT_ERA:
            return f"{self.n_eras + round_number:04d}"
        return self.profile.live_era

    def live_era(self, round_number: int) -> Era:
        rng = era_rng(self.seed, STREAM_ERA + LIVE_STREAM_OFFSET, round_number)
        n_rows = max(10, round(self.scale.live_rows * rng.uniform(0.97, 1.03)))
        strength = self.model.era_strength(rng)
        label = self.live_era_label(round_number)
        return Era(self.n_eras + round_number, label, "live", n_rows, strength, round_number)

    def bench_base(self, b: Batch) -> list[pa.Array | pa.ChunkedArray]:
        """id, era (and data_type unless the profile drops it) of benchmark/meta files."""
        base = [b.ids, b.era_col, b.type_col]
        return base if self.profile.benchmark_data_type else base[:2]

    def data_columns(self, b: Batch, live: bool = False) -> list[pa.Array | pa.ChunkedArray]:
        """Arrays of train/validation/live.parquet in schema order (live: the profile's form)."""
        cols: list[pa.Array | pa.ChunkedArray] = [b.ids, b.era_col, b.type_col]
        feats = [pa.array(f) for f in b.features]
        for k, i in enumerate(self.nan_features):
            values = b.features[i].astype(np.float32)
            values[b.nan_mask[k]] = np.nan
            feats[i] = pa.array(values, from_pandas=True)
        cols += feats
        if not live:
            cols += [pa.array(t, from_pandas=True) for t in b.targets]
        elif self.profile.live_targets:
            cols += [pa.nulls(b.n_rows, pa.float32()) for _ in b.targets]
        return cols

    def era_groups(self, indices: range) -> list[list[Era]]:
        """Consecutive eras grouped to about `row_group_rows` rows per group."""
        eras = [self.era(i) for i in indices]
        mean_rows = max(1, sum(e.n_rows for e in eras) // max(1, len(eras)))
        per_group = max(1, self.scale.row_group_rows // mean_rows)
        return [eras[i : i + per_group] for i in range(0, len(eras), per_group)]


@dataclass
class Batch:
    """Consecutive eras stacked row-wise; features are feature-major (contiguous columns)."""

    eras: list[Era]
    features: np.ndarray  # (n_features, n) int8
    targets: np.ndarray  # (n_targets, n) float32, NaN where missing (resolved even for live)
    oracle: np.ndarray  # (n,) float32 E[target | features, era]
    bench: np.ndarray  # (n_bench, n) float32
    meta: np.ndarray
    example: np.ndarray
    nan_mask: np.ndarray  # (n_nan_features, n) bool: where the profile's NaN features are NaN
    ids: pa.Array
    era_col: pa.ChunkedArray
    type_col: pa.ChunkedArray

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    def rows_of(self, keep: Callable[[Era], bool]) -> tuple[int, int]:
        """Row range [lo, hi) of the kept eras (callers keep a contiguous run of eras)."""
        bounds = np.cumsum([0] + [e.n_rows for e in self.eras])
        sel = [i for i, e in enumerate(self.eras) if keep(e)]
        return (int(bounds[sel[0]]), int(bounds[sel[-1] + 1])) if sel else (0, 0)


def build_batch(ctx: TournamentContext, eras: list[Era]) -> Batch:
    """Generate the rows of consecutive eras (train/validation/test, or one live era)."""
    lay, model, n = ctx.layout, ctx.model, sum(e.n_rows for e in eras)
    feats = np.empty((lay.n_features, n), dtype=np.int8)
    targets = np.empty((len(model.target_columns), n), dtype=np.float32)
    oracle, meta, example = (np.empty(n, dtype=np.float32) for _ in range(3))
    bench = np.empty((len(ctx.bench_cols), n), dtype=np.float32)
    counters = np.empty(n, dtype=np.uint64)
    nan_mask = np.zeros((len(ctx.nan_features), n), dtype=bool)
    lo = 0
    for e in eras:
        hi = lo + e.n_rows
        live = e.data_type == "live"
        offset = LIVE_STREAM_OFFSET if live else 0
        x = lay.draw(era_rng(ctx.seed, STREAM_FEATURES + offset, e.key), e.n_rows,
                     None if live else e.index,
                     era_rng(ctx.seed, STREAM_QUANTUM + offset, e.key))  # fmt: skip
        terms = model.terms(x)
        # 60-day targets of the last resolved validation eras are not resolved yet
        unresolved_60 = e.resolved and e.data_type == "validation" and (e.index >= ctx.unresolved_60_from)
        rng_t = era_rng(ctx.seed, STREAM_TARGETS + offset, e.key)
        t, o = model.targets(terms, e.index, e.strength, rng_t, unresolved_60)
        if not e.resolved:
            t[:] = np.nan
        if len(ctx.nan_features):
            rng_n = era_rng(ctx.seed, STREAM_NAN + offset, e.key)
            nan_mask[:, lo:hi] = rng_n.random((len(ctx.nan_features), e.n_rows)) < NAN_RATE
        rng_p = era_rng(ctx.seed, STREAM_PREDICTIONS + offset, e.key)
        b, m, ex = model.predictions(terms, x, rng_p)
        feats[:, lo:hi], targets[:, lo:hi], oracle[lo:hi] = x, t, o
        bench[:, lo:hi], meta[lo:hi], example[lo:hi] = b, m, ex
        id_key = _LIVE_KEY_BASE + e.key if live else e.index
        assert e.n_rows < (1 << _ROW_BITS) and id_key < _LIVE_KEY_BASE + MAX_ROUND
        counters[lo:hi] = (np.uint64(id_key) << np.uint64(_ROW_BITS)) + np.arange(e.n_rows, dtype=np.uint64)
        lo = hi
    return Batch(
        eras=eras,
        features=feats,
        targets=targets,
        oracle=oracle,
        bench=bench,
        meta=meta,
        example=example,
        nan_mask=nan_mask,
        ids=make_ids(counters, ctx.seed),
        era_col=pa.chunked_array([repeat_string(e.label, e.n_rows) for e in eras], pa.string()),
        type_col=pa.chunked_array([repeat_string(e.data_type, e.n_rows) for e in eras], pa.string()),
    )


def float_columns(values: np.ndarray) -> list[pa.Array]:
    return [pa.array(v, from_pandas=True) for v in np.atleast_2d(values)]


def _nan_feature_indices(layout: FeatureLayout, k: int) -> np.ndarray:
    """The `k` features stored with NaN: late-introduced ones first (their values are the ones
    "not available at that point in time"), then other non-signal v5.2 features."""
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    others = np.setdiff1d(np.arange(layout.n_base), np.union1d(layout.signal, layout.late))
    return np.concatenate([layout.late, others])[:k].astype(np.int64)
