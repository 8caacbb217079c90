"""The live-scores sensor: refreshes only the rounds whose scores changed.

Each tick asks Numerai for the slot models (one call) and each slot's scores of the last
``LAST_N_ROUNDS`` rounds (one call per slot), fingerprints every round's rows and compares with
the cursor; a round that changed gets a run of the changed slots' ``live_scores`` and the round
report (run key per fingerprint), a round never seen as a partition is added (scores of a
submission made elsewhere are recorded too), and the changed slots' monitoring is refreshed.
"""

import json
from collections.abc import Mapping, Sequence

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from numerai_assets.assets.scores import ROUND_REPORT_KEY, live_scores_key, monitoring_key
from numerai_assets.core.numerai.client import NumeraiError
from numerai_assets.core.scores.live import digest, rounds_of
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.sensors.cursor import read_cursor
from numerai_assets.sensors.rounds import SENSOR_BUDGET_S
from numerai_assets.settings import Settings

LAST_N_ROUNDS = 30  # scores keep changing for ~a month: about 25 rounds overlap
REMOTE_INTERVAL_S = 3600  # against real Numerai: hourly is plenty for daily scores


def changed_rounds(
    seen: Mapping[str, Mapping[str, str]], fetched: Mapping[str, Mapping[int, str]]
) -> dict[int, list[str]]:
    """Round -> slots whose fingerprint differs from the cursor's (new rounds included)."""
    out: dict[int, list[str]] = {}
    for slot, rounds in fetched.items():
        for number, fp in rounds.items():
            if seen.get(slot, {}).get(str(number)) != fp:
                out.setdefault(number, []).append(slot)
    return dict(sorted(out.items()))


def build_live_scores_sensor(scores_job, monitoring_job, settings: Settings, slots: Sequence[str]) -> SensorDefinition:
    status = DefaultSensorStatus.RUNNING if settings.mode == "local" else DefaultSensorStatus.STOPPED
    interval = settings.round_poll_s if settings.mode == "local" else REMOTE_INTERVAL_S

    @sensor(
        name="live_scores_sensor",
        jobs=[scores_job, monitoring_job],
        minimum_interval_seconds=interval,
        default_status=status,
        description=f"Polls each slot's scores of the last {LAST_N_ROUNDS} rounds (one call per slot) and "
        "refreshes only the rounds whose scores changed, then the slots' monitoring.",
    )
    def live_scores_sensor(context: SensorEvaluationContext, numerai: NumeraiResource):
        try:
            client = numerai.get_client(retry_budget_s=SENSOR_BUDGET_S)
            models = client.models()
            fetched = {
                slot: {
                    n: digest(rows)
                    for n, rows in rounds_of(
                        client.submission_scores(models[slot], last_n_rounds=LAST_N_ROUNDS)
                    ).items()
                }  # fmt: skip
                for slot in slots
                if slot in models
            }
        except NumeraiError as exc:
            return SkipReason(f"Numerai unreachable, retrying next tick: {exc}")
        seen = read_cursor(context.cursor)
        changed = changed_rounds(seen, fetched)
        known = set(context.instance.get_dynamic_partitions(rounds_partitions.name))
        new = [str(n) for n in changed if str(n) not in known]
        requests = [
            RunRequest(
                run_key=f"scores-{n}-" + "-".join(f"{s}:{fetched[s][n]}" for s in changed_slots),
                partition_key=str(n),
                job_name=scores_job.name,
                asset_selection=[live_scores_key(s) for s in changed_slots] + [ROUND_REPORT_KEY],
            )
            for n, changed_slots in changed.items()
        ]
        touched = sorted({s for ss in changed.values() for s in ss})
        if touched:
            requests.append(
                RunRequest(
                    run_key="monitoring-" + "-".join(f"{n}:{'+'.join(ss)}" for n, ss in changed.items()),
                    job_name=monitoring_job.name,
                    asset_selection=[monitoring_key(s) for s in touched],
                )
            )
        cursor = {s: {str(n): fp for n, fp in sorted(r.items())[-LAST_N_ROUNDS:]} for s, r in fetched.items()}
        missing = sorted(set(slots) - set(models))
        note = f"; slots without a Numerai model: {missing}" if missing else ""
        return SensorResult(
            run_requests=requests or None,
            dynamic_partitions_requests=[rounds_partitions.build_add_request(new)] if new else None,
            skip_reason=None if requests else f"no round's scores changed{note}",
            cursor=json.dumps(cursor),
        )

    return live_scores_sensor
