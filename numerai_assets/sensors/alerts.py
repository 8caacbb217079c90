"""Alerts from Dagster's own hooks: a run-failure sensor (one alert per failed run) and a
run-status sensor over succeeded runs, which reads the run's check evaluations and round reports:
a failed ERROR check (the run did not fail, so no run alert said it), a slot entering the
live-below-validation warning (once per entry, not on every refresh while it stays warned), and
the round report when the round settled and when its scores resolved. The outbox behind
``NotifyResource`` keeps each event to one message however often a sensor sees it.
"""

import re
from collections.abc import Iterator, Sequence
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    SensorDefinition,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from numerai_assets.assets.scores import BAND_CHECK, ROUND_REPORT_KEY
from numerai_assets.core.alerts import Alert
from numerai_assets.core.alerts import alert as alerts
from numerai_assets.resources.notify import NotifyResource
from numerai_assets.sensors.rounds import ROUND_TAG
from numerai_assets.settings import Settings

PARTITION_TAG = "dagster/partition"
HISTORY = 50  # band-check evaluations looked back to find the one before a run's


def run_round(run: DagsterRun) -> int | None:
    """The round a run served: the round tag, else a numeric partition (the rounds partitions)."""
    value = run.tags.get(ROUND_TAG) or run.tags.get(PARTITION_TAG) or ""
    return int(value) if value.isdigit() else None


def slots_of(step_keys: Sequence[str], slots: Sequence[str]) -> list[str]:
    """Slots named in step keys (``<slot>__<slot>_submission``): slot names show in asset keys."""
    return [s for s in slots if any(s in key.split("__") for key in step_keys)]


def _innermost(error: Any) -> str:
    """A step error's own message (Dagster wraps the user's exception in its step error), its
    class unqualified; a ``dagster.Failure`` is our own words, said without its class."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    message = re.sub(r"^[\w.]+\.(\w+): ", r"\1: ", getattr(error, "message", "") or "")
    return message.removeprefix("Failure: ") if getattr(error, "cls_name", None) == "Failure" else message


def failure_reason(context: RunFailureSensorContext) -> tuple[str, list[str]]:
    """The first failed step and its error in one line, and every failed step's key."""
    steps = [e for e in context.get_step_failure_events() if e.step_key]
    if not steps:
        return context.failure_event.message or "run failed", []
    first = steps[0]
    error = getattr(first.event_specific_data, "error", None)
    return f"step {first.step_key}: {_innermost(error) or first.message}", [str(e.step_key) for e in steps]


def run_failure_alert(context: RunFailureSensorContext, slots: Sequence[str]) -> Alert:
    run = context.dagster_run
    reason, steps = failure_reason(context)
    return alerts.run_failure(run.job_name, run.run_id, reason, run_round(run), slots_of(steps, slots))


def _entered_warning(instance: DagsterInstance, key: AssetCheckKey, run_id: str) -> bool:
    """The evaluation before this run's passed, or there was none: the slot enters the warning now."""
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=HISTORY)
    done = [
        r
        for r in history
        if r.status in (AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)
    ]
    mine = next((i for i, r in enumerate(done) if r.run_id == run_id), None)
    if mine is None:
        return False
    before = done[mine + 1 : mine + 2]  # newest first: the next one is the previous evaluation
    return not before or before[0].status == AssetCheckExecutionRecordStatus.SUCCEEDED


def _meta(metadata: Any, name: str) -> Any:
    value = metadata.get(name)
    return getattr(value, "value", value)


def check_alerts(instance: DagsterInstance, run: DagsterRun, slots: Sequence[str]) -> Iterator[Alert]:
    """A succeeded run's failed ERROR checks and band checks that entered the warning."""
    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = entry.get_dagster_event().event_specific_data
        if ev is None or getattr(ev, "passed", True):
            continue
        asset = ev.asset_key.to_user_string()
        slot = next((s for s in slots if ev.asset_key.path[0] == s), None)
        reason = ev.description or "failed"
        if ev.severity == AssetCheckSeverity.ERROR:
            yield alerts.check_failed(asset, ev.check_name, run.run_id, reason, run_round(run), slot, ev.partition)
        elif ev.check_name == BAND_CHECK and slot and _entered_warning(instance, ev.asset_check_key, run.run_id):
            latest = _meta(ev.metadata, "latest_round")
            yield alerts.decay_warning(slot, int(latest) if latest else None, reason, episode=run.run_id)


def report_alerts(instance: DagsterInstance, run: DagsterRun) -> Iterator[Alert]:
    """The round reports a run materialized, once settled and once finished (the outbox dedupes)."""
    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        mat = entry.asset_materialization
        if mat is None or mat.asset_key != ROUND_REPORT_KEY or not (mat.partition or "").isdigit():
            continue
        text = str(_meta(mat.metadata, "report") or "")
        for stage in alerts.REPORT_STAGES:
            if _meta(mat.metadata, stage) is True:
                yield alerts.round_report(int(mat.partition or 0), stage, text)


def build_alert_sensors(settings: Settings, slots: Sequence[str]) -> list[SensorDefinition]:
    # Harmless anywhere (they only read runs): on in local mode and wherever alerts are configured.
    on = settings.mode == "local" or settings.notify_set
    status = DefaultSensorStatus.RUNNING if on else DefaultSensorStatus.STOPPED

    @run_failure_sensor(
        name="alert_run_failure_sensor",
        default_status=status,
        description="One alert per failed run (NUMERAI_ASSETS_NOTIFY): job, run id, round, slots, the step error.",
    )
    def alert_run_failure_sensor(context: RunFailureSensorContext, notify: NotifyResource):
        if not notify.enabled:
            return SkipReason("alerts off: NUMERAI_ASSETS_NOTIFY is not set")
        notify.send(run_failure_alert(context, slots), context.log)
        return None

    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS,
        name="alert_run_results_sensor",
        default_status=status,
        description="Per succeeded run: alerts for failed ERROR checks, a slot entering the live score "
        "decay warning, and the round report when settled and when finished.",
    )
    def alert_run_results_sensor(context: RunStatusSensorContext, notify: NotifyResource):
        if not notify.enabled:
            return SkipReason("alerts off: NUMERAI_ASSETS_NOTIFY is not set")
        run = context.dagster_run
        for alert in [*check_alerts(context.instance, run, slots), *report_alerts(context.instance, run)]:
            notify.send(alert, context.log)
        return None

    return [alert_run_failure_sensor, alert_run_results_sensor]
