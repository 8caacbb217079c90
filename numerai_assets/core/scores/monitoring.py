"""Live scores against what validation promised.

For each live score name, the validation metric it corresponds to is found by the name's words
(``v2_corr20``, ``CORR20`` and ``corr_v9`` all read ``corr``; ``mmc`` reads ``mmc``), or given
explicitly; a live score with no counterpart is tracked without a band. After ``N`` rounds the
cumulative live mean is expected within ``mean +- z * std / sqrt(N)`` of the champions'
validation per-era scores (eras treated as independent draws of a round). A score whose
cumulative mean stays below that lower edge for ``decay_rounds`` consecutive rounds is the
warning a participant needs: live has fallen short of validation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from numerai_assets.core.scores.live import RoundScores, labels, latest, tidy


def metric_for(live_name: str, metrics: Iterable[str], overrides: Mapping[str, str] | None = None) -> str | None:
    """The validation metric a live score name corresponds to, or None."""
    if overrides and live_name in overrides:
        return overrides[live_name]
    words = {re.sub(r"\d+", "", w) for w in re.split(r"[^a-z0-9]+", live_name.lower())}
    found = [m for m in metrics if m.lower() in words]
    return found[0] if len(found) == 1 else None


def live_table(records: Sequence[RoundScores]) -> pd.DataFrame:
    """Rounds x score labels: each round's newest value (resolved, else the latest day)."""
    frames = [tidy(r.rows) for r in records if r.rows]
    if not frames:
        return pd.DataFrame()
    newest = latest(pd.concat(frames, ignore_index=True))
    names = labels(newest)
    newest = newest.assign(label=[names[(n, v)] for n, v in zip(newest["name"], newest["version"], strict=True)])
    table = newest.pivot_table(index="round", columns="label", values="value", aggfunc="last")
    return table.sort_index().astype(float)


@dataclass(frozen=True)
class ScoreTrack:
    """One live score across rounds, and the band its validation counterpart sets."""

    name: str
    metric: str | None
    frame: pd.DataFrame  # per round: value, cumulative_mean, rolling_mean, expected, lower, upper, below
    streak: int  # latest consecutive rounds with the cumulative mean below the band

    def warn(self, decay_rounds: int) -> bool:
        return self.metric is not None and self.streak >= decay_rounds


@dataclass(frozen=True)
class MonitorReport:
    tracks: dict[str, ScoreTrack]
    decay_rounds: int
    z: float
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """One sentence per score below its band long enough, naming rounds and values."""
        out = []
        for t in self.tracks.values():
            if not t.warn(self.decay_rounds):
                continue
            last = t.frame.iloc[-1]
            rounds = list(t.frame.index[-t.streak :])
            out.append(
                f"{t.name}: cumulative live mean {last['cumulative_mean']:.4f} below the validation band "
                f"(lower edge {last['lower']:.4f}, {t.metric} mean {last['expected']:.4f}) for {t.streak} "
                f"consecutive rounds ({rounds[0]}-{rounds[-1]}; threshold {self.decay_rounds})"
            )
        return out


def track(
    name: str, values: pd.Series, per_era: pd.Series | None, metric: str | None, z: float, rolling: int
) -> ScoreTrack:
    """The cumulative and rolling means of one live score and its band round by round."""
    values = values.dropna().sort_index()
    n = np.arange(1, len(values) + 1)
    frame = pd.DataFrame({"value": values})
    frame["cumulative_mean"] = values.cumsum().to_numpy() / n
    frame["rolling_mean"] = values.rolling(rolling, min_periods=1).mean()
    if per_era is None or per_era.dropna().empty:
        frame["expected"] = frame["lower"] = frame["upper"] = np.nan
        frame["below"] = False
        return ScoreTrack(name, None, frame, 0)
    scores = per_era.dropna()
    mean, std = float(scores.mean()), float(scores.std(ddof=0))
    half = z * std / np.sqrt(n)
    frame["expected"], frame["lower"], frame["upper"] = mean, mean - half, mean + half
    frame["below"] = frame["cumulative_mean"] < frame["lower"]
    streak = 0
    for below in reversed(frame["below"].tolist()):
        if not below:
            break
        streak += 1
    return ScoreTrack(name, metric, frame, streak)


def monitor(
    records: Sequence[RoundScores],
    validation: pd.DataFrame | None,
    *,
    z: float = 1.96,
    decay_rounds: int = 3,
    rolling: int = 5,
    overrides: Mapping[str, str] | None = None,
) -> MonitorReport:
    """Every live score of the slot against its validation counterpart (per-era table, columns
    = metrics; None when the champions' figures are not found)."""
    table = live_table(records)
    metrics = list(validation.columns) if validation is not None else []
    tracks, notes = {}, []
    for name in table.columns:
        metric = metric_for(str(name), metrics, overrides)
        per_era = validation[metric] if validation is not None and metric is not None else None
        if metric is None:
            notes.append(f"{name}: no validation counterpart among {metrics or 'none'}; tracked without a band")
        tracks[str(name)] = track(str(name), table[name], per_era, metric, z, rolling)
    return MonitorReport(tracks, decay_rounds, z, notes)


def chart_inputs(report: MonitorReport) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Frames for ``charts.cumulative_scores_png`` (which plots cumulative sums): live, the
    validation expectation and the band's lower edge, as per-round increments of N x mean."""
    live, expected, lower = {}, {}, {}
    for name, t in report.tracks.items():
        live[name] = t.frame["value"]
        if t.metric is None:
            continue
        n = np.arange(1, len(t.frame) + 1)
        expected[name] = t.frame["expected"]
        lower[name] = pd.Series(np.diff(np.r_[0.0, t.frame["lower"].to_numpy() * n]), index=t.frame.index)
    frames = {"live": pd.DataFrame(live)}
    if expected:
        frames["validation mean"] = pd.DataFrame(expected)
        frames[f"band lower edge (z={report.z:g})"] = pd.DataFrame(lower)
    return frames, list(report.tracks)


def table_markdown(report: MonitorReport) -> str:
    """Per score: rounds, latest value, cumulative and rolling means, band, streak below."""
    lines = [
        "| score | validation metric | rounds | latest | cumulative mean | rolling mean | band | rounds below |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in report.tracks.items():
        last = t.frame.iloc[-1]
        band = "-" if t.metric is None else f"[{last['lower']:.4f}, {last['upper']:.4f}]"
        lines.append(
            f"| {name} | {t.metric or '-'} | {len(t.frame)} | {last['value']:.4f} | {last['cumulative_mean']:.4f} "
            f"| {last['rolling_mean']:.4f} | {band} | {t.streak} |"
        )
    return "\n".join(lines)


def mean_per_era(frames: Sequence[pd.DataFrame]) -> pd.DataFrame | None:
    """The champions' per-era metrics averaged era by era (a slot blends its champions; the
    average of their scores stands in for the blend's, which was never scored on validation)."""
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return None
    return pd.concat(frames).groupby(level=0).mean(numeric_only=True)


def psi_trend(verdicts: Iterable[Mapping]) -> pd.DataFrame:
    """Per round, the live feature drift the submission gates measured (max PSI, features drifted)."""
    rows = []
    for v in verdicts:
        gate = next((g for g in v.get("gates") or () if g.get("name") == "feature_drift"), None)
        observed = (gate or {}).get("observed") or {}
        if "max_psi" in observed:
            rows.append({"round": int(v["round"]), "max_psi": float(observed["max_psi"]),
                         "drifted": int(observed.get("drifted", 0))})  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=["max_psi", "drifted"])
    return pd.DataFrame(rows).drop_duplicates("round", keep="last").set_index("round").sort_index()


def psi_markdown(psi: pd.DataFrame) -> str:
    """The drift trend as a table, one line per round."""
    lines = ["| round | max PSI | features drifted |", "|---|---|---|"]
    lines += [f"| {r} | {row.max_psi:.4f} | {int(row.drifted)} |" for r, row in psi.iterrows()]
    return "\n".join(lines)
