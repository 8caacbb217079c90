"""The round-open sensor: starts each round's run once, retries it until every slot is confirmed.

A round counts as handled only when every slot has a confirmed submission in the ledger. While
the round still accepts ours, a round with an unconfirmed slot and no run in flight gets a retry
run for those slots (bounded, with backoff); a round that ends with an unconfirmed slot is
reported as MISSED (a warning naming round and slots), once, and sent as one alert.
"""

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from dagster import (
    MAX_RUNTIME_SECONDS_TAG,
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from numerai_assets.core.alerts import alert as alerts
from numerai_assets.core.live.names import ROUND_STAGES, slot_asset_path
from numerai_assets.core.live.rounds import FollowUp, decide, follow_up
from numerai_assets.core.numerai.client import NumeraiError
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.notify import NotifyResource
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.submissions import SubmissionsResource
from numerai_assets.sensors.cursor import read_cursor
from numerai_assets.settings import Settings

# A tick must finish well inside Dagster's sensor timeout (60 s): bound Numerai calls tighter.
SENSOR_BUDGET_S = 20.0
MAX_RETRIES = 3
RETRY_BACKOFF_S = 60.0  # after the last run of the round ended: 60 s, 120 s, 240 s
ROUND_TAG, LATE_TAG, RETRY_TAG = "numerai/round", "numerai/late", "numerai/retry"
# A round run whose worker died (kill -9) stays STARTED forever with the default run launcher,
# which cannot check worker health; Dagster's run monitoring (on in dagster.yaml.template) fails a
# run past its dagster/max_runtime, and the retry path above then sees the round unconfirmed.
ROUND_RUN_MAX_RUNTIME_S = 3600
IN_FLIGHT = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


def round_tags(round_number: int, late: bool) -> dict[str, str]:
    return {
        ROUND_TAG: str(round_number),
        LATE_TAG: str(late).lower(),
        MAX_RUNTIME_SECONDS_TAG: str(ROUND_RUN_MAX_RUNTIME_S),
    }


def round_runs(instance, number: int) -> dict:
    """Whether a run of the round is in flight, how many retries ran, seconds since the last ended."""
    records = instance.get_run_records(RunsFilter(tags={ROUND_TAG: str(number)}))
    ends = [r.end_time or r.update_timestamp.timestamp() for r in records]
    return {
        "in_flight": any(r.dagster_run.status in IN_FLIGHT for r in records),
        "retries_done": sum(RETRY_TAG in r.dagster_run.tags for r in records),
        "since_last_s": time.time() - max(ends) if ends else None,
    }


def unconfirmed_slots(submissions: SubmissionsResource, number: int, slots: Sequence[str]) -> list[str]:
    with submissions.ledger() as ledger:
        return [s for s in slots if ledger.confirmed(number, s, dry_run=submissions.dry_run) is None]


def retry_request(number: int, late: bool, follow: FollowUp) -> RunRequest:
    """A run of only the unconfirmed slots' assets (and the live data they read)."""
    keys = [AssetKey("live_data")] + [AssetKey(slot_asset_path(s, a)) for s in follow.slots for a in ROUND_STAGES]
    return RunRequest(
        run_key=f"round-{number}-retry-{follow.attempt}",
        partition_key=str(number),
        tags=round_tags(number, late) | {RETRY_TAG: str(follow.attempt)},
        asset_selection=keys,
    )


def _settled(cursor: str | None) -> set[int]:
    """Rounds whose outcome was already reported (the cursor; an older plain cursor means none)."""
    return set(read_cursor(cursor).get("settled", []))


def _report_missed(
    context: SensorEvaluationContext, notify: NotifyResource, number: int, slots: Sequence[str], reason: str
) -> None:
    """The warning in the tick's log and one alert for the round (the outbox keeps it to one)."""
    context.log.warning(reason)
    notify.send(alerts.missed_round(number, slots, reason), context.log)


def _settle_ended(
    context: SensorEvaluationContext,
    submissions: SubmissionsResource,
    notify: NotifyResource,
    number: int,
    slots: Sequence[str],
    settled: set[int],
) -> list[str]:
    """Once a round has ended and its last run is over: a warning per unconfirmed slot, once."""
    if round_runs(context.instance, number)["in_flight"]:
        return []
    settled.add(number)
    left = unconfirmed_slots(submissions, number, slots)
    if not left:
        return []
    reason = f"round {number} MISSED for slots {left}: it closed without a confirmed submission"
    _report_missed(context, notify, number, left, reason)
    return [reason]


def build_round_open_sensor(job, settings: Settings, slots: Sequence[str]) -> SensorDefinition:
    # RUNNING on the embedded default; against real Numerai a person switches it on.
    status = DefaultSensorStatus.RUNNING if settings.mode == "local" else DefaultSensorStatus.STOPPED

    @sensor(
        name="round_open_sensor",
        job=job,
        minimum_interval_seconds=settings.round_poll_s,
        default_status=status,
        description=(
            "Polls Numerai for an open round; adds it to the `rounds` partitions and requests its "
            f"run (run key per round), then up to {MAX_RETRIES} retry runs for slots not confirmed "
            f"in the ledger; a round ending unconfirmed is reported MISSED. After staking close: "
            f"{settings.late_policy}."
        ),
    )
    def round_open_sensor(
        context: SensorEvaluationContext,
        numerai: NumeraiResource,
        submissions: SubmissionsResource,
        notify: NotifyResource,
    ):
        try:
            current = numerai.get_client(retry_budget_s=SENSOR_BUDGET_S).current_round()
        except NumeraiError as exc:  # reported on this tick; the next tick tries again
            return SkipReason(f"Numerai unreachable, retrying next tick: {exc}")
        requested = {int(k) for k in context.instance.get_dynamic_partitions(rounds_partitions.name) if k.isdigit()}
        now, settled = datetime.now(UTC), _settled(context.cursor)
        decision = decide(current, requested, now, settings.late_policy)
        late = bool(current and now >= current.close_staking_time)
        requests, partitions, notes = [], [], [decision.reason]
        if decision.run:
            key = str(decision.round_number)
            context.log.info(decision.reason)
            requests.append(
                RunRequest(
                    run_key=f"round-{key}", partition_key=key, tags=round_tags(decision.round_number, decision.late)
                )
            )
            partitions.append(rounds_partitions.build_add_request([key]))
        elif current is not None and current.number in requested and current.number not in settled:
            follow = follow_up(
                current.number,
                unconfirmed=unconfirmed_slots(submissions, current.number, slots),
                can_submit=not late or settings.late_policy == "submit",
                max_retries=MAX_RETRIES,
                backoff_s=RETRY_BACKOFF_S,
                **round_runs(context.instance, current.number),
            )
            notes = [follow.reason]
            if follow.action == "retry":
                context.log.info(follow.reason)
                requests.append(retry_request(current.number, late, follow))
            elif follow.action == "missed":
                _report_missed(context, notify, current.number, follow.slots, follow.reason)
                settled.add(current.number)
        ended = max((n for n in requested if current is None or n < current.number), default=None)
        if ended is not None and ended not in settled:
            notes.extend(_settle_ended(context, submissions, notify, ended, slots, settled))
        return SensorResult(
            run_requests=requests or None,
            dynamic_partitions_requests=partitions or None,
            skip_reason=None if requests else "; ".join(notes),
            cursor=json.dumps({"settled": sorted(settled)[-50:]}),
        )

    return round_open_sensor
