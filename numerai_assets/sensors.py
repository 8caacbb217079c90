"""The round-open sensor: notices a new round and starts that round's run, once."""
from datetime import datetime, timezone

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from numerai_assets.core.numerai_client import NumeraiError
from numerai_assets.core.rounds import decide
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.settings import Settings

# A tick must finish well inside Dagster's sensor timeout (60 s): bound Numerai calls tighter.
SENSOR_BUDGET_S = 20.0


def round_tags(round_number: int, late: bool) -> dict[str, str]:
    return {"numerai/round": str(round_number), "numerai/late": str(late).lower()}


def build_round_open_sensor(job, settings: Settings) -> SensorDefinition:
    # RUNNING on the embedded default; against real Numerai a person switches it on.
    status = DefaultSensorStatus.RUNNING if settings.mode == "local" else DefaultSensorStatus.STOPPED

    @sensor(
        name="round_open_sensor",
        job=job,
        minimum_interval_seconds=settings.round_poll_s,
        default_status=status,
        description=(
            "Polls Numerai for an open round; adds it to the `rounds` partitions and requests its "
            f"run once (run key per round). After staking close: {settings.late_policy}."
        ),
    )
    def round_open_sensor(context: SensorEvaluationContext, numerai: NumeraiResource):
        try:
            current = numerai.get_client(retry_budget_s=SENSOR_BUDGET_S).current_round()
        except NumeraiError as exc:  # reported on this tick; the next tick tries again
            return SkipReason(f"Numerai unreachable, retrying next tick: {exc}")
        handled = {
            int(k) for k in context.instance.get_dynamic_partitions(rounds_partitions.name) if k.isdigit()
        }
        decision = decide(current, handled, datetime.now(timezone.utc), settings.late_policy)
        if not decision.run:
            return SkipReason(decision.reason)
        key = str(decision.round_number)
        context.log.info(decision.reason)
        return SensorResult(
            run_requests=[
                RunRequest(run_key=f"round-{key}", partition_key=key,
                           tags=round_tags(decision.round_number, decision.late))
            ],
            dynamic_partitions_requests=[rounds_partitions.build_add_request([key])],
            cursor=key,
        )

    return round_open_sensor
