"""The data refresh sensor: notices a dataset file Numerai republished, outside the round window.

Numerai republishes files under the same name, often at the same size, so only the ETag tells.
Each tick asks, per file of the configured version, whether the local copy is still the served
one (a conditional GET whose body is never read) and requests ``data_job`` only when one is not;
a server that sends no ETag gets one ``data_job`` a day. ``data_job`` then downloads the new
bytes and records their sha256, which the retrain sensor compares with what models trained on.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from numerai_assets.core.data.files import DATASET_FILES
from numerai_assets.core.numerai.client import NumeraiClient, NumeraiError
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.store import LocalDataStore
from numerai_assets.resources.submissions import SubmissionsResource
from numerai_assets.sensors.retrain_inputs import window_now
from numerai_assets.sensors.rounds import IN_FLIGHT, SENSOR_BUDGET_S
from numerai_assets.settings import Settings

DAILY_S = 24 * 3600
REMOTE_INTERVAL_S = 3600  # against Numerai: a check is two small requests per file
REFRESH_TAG = "numerai/data_refresh"


def default_status(settings: Settings) -> DefaultSensorStatus:
    """RUNNING on the embedded default; against real Numerai a person switches it on."""
    return DefaultSensorStatus.RUNNING if settings.mode == "local" else DefaultSensorStatus.STOPPED


def stale_files(client: NumeraiClient, numerai: NumeraiResource, store: LocalDataStore) -> tuple[list[str], list[str]]:
    """(files whose local copy is not the served one or missing, files only a download can tell)."""
    changed, unknown = [], []
    for spec in DATASET_FILES:
        dest = store.dataset_path(numerai.dataset_version, spec.filename)
        current = client.is_current(numerai.remote_name(spec.filename), dest)
        if current is False:
            changed.append(spec.filename)
        elif current is None:
            unknown.append(spec.filename)
    return changed, unknown


def build_data_refresh_sensor(data_job, settings: Settings, slots: Sequence[str]) -> SensorDefinition:
    interval = settings.round_poll_s if settings.mode == "local" else REMOTE_INTERVAL_S

    @sensor(
        name="data_refresh_sensor",
        job=data_job,
        minimum_interval_seconds=interval,
        default_status=default_status(settings),
        description=f"Every {interval} s outside the round window: checks each dataset file's ETag and "
        "requests data_job when one was republished (same name, new content), so its sha256 is recorded.",
    )
    def data_refresh_sensor(
        context: SensorEvaluationContext,
        numerai: NumeraiResource,
        submissions: SubmissionsResource,
        store: LocalDataStore,
    ):
        if context.instance.get_run_records(RunsFilter(job_name=data_job.name, statuses=IN_FLIGHT), limit=1):
            return SkipReason("a data_job run is in flight")
        try:
            client = numerai.get_client(retry_budget_s=SENSOR_BUDGET_S)
            window = window_now(context.instance, client, submissions, slots)
            if window.wait:
                return SkipReason(f"data refresh {window.reason}")
            changed, unknown = stale_files(client, numerai, store)
        except NumeraiError as exc:
            return SkipReason(f"Numerai unreachable, retrying next tick: {exc}")
        now = datetime.now(UTC).timestamp()
        if changed:
            reason = f"{numerai.dataset_version} files changed on the server: {changed}"
            return RunRequest(run_key=f"data-refresh-{int(now // interval)}", tags={REFRESH_TAG: reason})
        if unknown:  # no ETag to compare: a daily download tells
            reason = f"{numerai.dataset_version} files without an ETag: {unknown} (daily refresh)"
            return RunRequest(run_key=f"data-refresh-day-{int(now // DAILY_S)}", tags={REFRESH_TAG: reason})
        return SkipReason(f"every {numerai.dataset_version} file is current ({window.reason})")

    return data_refresh_sensor
