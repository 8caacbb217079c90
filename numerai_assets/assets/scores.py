"""Live results as assets: each slot's scores per round, its monitoring against validation (with
a non-blocking band check), and the round report.

The slot's Numerai model is the account model named like the slot. Scores are stored as the
server answers them (core.scores.live): nothing here knows a score name.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from numerai_assets.assets.metadata import readable
from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.live.names import LIVE_MONITORING, LIVE_SCORES, slot_asset_path
from numerai_assets.core.training.roster import Roster
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.submissions import SubmissionsResource

GROUP = "live_results"
BAND_CHECK = "live_within_band"
ROUND_REPORT_KEY = AssetKey("round_report")


def live_scores_key(slot: str) -> AssetKey:
    return AssetKey(slot_asset_path(slot, LIVE_SCORES))


def monitoring_key(slot: str) -> AssetKey:
    return AssetKey(slot_asset_path(slot, LIVE_MONITORING))


class MonitoringConfig(Config):
    """How live scores are judged against validation."""

    z: float = Field(default=1.96, description="band half-width in standard errors of the N-round mean")
    decay_rounds: int = Field(default=3, description="consecutive rounds below the band before the check warns")
    rolling_rounds: int = Field(default=5, description="window of the rolling mean")
    score_metrics: dict[str, str] = Field(
        default_factory=dict,
        description="live score name -> validation metric, where the name's words do not say it",
    )


def model_id_for_slot(client: Any, slot: str) -> str:
    """The account model named like the slot (the slot's Numerai model)."""
    models = client.models()
    if slot not in models:
        raise Failure(f"slot {slot}: no Numerai model of that name in the account (models: {sorted(models)})")
    return models[slot]


def our_submission_id(submissions: SubmissionsResource, round_number: int, slot: str) -> str | None:
    """The submission id our ledger confirmed for (round, slot), if any (dry runs are not ours)."""
    with submissions.ledger() as ledger:
        entry = ledger.confirmed(round_number, slot, dry_run=False)
    return entry.submission_id if entry else None


def stored_scores(model_store: ModelStore, slot: str, rounds: Sequence[int]) -> list[Any]:
    from numerai_assets.core.scores.live import RoundScores, record_key

    records = (model_store.read_json(record_key(slot, r)) for r in sorted(rounds))
    return [RoundScores.from_json(r) for r in records if r is not None]


def slot_verdicts(model_store: ModelStore, slot: str, rounds: Sequence[int]) -> list[dict]:
    """The gate verdicts the slot's live predictions left for these rounds (pending ones left out)."""
    from numerai_assets.core.live.verdict import predictions_csv_key, verdict_key

    verdicts = (model_store.read_json(verdict_key(predictions_csv_key(r, slot))) for r in sorted(rounds))
    return [v for v in verdicts if v is not None and v.get("sha256")]


def champions_per_era(model_store: ModelStore, models: Sequence[str]) -> tuple[pd.DataFrame | None, list[str]]:
    """The champions' validation per-era metrics (stored beside their evaluated ensemble)."""
    from numerai_assets.core.scores.monitoring import mean_per_era

    frames, notes = [], []
    for model in models:
        record = model_store.read_json(ChampionRecord.key(model))
        ensemble = ((record or {}).get("extra") or {}).get("ensemble_key")
        if not ensemble:
            notes.append(f"{model}: no champion record with an evaluation (no band from it)")
            continue
        key = str(PurePosixPath(ensemble).with_name("per_era.parquet"))
        path = model_store.local_path(key)
        if not Path(path).exists():
            notes.append(f"{model}: champion's per-era metrics {key} not found")
            continue
        frames.append(pd.read_parquet(path))
    return mean_per_era(frames), notes


def _live_scores_asset(slot: str) -> AssetsDefinition:
    @asset(
        key=live_scores_key(slot),
        group_name=GROUP,
        partitions_def=rounds_partitions,
        kinds={"json"},
        description=f"Slot {slot}'s live scores of the round, every score Numerai returns, as it returns them.",
    )
    def live_scores(
        context: AssetExecutionContext,
        numerai: NumeraiResource,
        model_store: ModelStore,
        submissions: SubmissionsResource,
    ) -> MaterializeResult:
        from numerai_assets.core.scores.live import RoundScores, record_key, summary_markdown

        round_number = int(context.partition_key)
        client = numerai.get_client(logger=context.log)
        model_id = model_id_for_slot(client, slot)
        rows = [r for r in client.submission_scores(model_id) if r.get("roundNumber") == round_number]
        details = client.round_details(round_number)
        record = RoundScores(
            slot=slot,
            round_number=round_number,
            model_id=model_id,
            rows=tuple(rows),
            our_submission_id=our_submission_id(submissions, round_number, slot),
            score_configs=details.score_configs,
            payout_factor=None if details.payout_factor is None else float(details.payout_factor),
        )
        uri = model_store.write_json(record_key(slot, round_number), record.to_json())
        metadata: dict[str, Any] = {}
        for label, s in record.summary().items():
            metadata[label] = s["value"]
            metadata[f"{label}_resolved"] = s["resolved"]
            metadata[f"{label}_day"] = s["day"]
            metadata[f"{label}_percentile"] = s["percentile"]
            if s["multiplier"] is not None:
                metadata[f"{label}_multiplier"] = s["multiplier"]
        submitted = record.submitted_by_us
        metadata |= {
            "score_rows": len(rows),
            "submitted_by_us": "unknown" if submitted is None else submitted,
            "submission_ids": ", ".join(sorted({str(r.get("submissionId")) for r in rows})) or "-",
            "payout_factor": record.payout_factor if record.payout_factor is not None else "not given",
            "scores": MetadataValue.md(summary_markdown(record)),
            "record": uri,
        }
        return MaterializeResult(metadata=readable(metadata))

    return live_scores


def _monitoring_asset(slot: str, models: list[str]) -> AssetsDefinition:
    key = monitoring_key(slot)

    @asset(
        key=key,
        group_name=GROUP,
        kinds={"json"},
        deps=[AssetDep(live_scores_key(slot))],
        check_specs=[AssetCheckSpec(BAND_CHECK, asset=key, blocking=False, description="warns only")],
        description=f"Slot {slot}: cumulative and rolling live scores against the band the champions' "
        "validation predicts, and the live feature drift trend.",
    )
    def live_monitoring(
        context: AssetExecutionContext, config: MonitoringConfig, model_store: ModelStore
    ) -> Iterator[MaterializeResult | AssetCheckResult]:
        from numerai_assets.core.evaluation import charts
        from numerai_assets.core.scores.monitoring import (
            chart_inputs,
            monitor,
            psi_markdown,
            psi_trend,
            table_markdown,
        )

        rounds = [int(k) for k in context.instance.get_dynamic_partitions(rounds_partitions.name) if k.isdigit()]
        records = stored_scores(model_store, slot, rounds)
        validation, notes = champions_per_era(model_store, models)
        report = monitor(
            records,
            validation,
            z=config.z,
            decay_rounds=config.decay_rounds,
            rolling=config.rolling_rounds,
            overrides=config.score_metrics,
        )
        psi = psi_trend(slot_verdicts(model_store, slot, rounds))
        metadata: dict[str, Any] = {"rounds_scored": len(records), "notes": "; ".join(notes + report.notes) or "-"}
        if report.tracks:
            frames, names = chart_inputs(report)
            png = charts.cumulative_scores_png(frames, metrics=names, step="round")
            metadata["live_vs_validation"] = MetadataValue.md(table_markdown(report))
            chart = charts.png_markdown(png, f"{slot} live vs validation")
            metadata["cumulative_live_scores"] = MetadataValue.md(chart)
            for name, t in report.tracks.items():
                metadata[f"{name}_cumulative_mean"] = float(t.frame["cumulative_mean"].iloc[-1])
                metadata[f"{name}_rounds_below_band"] = t.streak
        if not psi.empty:
            metadata["feature_drift_psi"] = MetadataValue.md(psi_markdown(psi))
            metadata["latest_max_psi"] = float(psi["max_psi"].iloc[-1])
        yield MaterializeResult(metadata=readable(metadata))
        warnings = report.warnings
        yield AssetCheckResult(
            check_name=BAND_CHECK,
            asset_key=key,
            passed=not warnings,
            severity=AssetCheckSeverity.WARN,
            description="; ".join(warnings) or f"live within the validation band (z={config.z:g})",
            metadata={
                "decay_rounds": config.decay_rounds,
                "warnings": MetadataValue.json(warnings),
                # the round an alert names: the latest one scored
                **({"latest_round": max(r.round_number for r in records)} if records else {}),
            },
        )

    return live_monitoring


def build_round_report(roster: Roster) -> AssetsDefinition:
    slots = list(roster.slots)

    @asset(
        key=ROUND_REPORT_KEY,
        group_name=GROUP,
        partitions_def=rounds_partitions,
        kinds={"markdown"},
        deps=[AssetDep(live_scores_key(s)) for s in slots],
        description="One summary of the round: each slot's status, gates, submission and scores so far.",
    )
    def round_report(
        context: AssetExecutionContext,
        numerai: NumeraiResource,
        model_store: ModelStore,
        submissions: SubmissionsResource,
    ) -> MaterializeResult:
        from numerai_assets.core.scores.report import render_round_report, round_finished, round_settled, slot_round

        round_number = int(context.partition_key)
        details = numerai.get_client(logger=context.log).round_details(round_number)
        with submissions.ledger() as ledger:
            entries = {s: ledger.entries(round_number, s) for s in slots}
        parts = []
        for s in slots:
            verdict = next(iter(slot_verdicts(model_store, s, [round_number])), None)
            scores = stored_scores(model_store, s, [round_number])
            parts.append(slot_round(s, entries[s], verdict, scores[0] if scores else None, details.close_staking_time))
        text = render_round_report(round_number, parts, details.metadata())
        key = f"reports/round{round_number}.md"
        with model_store.writing(key) as path:
            Path(path).write_text(text)
        return MaterializeResult(
            metadata={
                "report": MetadataValue.md(text),
                "path": model_store.uri(key),
                # what the alerts sensor reads: the report goes out when settled, then when finished
                "settled": round_settled(parts),
                "finished": round_finished(parts),
                **{f"{p.slot}_status": p.status for p in parts},
            }
        )

    return round_report


def build_score_assets(roster: Roster) -> list[AssetsDefinition]:
    """Per slot its live scores and monitoring; one round report over every slot."""
    per_slot = [
        a
        for slot, models in roster.slots.items()
        for a in (_live_scores_asset(slot), _monitoring_asset(slot, list(models)))
    ]
    return [*per_slot, build_round_report(roster)]
