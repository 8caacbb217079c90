"""The round run: per slot, live predictions from the champions (gated) and the submission.

Each slot has its own two assets (``<slot>/<slot>_live_predictions``, ``<slot>/<slot>_submission``),
partitioned by round: a failing gate or upload in one slot stops only that slot, and one slot
can be re-run on its own for a round. Champions are read from the model store, the source of
truth, so a candidate that failed its promotion gate never reaches a live round.
"""

from collections.abc import Iterator

import numpy as np
from dagster import (
    AllPartitionMapping,
    AssetCheckResult,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    Failure,
    MetadataValue,
    Output,
    asset,
)
from pydantic import Field

from numerai_assets.assets.metadata import readable
from numerai_assets.assets.submission import submission_asset
from numerai_assets.checks.gates import blocking_gate_failure, gate_check_results, gate_check_specs
from numerai_assets.core.artifacts import (
    ChampionRecord,
    FeatureDistribution,
    SlotPredictionsRef,
)
from numerai_assets.core.data.dataset import FeatureSets, LiveRoundData, read_by_id
from numerai_assets.core.data.versions import benchmark_series
from numerai_assets.core.live.names import LIVE_PREDICTIONS, SUBMISSION, slot_asset_path
from numerai_assets.core.training.roster import Roster
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.policy import GatePolicy

GROUP = "live"


class LivePredictionConfig(Config):
    neutralize_proportion: float = Field(default=0.0, description="0 = off; 1 = fully neutral")
    neutralize_feature_set: str = Field(default="small", description="features to neutralize against")


def _champion_model_paths(
    model_store: ModelStore,
    models: list[str],
    dataset_version: str,
) -> tuple[dict, dict]:
    """Each model's verified champion seed files (see ``core.live.predict.verify_champion``)."""
    from numerai_assets.core.live.predict import ChampionError, verify_champion

    paths, shas = {}, {}
    for model in models:
        key = ChampionRecord.key(model)
        try:
            record = model_store.read_json(key)
            if record is None:
                raise Failure(f"model {model} has no champion yet: run its evaluation_job first")
            paths[model] = verify_champion(model, record, model_store.uri(key), model_store.local_path, dataset_version)
        except (ChampionError, ValueError, FileNotFoundError) as exc:
            raise Failure(f"champion of {model} refused: {exc}", allow_retries=False) from None
        shas[model] = [s["model_sha256"] for s in record["seeds"]]
    return paths, shas


def _live_contract(live_data: LiveRoundData, feature_sets: FeatureSets) -> dict:
    """The contract of the live file as it is now: ``live_data``'s record when it judged these
    very bytes (sha256 of the file, not of the handle), else the contract is run again here."""
    import dataclasses

    from numerai_assets.checks.data_contracts import run_live_contract
    from numerai_assets.core.live.verdict import stored_live_contract
    from numerai_assets.core.training.manifest import file_sha256

    live = dataclasses.replace(live_data.live, sha256=file_sha256(live_data.live.path))
    stored = stored_live_contract(live.path, live.sha256)
    if stored is None:  # no record of these bytes (changed since live_data, or placed by hand)
        run_live_contract(live, feature_sets)
        stored = stored_live_contract(live.path, live.sha256)
    if stored is None:
        raise Failure(f"{live.path}: its contract record could not be written or read back")
    return stored


def slot_key(slot: str, stage: str) -> AssetKey:
    """The asset key of a slot's ``live_predictions`` or ``submission`` (the slot in its last part)."""
    return AssetKey(slot_asset_path(slot, stage))


def build_slot_assets(roster: Roster) -> list[AssetsDefinition]:
    return [a for slot, models in roster.slots.items() for a in _slot_assets(slot, models)]


def _slot_assets(slot: str, models: list[str]) -> list[AssetsDefinition]:
    predictions = _predictions_asset(slot, models)
    return [predictions, submission_asset(slot, slot_key(slot, SUBMISSION), predictions.key, GROUP)]


def _predictions_asset(slot: str, models: list[str]) -> AssetsDefinition:
    key = slot_key(slot, LIVE_PREDICTIONS)

    @asset(
        key=key,
        group_name=GROUP,
        partitions_def=rounds_partitions,
        kinds={"csv"},
        check_specs=gate_check_specs(key, rounds_partitions),
        # lineage: the champions are read from the model store (their source of truth)
        deps=[AssetDep("champion", partition_mapping=AllPartitionMapping())],
        description=f"Live predictions for slot {slot} from the champions of {models}, gated.",
    )
    def live_predictions(
        context: AssetExecutionContext,
        config: LivePredictionConfig,
        live_data: LiveRoundData,
        train_feature_distribution: FeatureDistribution,
        feature_sets: FeatureSets,
        model_store: ModelStore,
        gate_policy: GatePolicy,
    ) -> Iterator[Output[SlotPredictionsRef] | AssetCheckResult]:
        from numerai_assets.core.live.predict import predict_slot
        from numerai_assets.core.live.verdict import build_verdict, verdict_key

        paths, shas = _champion_model_paths(model_store, models, live_data.live.version)
        slot_preds = predict_slot(
            paths,
            live_data.live.path,
            neutralize_proportion=config.neutralize_proportion,
            neutralize_features=feature_sets.resolve(config.neutralize_feature_set),
        )
        ref = _write_predictions(model_store, slot, live_data, slot_preds.predictions, shas)
        results = _run_gates(live_data, slot_preds, train_feature_distribution, gate_policy)
        verdict = build_verdict(
            round_number=ref.round_number,
            slot=slot,
            sha256=ref.sha256,
            gates=results,
            live_contract=_live_contract(live_data, feature_sets),
        )
        model_store.write_json(verdict_key(ref.csv_key), verdict)
        yield Output(ref, metadata=_predictions_metadata(ref, slot_preds.predictions, results, model_store))
        yield from gate_check_results(results, key, slot=slot, round_number=ref.round_number)
        failure = blocking_gate_failure(results, slot=slot, round_number=ref.round_number)
        if failure is not None:  # the run's failure names the gates and why, not a stack trace
            raise failure

    return live_predictions


def _write_predictions(model_store: ModelStore, slot: str, live_data: LiveRoundData, preds, shas: dict):
    """The submission CSV in the model store, a pending verdict written first: a step killed
    between the CSV and its verdict leaves nothing uploadable."""
    from numerai_assets.core.live.predict import write_submission_csv
    from numerai_assets.core.live.verdict import pending_verdict, predictions_csv_key, verdict_key

    key = predictions_csv_key(live_data.round_number, slot)
    model_store.write_json(verdict_key(key), pending_verdict(live_data.round_number, slot))
    with model_store.writing(key) as path:
        sha256 = write_submission_csv(path, preds)
    return SlotPredictionsRef(slot, live_data.round_number, key, sha256, len(preds), shas, live_data.live.version)


def _run_gates(live_data: LiveRoundData, slot_preds, dist: FeatureDistribution, gate_policy: GatePolicy) -> list:
    """Every submission gate on the slot's predictions against the live file and its benchmark."""
    from numerai_assets.core.live.gates import evaluate_submission
    from numerai_assets.core.live.predict import submission_frame

    live = read_by_id(live_data.live.path)
    bench = read_by_id(live_data.benchmark_models.path)
    return evaluate_submission(
        live.index.to_series(name="id"),
        submission_frame(slot_preds.predictions),
        live_features=live,
        benchmark=benchmark_series(bench, live_data.live.version, gate_policy.benchmark_column),
        model_features=slot_preds.features,
        train_counts=(dist.names, np.asarray(dist.counts)) if set(dist.names) <= set(live.columns) else None,
        thresholds=gate_policy.thresholds(),
    )


def _predictions_metadata(ref: SlotPredictionsRef, preds, results: list, model_store: ModelStore) -> dict:
    from numerai_assets.core.live.verdict import verdict_key

    observed = {r.name: r.observed for r in results}
    return readable(
        {
            "slot": ref.slot,
            "round": ref.round_number,
            "rows": ref.rows,
            "std": float(preds.std()),
            "sha256": ref.sha256,
            "dataset_version": ref.dataset_version,
            "exposure": float(observed["max_feature_exposure"].get("exposure", np.nan)),
            "benchmark_corr": float(observed["benchmark_correlation"].get("correlation", np.nan)),
            "gates_failed": MetadataValue.json([r.name for r in results if not r.passed]),
            "verdict": model_store.uri(verdict_key(ref.csv_key)),
        }
    )
