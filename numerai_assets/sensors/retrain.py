"""Retraining that follows the data, outside the round window.

Once ``data_refresh_sensor`` (sensors/data.py) has downloaded a republished file,
``retrain_sensor`` finds the roster models whose seeds were trained on other bytes
(``core.training.staleness``) and requests ONE retraining:
a training run per (model, seed), then, once a model's runs all succeeded, its evaluation run,
where the promotion gate decides on the champion.

A sensor rather than an ``AutomationCondition``: the conditions see materializations and
partitions, not the ledger or Numerai's open round (the window rule), and cannot order a
per-model evaluation after all of that model's seed runs of one retraining nor record why it ran.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from dagster import (
    MultiPartitionKey,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from numerai_assets.core.numerai.client import NumeraiError
from numerai_assets.core.training.roster import Roster
from numerai_assets.core.training.staleness import (
    decayed_models,
    newer_versions,
    retrain_basis,
    retrain_reason,
    retrain_run_key,
    stale_models,
)
from numerai_assets.partitions import MODEL_DIM, SEED_DIM
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.policy import RetrainPolicy
from numerai_assets.resources.submissions import SubmissionsResource
from numerai_assets.sensors.cursor import read_cursor
from numerai_assets.sensors.data import default_status
from numerai_assets.sensors.retrain_inputs import (
    current_data,
    failed_band_slots,
    new_record,
    note_versions,
    record_key,
    seed_bases,
    window_now,
)
from numerai_assets.sensors.rounds import IN_FLIGHT, SENSOR_BUDGET_S
from numerai_assets.settings import Settings

RETRAIN_TAG, REASON_TAG = "numerai/retrain", "numerai/retrain_reason"
MODEL_TAG, KEY_TAG = "numerai/retrain_model", "numerai/retrain_key"
KEEP_KEYS = 500  # run keys remembered in the cursor (the instance remembers them too)


def _already_requested(context: SensorEvaluationContext, keys: Sequence[str], remembered: set[str]) -> set[str]:
    """Run keys this sensor asked for before (its cursor) or that runs in the instance carry."""
    if not keys:
        return set()
    records = context.instance.get_run_records(RunsFilter(tags={KEY_TAG: list(keys)}))
    return remembered | {r.dagster_run.tags[KEY_TAG] for r in records}


def _training_requests(
    retrain_id: str, reason: str, runs: Mapping[str, Sequence[tuple[int, str]]], job_name: str
) -> list[RunRequest]:
    return [
        RunRequest(
            run_key=key,
            job_name=job_name,
            partition_key=str(MultiPartitionKey({MODEL_DIM: model, SEED_DIM: str(seed)})),
            tags={RETRAIN_TAG: retrain_id, REASON_TAG: reason, MODEL_TAG: model, KEY_TAG: key},
        )
        for model, seeds in runs.items()
        for seed, key in seeds
    ]


def _evaluations_due(
    context: SensorEvaluationContext, model_store: ModelStore, pending: list[str], job_name: str
) -> list[RunRequest]:
    """Evaluation runs of the models whose retraining runs all succeeded; records the outcome."""
    requests = []
    for retrain_id in list(pending):
        record = model_store.read_json(record_key(retrain_id))
        if record is None:
            pending.remove(retrain_id)
            continue
        waiting = [m for m, e in record["models"].items() if "evaluation" not in e]
        for model in waiting:
            entry = record["models"][model]
            outcome = _training_outcome(context, retrain_id, model, entry["training_runs"])
            if outcome == "succeeded":
                key = f"{retrain_id}-evaluate-{model}"
                entry["evaluation"] = key
                requests.append(
                    RunRequest(
                        run_key=key,
                        job_name=job_name,
                        partition_key=model,
                        tags={RETRAIN_TAG: retrain_id, REASON_TAG: record["reason"], MODEL_TAG: model, KEY_TAG: key},
                    )
                )
            elif outcome is not None:
                entry["evaluation"] = f"not requested: {outcome}"
        if all("evaluation" in e for e in record["models"].values()):
            record["status"] = "done"  # each model: its evaluation run's key, or why none was requested
            pending.remove(retrain_id)
        if any("evaluation" in record["models"][m] for m in waiting):  # only when something changed
            model_store.write_json(record_key(retrain_id), record)
    return requests


def _training_outcome(context: SensorEvaluationContext, retrain_id: str, model: str, keys: Sequence[str]) -> str | None:
    """'succeeded' when every seed run succeeded; a failure naming the run; None while running."""
    runs = context.instance.get_run_records(RunsFilter(tags={RETRAIN_TAG: retrain_id, MODEL_TAG: model}))
    by_key: dict[str, list] = {}
    for r in runs:
        by_key.setdefault(r.dagster_run.tags.get(KEY_TAG, ""), []).append(r.dagster_run)
    for key in keys:
        statuses = {run.status.value for run in by_key.get(key, [])}
        if "SUCCESS" in statuses:
            continue
        if statuses and not statuses & {s.value for s in IN_FLIGHT}:
            failed = by_key[key][0]
            return f"training run {failed.run_id} ({key}) ended {failed.status.value}"
        return None
    return "succeeded"


def build_retrain_sensor(training_job, evaluation_job, settings: Settings, roster: Roster) -> SensorDefinition:
    interval = settings.round_poll_s if settings.mode == "local" else 3600
    submit_slots = list(roster.slots_in_mode("submit"))

    @sensor(
        name="retrain_sensor",
        jobs=[training_job, evaluation_job],
        minimum_interval_seconds=interval,
        default_status=default_status(settings),
        description="Outside the round window: retrains every seed of the roster models whose train or "
        "validation file changed (sha256), then evaluates them (the promotion gate decides); a "
        "newer listed version is recorded, not switched to; decay warnings retrain when RetrainPolicy.on_decay.",
    )
    def retrain_sensor(
        context: SensorEvaluationContext,
        numerai: NumeraiResource,
        submissions: SubmissionsResource,
        model_store: ModelStore,
        retrain_policy: RetrainPolicy,
    ):
        try:
            client = numerai.get_client(retry_budget_s=SENSOR_BUDGET_S)
            window = window_now(context.instance, client, submissions, submit_slots)
            listed = [] if window.wait else client.list_datasets()
        except NumeraiError as exc:
            return SkipReason(f"Numerai unreachable, retrying next tick: {exc}")
        state = read_cursor(context.cursor)
        if window.wait:
            return SensorResult(skip_reason=f"retraining {window.reason}", cursor=json.dumps(state))
        try:
            newer, unversioned = newer_versions(listed, numerai.dataset_version), []
            note_versions(model_store, numerai.dataset_version, newer)
        except ValueError as exc:  # a configured version that cannot be compared: said, not fatal
            newer, unversioned = [], [str(exc)]
        pending, remembered = list(state.get("pending", [])), set(state.get("requested", []))
        requests = _evaluations_due(context, model_store, pending, evaluation_job.name)
        new, notes = _new_retraining(context, roster, model_store, retrain_policy, newer, remembered, training_job.name)
        notes += unversioned
        if new:
            pending.append(new[0].tags[RETRAIN_TAG])
            requests += new
        notes += [f"retraining {r} waits for its training runs" for r in pending if not new]
        remembered |= {r.run_key for r in requests if r.run_key}
        cursor = {"pending": pending, "requested": sorted(remembered)[-KEEP_KEYS:]}
        return SensorResult(
            run_requests=requests or None,
            skip_reason=None if requests else "; ".join(notes),
            cursor=json.dumps(cursor),
        )

    return retrain_sensor


def _new_retraining(
    context: SensorEvaluationContext,
    roster: Roster,
    model_store: ModelStore,
    policy: RetrainPolicy,
    newer: Sequence[str],
    remembered: set[str],
    job_name: str,
) -> tuple[list[RunRequest], list[str]]:
    """Training runs of one retraining (every seed of each stale model not requested before)."""
    current = current_data(context.instance)
    if not current:
        return [], ["no train/validation data materialized yet: run data_job"]
    data_stale = stale_models(seed_bases(context.instance, roster, model_store), current)
    reasons = {m: list(r) for m, r in data_stale.items()}
    if policy.on_decay:
        for model, why in decayed_models(failed_band_slots(context.instance, list(roster.slots)), roster.slots).items():
            reasons.setdefault(model, []).extend(why)
    # a decay-only retraining: once per data (a warning repeated on the same data asks for nothing new)
    basis = {m: retrain_basis(current) + ("" if m in data_stale else "-decay") for m in reasons}
    versions = [f"newer version {v} listed (recorded, not switched to)" for v in newer]
    planned = {m: [(s, retrain_run_key(basis[m], m, s)) for s in roster.get(m).seeds] for m in reasons}
    done = _already_requested(context, [k for runs in planned.values() for _, k in runs], remembered)
    runs = {m: [(s, k) for s, k in seeds if k not in done] for m, seeds in planned.items()}
    runs = {m: seeds for m, seeds in runs.items() if seeds}
    if not runs:
        state = f"stale, retraining already requested: {sorted(reasons)}" if reasons else "no model is stale"
        return [], [state, *versions]
    reason = retrain_reason({m: reasons[m] for m in runs}, newer)
    retrain_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{retrain_basis(current)}"
    model_store.write_json(
        record_key(retrain_id),
        new_record(
            retrain_id,
            {m: reasons[m] for m in runs},
            {m: [k for _, k in s] for m, s in runs.items()},
            reason=reason,
            newer_versions=list(newer),
        ),
    )
    context.log.info(f"retraining {retrain_id}: {reason}")
    return _training_requests(retrain_id, reason, runs, job_name), []
