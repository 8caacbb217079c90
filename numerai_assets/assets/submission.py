"""Each slot's submission asset: uploads only a file its own gate verdict clears, exactly once.

Split from ``live.py`` (the predictions side); ``live.slot_key`` names both assets of a slot.
"""

import hashlib
import sqlite3
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    Backoff,
    Failure,
    Output,
    RetryPolicy,
    asset,
)

from numerai_assets.assets.metadata import readable
from numerai_assets.core.artifacts import SlotPredictionsRef, SubmissionOutcome
from numerai_assets.core.numerai.client import NumeraiUnavailableError, UploadRejectedError
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.submissions import SubmissionsResource

REPLAY_TAG = "numerai/replay"  # "true" on a run that replays a past round on purpose
# Transient upload failures (5xx bursts, a refused presigned PUT) are retried within the run,
# bounded; anything else (a gate verdict's refusal, an unknown slot) fails for good at once.
SUBMISSION_RETRY = RetryPolicy(max_retries=3, delay=10, backoff=Backoff.EXPONENTIAL)
TRANSIENT_ERRORS = (
    NumeraiUnavailableError,
    UploadRejectedError,
    ConnectionError,
    TimeoutError,
    sqlite3.OperationalError,
)


def _is_replay(context: AssetExecutionContext) -> bool:
    """An explicit replay of a past round (run tag), the only way a closed round is not a failure."""
    return context.run.tags.get(REPLAY_TAG, "").lower() == "true"


def _cleared_csv(model_store: ModelStore, predictions: SlotPredictionsRef) -> Path:
    """The CSV to upload, only if its own gate verdict clears it; else a final Failure."""
    from numerai_assets.core.live.verdict import refusal, verdict_key

    key = verdict_key(predictions.csv_key)
    try:
        csv_path = model_store.local_path(predictions.csv_key)
        sha256 = hashlib.sha256(csv_path.read_bytes()).hexdigest()
        verdict = model_store.read_json(key)
    except (ValueError, FileNotFoundError) as exc:
        raise Failure(
            f"refusing to submit slot {predictions.slot} round {predictions.round_number}: {exc}", allow_retries=False
        ) from None
    reason = refusal(
        verdict,
        source=model_store.uri(key),
        sha256=sha256,
        round_number=predictions.round_number,
        slot=predictions.slot,
    )
    if reason is None and sha256 != predictions.sha256:
        reason = f"{csv_path} changed since its gates ran"
    if reason is not None:
        raise Failure(
            f"refusing to submit {csv_path}: {reason}",
            allow_retries=False,
            metadata={"slot": predictions.slot, "round": predictions.round_number},
        )
    return csv_path


def submission_asset(slot: str, key: AssetKey, predictions_key: AssetKey, group: str) -> AssetsDefinition:
    """``key``: the slot's submission for a round, reading the predictions asset ``predictions_key``."""

    @asset(
        key=key,
        group_name=group,
        partitions_def=rounds_partitions,
        ins={"predictions": AssetIn(predictions_key)},
        kinds={"numerai"},
        retry_policy=SUBMISSION_RETRY,
        description=f"Slot {slot}'s submission for the round: idempotent, verified, in the ledger.",
    )
    def submission(
        context: AssetExecutionContext,
        predictions: SlotPredictionsRef,
        numerai: NumeraiResource,
        model_store: ModelStore,
        submissions: SubmissionsResource,
    ) -> Output[SubmissionOutcome]:
        csv_path = _cleared_csv(model_store, predictions)
        outcome = _submit(context, predictions, csv_path, numerai, submissions)
        context.log.info(f"{slot} round {outcome.round_number}: {outcome.status}: {outcome.reason}")
        return Output(outcome, metadata=_submission_metadata(outcome, predictions))

    return submission


def _submit(
    context: AssetExecutionContext,
    predictions: SlotPredictionsRef,
    csv_path: Path,
    numerai: NumeraiResource,
    submissions: SubmissionsResource,
) -> SubmissionOutcome:
    """Exactly-once upload under the ledger's claim; transient errors are left to the retry policy."""
    from numerai_assets.core.live.submitting import submit_slot

    slot, round_number = predictions.slot, predictions.round_number
    try:
        with submissions.ledger() as ledger:
            return submit_slot(
                numerai.get_client(logger=context.log),
                ledger,
                slot=slot,
                round_number=round_number,
                csv_path=csv_path,
                sha256=predictions.sha256,
                dry_run=submissions.dry_run,
                late_policy=submissions.late_policy,
                allow_resubmit=submissions.allow_resubmit,
                log=context.log.info,
                replay=_is_replay(context),
                timing=submissions.timing(),
            )
    except TRANSIENT_ERRORS:
        raise  # SUBMISSION_RETRY: the ledger makes the retry verify before uploading again
    except Exception as exc:
        raise Failure(f"{slot} round {round_number}: {type(exc).__name__}: {exc}", allow_retries=False) from exc


def _submission_metadata(outcome: SubmissionOutcome, predictions: SlotPredictionsRef) -> dict:
    return readable(
        {
            "slot": outcome.slot,
            "round": outcome.round_number,
            "status": outcome.status,
            "reason": outcome.reason,
            "late": outcome.late,
            "submission_id": outcome.submission_id or "-",
            "sha256": outcome.sha256,
            "rows": predictions.rows,
            "dataset_version": predictions.dataset_version or "-",
        }
    )
