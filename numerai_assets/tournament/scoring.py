"""How the local tournament scores a round: its hidden live truth and numerai-tools scores.

A round's truth is regenerated from the generator's streams (the same planted signal as the
training data, so a model that learned it scores positive): the main target of the live rows,
the meta model and the main benchmark. A *decay* mode makes the targets unrelated to the signal
(rows permuted) or its opposite (``1 - target``), for the live-decay scenario.

Scores are numerai-tools' own: CORR = ``numerai_corr`` on the round's target, MMC and BMC =
``correlation_contribution`` against the meta model and the benchmark. Day ``d`` of ``K`` scores
against the targets known by then (a fixed share ``d / K`` of rows, the others at the neutral
0.5), so the last day equals the resolved score exactly. The percentile is the share of a
reference population (the round's benchmark models, meta model and example predictions) that
scores below the submission on the same targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from numerai_tools.scoring import correlation_contribution, numerai_corr

from numerai_assets.tournament.eras import TournamentContext, build_batch
from numerai_assets.tournament.info import load_tournament_info, profile_of
from numerai_assets.tournament.scales import get_scale
from numerai_assets.tournament.writer import AtomicParquetWriter, frame_schema

DECAY_MODES = ("none", "opposite", "unrelated")
TRUTH_FILE = "resolved_truth.parquet"
META_MODEL = "numerai_meta_model"
EXAMPLE = "example_predictions"
_REVEAL_STREAM = 97  # which rows' targets are known on each scoring day
_UNRELATED_STREAM = 98


@dataclass(frozen=True)
class RoundTruth:
    """What Numerai knows about a live round once it resolves; index = the live ids, sorted."""

    target: pd.Series  # named after the round's target alias
    meta_model: pd.Series
    benchmark: pd.Series  # named after the benchmark column
    population: pd.DataFrame  # reference predictions for percentiles

    def frame(self) -> pd.DataFrame:
        """One table: target, meta model, benchmark (the file tests recompute scores from)."""
        return pd.concat([self.target, self.meta_model, self.benchmark], axis=1)


def build_truth(root: Path, round_number: int, decay: str = "none") -> RoundTruth:
    """Regenerate round `round_number`'s live rows and take their hidden truth."""
    if decay not in DECAY_MODES:
        raise ValueError(f"round {round_number}: unknown decay mode {decay!r}; known: {', '.join(DECAY_MODES)}")
    info = load_tournament_info(root)
    ctx = TournamentContext(get_scale(info.scale), info.seed, info.version, profile_of(info))
    b = build_batch(ctx, [ctx.live_era(round_number)])
    ids = pd.Index(b.ids.to_pylist(), name="id")
    target = b.targets[ctx.model.target_columns.index("target")].astype(np.float64)
    if decay == "opposite":
        target = 1.0 - target  # numerai_corr of every prediction flips sign exactly
    elif decay == "unrelated":
        target = np.random.default_rng([info.seed, _UNRELATED_STREAM, round_number]).permutation(target)
    main_bench = ctx.bench_cols[0]  # the main-target 20-day benchmark comes first by construction
    population = pd.DataFrame(
        dict(zip(ctx.bench_cols, b.bench.astype(np.float64), strict=True))
        | {META_MODEL: b.meta.astype(np.float64), EXAMPLE: b.example.astype(np.float64)},
        index=ids,
    ).sort_index()
    return RoundTruth(
        target=pd.Series(target, index=ids, name=info.target_alias).sort_index(),
        meta_model=population[META_MODEL].rename(META_MODEL),
        benchmark=population[main_bench].rename(main_bench),
        population=population,
    )


def write_truth(path: Path, truth: RoundTruth) -> None:
    """Keep the truth a round was scored on beside the generator's oracle (never served)."""
    frame = truth.frame().reset_index()
    schema = frame_schema([(c, pa.float64()) for c in frame.columns if c != "id"])
    with AtomicParquetWriter(path, schema) as w:
        w.write([pa.array(frame["id"].astype(str))] + [pa.array(frame[c]) for c in frame.columns if c != "id"])


def known_targets(truth: RoundTruth, round_number: int, day: int, days: int) -> pd.Series:
    """The targets known on scoring day `day` of `days`: a fixed share of rows, the rest 0.5."""
    if day >= days:
        return truth.target
    reveal = np.random.default_rng([_REVEAL_STREAM, round_number]).random(len(truth.target)) < day / days
    return truth.target.where(reveal, 0.5)


def _corr(preds: pd.DataFrame, truth: RoundTruth, target: pd.Series) -> pd.Series:
    return numerai_corr(preds, target)


def _mmc(preds: pd.DataFrame, truth: RoundTruth, target: pd.Series) -> pd.Series:
    return correlation_contribution(preds, truth.meta_model, target)


def _bmc(preds: pd.DataFrame, truth: RoundTruth, target: pd.Series) -> pd.Series:
    return correlation_contribution(preds, truth.benchmark, target)


Scorer = Callable[[pd.DataFrame, RoundTruth, pd.Series], pd.Series]
# The round_configs score name each local score is computed as (the served displayName may differ).
SCORERS: dict[str, Scorer] = {"corr20": _corr, "mmc": _mmc, "bmc": _bmc}


def score_submission(
    predictions: pd.Series, truth: RoundTruth, target: pd.Series, names: list[str]
) -> dict[str, tuple[float, float]]:
    """``{score name: (value, percentile)}`` of one submission against `target`."""
    preds = predictions.reindex(truth.target.index).rename("submission").to_frame()
    if preds["submission"].isna().any():
        missing = int(preds["submission"].isna().sum())
        raise ValueError(f"submission misses {missing} of the round's {len(preds)} live ids")
    table = pd.concat([preds, truth.population], axis=1)
    out: dict[str, tuple[float, float]] = {}
    for name in names:
        scores = SCORERS[name](table, truth, target)
        value = float(scores["submission"])
        others = scores.drop("submission").to_numpy(dtype=np.float64)
        out[name] = (value, float(np.mean(others < value)))
    return out


def read_submission(path: str | Path) -> pd.Series:
    """A submission CSV (``id,prediction``) as a Series indexed by id."""
    frame = pd.read_csv(path, dtype={"id": str})
    return frame.set_index("id")["prediction"].astype(np.float64)
