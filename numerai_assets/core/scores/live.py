"""A slot's live scores for one round, stored as Numerai returns them.

``submission_scores`` rows are kept whole (every field, every score name and version the server
answers; nothing here knows a name), beside a tidy table for reading. The round's payout
multipliers come from its ``roundScoreConfigs``, matched by display name or name (and version
where both carry one); a score without a matching config simply has none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from numerai_assets.core.evaluation.charts import _fmt

TIDY_COLUMNS = ("round", "submission_id", "name", "version", "day", "value", "percentile", "resolved", "date")


def record_key(slot: str, round_number: int) -> str:
    """Where the live scores of `slot` for `round_number` live in the model store."""
    return f"live_scores/{slot}/round{round_number}.json"


def rounds_of(rows: Iterable[Mapping[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Rows grouped by ``roundNumber`` (rows without one are dropped: they belong to no round)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        number = row.get("roundNumber")
        if number is not None:
            out.setdefault(int(number), []).append(dict(row))
    return out


def digest(rows: Sequence[Mapping[str, Any]]) -> str:
    """A fingerprint of a round's rows: it changes when any score, day or flag changes."""
    canonical = sorted(json.dumps(dict(r), sort_keys=True, default=str) for r in rows)
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()[:16]


def tidy(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per score row: round, submission id, name (displayName), version, day, value,
    percentile, resolved, date; missing fields are None (a server that answers fewer fields)."""
    frame = pd.DataFrame(
        [
            {
                "round": r.get("roundNumber"),
                "submission_id": r.get("submissionId"),
                "name": str(r.get("displayName") or r.get("name") or "unnamed"),
                "version": None if r.get("version") is None else str(r.get("version")),
                "day": r.get("day"),
                "value": r.get("value"),
                "percentile": r.get("percentile"),
                "resolved": bool(r.get("resolved")),
                "date": r.get("date"),
            }
            for r in rows
        ],
        columns=list(TIDY_COLUMNS),
    )
    return frame.sort_values(["round", "name", "day"], kind="stable", na_position="first").reset_index(drop=True)


def labels(frame: pd.DataFrame) -> dict[tuple[str, str | None], str]:
    """A display label per (name, version): the name, plus the version where a name has several."""
    pairs = list(dict.fromkeys(zip(frame["name"], frame["version"], strict=True)))
    names = pd.Series([n for n, _ in pairs]).value_counts()
    return {(n, v): n if names[n] == 1 or v is None else f"{n}_{v}" for n, v in pairs}


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (round, name, version) the newest score: the resolved one, else the latest day."""
    if frame.empty:
        return frame
    order = frame.assign(_day=frame["day"].fillna(-1)).sort_values(["resolved", "_day"], kind="stable")
    keep = order.groupby(["round", "name", "version"], dropna=False, sort=True).tail(1)
    return keep.drop(columns="_day").sort_values(["round", "name"], kind="stable").reset_index(drop=True)


def config_for(configs: Sequence[Mapping[str, Any]] | None, name: str, version: str | None) -> Mapping | None:
    """The round score config of a score, by displayName or name (and version when both have one)."""
    for c in configs or ():
        if name not in (c.get("displayName"), c.get("name")):
            continue
        if version is not None and c.get("version") is not None and str(c["version"]) != version:
            continue
        return c
    return None


@dataclass(frozen=True)
class RoundScores:
    """One slot's scores of one round, with what we know about the submission behind them."""

    slot: str
    round_number: int
    model_id: str
    rows: tuple[dict[str, Any], ...]  # as the server returned them
    our_submission_id: str | None  # from our ledger; None when we made no submission
    score_configs: tuple[dict[str, Any], ...] | None = None
    payout_factor: float | None = None

    @property
    def submitted_by_us(self) -> bool | None:
        """True/False when the server names the submission; None when it does not say."""
        ids = {r.get("submissionId") for r in self.rows} - {None}
        if not ids:
            return None
        return self.our_submission_id in ids

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (times as ISO strings: numerapi parses some config times into datetimes)."""
        record = {
            "slot": self.slot,
            "round": self.round_number,
            "model_id": self.model_id,
            "our_submission_id": self.our_submission_id,
            "submitted_by_us": self.submitted_by_us,
            "payout_factor": self.payout_factor,
            "score_configs": None if self.score_configs is None else list(self.score_configs),
            "rows": list(self.rows),
            "digest": digest(self.rows),
        }
        return json.loads(json.dumps(record, default=_iso))

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> RoundScores:
        configs = record.get("score_configs")
        return cls(
            slot=record["slot"],
            round_number=int(record["round"]),
            model_id=record["model_id"],
            rows=tuple(record.get("rows") or ()),
            our_submission_id=record.get("our_submission_id"),
            score_configs=None if configs is None else tuple(configs),
            payout_factor=record.get("payout_factor"),
        )

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per score label: latest value, its day, resolved, percentile, the round's multiplier."""
        newest = latest(tidy(self.rows))
        if newest.empty:
            return {}
        names = labels(newest)
        out = {}
        for row in newest.itertuples(index=False):
            config = config_for(self.score_configs, row.name, row.version)
            multiplier = config.get("defaultMultiplier") if config else None
            out[names[(row.name, row.version)]] = {
                "value": _num(row.value),
                "day": None if pd.isna(row.day) else int(row.day),
                "resolved": bool(row.resolved),
                "percentile": _num(row.percentile),
                "multiplier": _num(multiplier),
                "payout": bool(config.get("isPayout")) if config else None,
            }
        return out


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serializable: {value!r}")


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(out) else out


@dataclass(frozen=True)
class PayoutEstimate:
    """The round's payout as a share of stake, as the scores stand (final once all resolved)."""

    share: float  # stake * share = NMR paid (negative: burned)
    unclipped: float
    clip: float | None
    terms: tuple[tuple[str, float, float], ...]  # (score label, multiplier, value)

    def describe(self, payout_factor: float) -> str:
        parts = " + ".join(f"{m:g} x {label} {v:+.4f}" for label, m, v in self.terms)
        clip = f", clipped to +-{self.clip:g}" if self.clip is not None else ""
        return f"payout {self.share:+.2%} of stake = {payout_factor:g} x ({parts}){clip}"


def payout_estimate(scores: RoundScores) -> PayoutEstimate | None:
    """``payout_factor * sum(multiplier * score)`` over the round's payout scores, clipped at the
    configs' ``clipThreshold`` (Numerai's rule, reference numerai.md); every figure comes from the
    server's ``roundScoreConfigs`` and ``payoutFactor``, never from a fixed list of names. None when
    the server gives no payout factor or no payout score has a value yet."""
    if scores.payout_factor is None:
        return None
    summary = scores.summary()
    terms = tuple(
        (label, s["multiplier"], s["value"])
        for label, s in summary.items()
        if s["payout"] and s["multiplier"] is not None and s["value"] is not None
    )
    if not terms:
        return None
    unclipped = float(scores.payout_factor) * sum(m * v for _, m, v in terms)
    clips = [_num(c.get("clipThreshold")) for c in scores.score_configs or () if c.get("isPayout")]
    clip = min((c for c in clips if c is not None), default=None)
    share = unclipped if clip is None else max(-clip, min(clip, unclipped))
    return PayoutEstimate(share, unclipped, clip, terms)


def summary_markdown(scores: RoundScores) -> str:
    """A table of the round's scores as they stand, then the payout they imply."""
    rows = scores.summary()
    if not rows:
        return f"round {scores.round_number}: no scores yet"
    lines = ["| score | value | day | resolved | percentile | multiplier |", "|---|---|---|---|---|---|"]
    for label, s in rows.items():
        cells = [_fmt(s["value"]), _fmt(s["day"]), "yes" if s["resolved"] else "no", _fmt(s["percentile"]),
                 _fmt(s["multiplier"])]  # fmt: skip
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    estimate = payout_estimate(scores)
    if estimate is not None and scores.payout_factor is not None:
        final = all(s["resolved"] for s in rows.values())
        lines += ["", estimate.describe(float(scores.payout_factor)) + ("" if final else " (not resolved yet)")]
    return "\n".join(lines)
