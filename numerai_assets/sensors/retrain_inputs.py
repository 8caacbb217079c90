"""What the retrain sensor reads: the current data's sha256, what each seed was trained on, decay
warnings, the round window, and the retraining records kept in the model store.

The decisions themselves are pure (``core.training.staleness``); this module only gathers their
inputs from the Dagster instance, the ledger and the model store.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dagster import AssetCheckKey, AssetKey, AssetRecordsFilter, DagsterInstance, MultiPartitionKey

from numerai_assets.assets.scores import BAND_CHECK, monitoring_key
from numerai_assets.assets.training import TRAIN_SHA_FIELD, VALIDATION_SHA_FIELD
from numerai_assets.core.artifacts import ChampionRecord
from numerai_assets.core.data.files import DATASET_FILES
from numerai_assets.core.numerai.client import NumeraiClient
from numerai_assets.core.training.roster import Roster
from numerai_assets.core.training.staleness import SeedBasis, WindowDecision, round_window
from numerai_assets.partitions import MODEL_DIM, SEED_DIM
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.submissions import SubmissionsResource
from numerai_assets.sensors.rounds import round_runs, unconfirmed_slots

TRAIN, VALIDATION = "train_data", "validation_data"  # the files a model is built and judged on
RECORDS = "retraining"  # model store folder of retraining records
VERSIONS_KEY = f"{RECORDS}/dataset_versions.json"


def _filename(asset: str) -> str:
    return next(spec.filename for spec in DATASET_FILES if spec.asset == asset)


def window_now(
    instance: DagsterInstance, client: NumeraiClient, submissions: SubmissionsResource, slots: Sequence[str]
) -> WindowDecision:
    """The round window now: the open round, its unconfirmed submit slots, its run in flight."""
    current = client.current_round()
    if current is None:
        return round_window(None, [], False)
    return round_window(
        current.number,
        unconfirmed_slots(submissions, current.number, slots),
        round_runs(instance, current.number)["in_flight"],
    )


def current_data(instance: DagsterInstance) -> dict[str, str]:
    """sha256 of the train and validation files the data store holds now (latest materializations)."""
    events = instance.get_latest_materialization_events([AssetKey(TRAIN), AssetKey(VALIDATION)])
    out = {}
    for key, event in events.items():
        mat = event.asset_materialization if event else None
        if mat is not None and "sha256" in mat.metadata:
            out[key.path[-1]] = str(mat.metadata["sha256"].value)
    return out


def _latest_field(instance: DagsterInstance, asset: str, partition: str, field: str) -> str | None:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    mat = records[0].asset_materialization if records else None
    value = mat.metadata.get(field) if mat is not None else None
    return None if value is None else str(value.value)


def _champion_train_shas(model_store: ModelStore, model: str) -> dict[int, str]:
    """Seed -> the train file sha256 its champion manifest records (none without a champion)."""
    record = model_store.read_json(ChampionRecord.key(model))
    out = {}
    for seed in (record or {}).get("seeds", []):
        manifest = model_store.read_json(seed["manifest_key"]) or {}
        sha = manifest.get("dataset", {}).get("sha256", {}).get(_filename(TRAIN))
        if sha:
            out[int(seed["seed"])] = sha
    return out


def seed_bases(instance: DagsterInstance, roster: Roster, model_store: ModelStore) -> list[SeedBasis]:
    """Each roster (model, seed): the train sha256 of its champion's seed (else its latest training)
    and the validation sha256 its latest validation predictions were made on."""
    bases = []
    for spec in roster.models:
        champion = _champion_train_shas(model_store, spec.name)
        for seed in spec.seeds:
            partition = str(MultiPartitionKey({MODEL_DIM: spec.name, SEED_DIM: str(seed)}))
            train = champion.get(seed) or _latest_field(instance, "trained_model", partition, TRAIN_SHA_FIELD)
            validation = _latest_field(instance, "validation_predictions", partition, VALIDATION_SHA_FIELD)
            trained_on = {k: v for k, v in ((TRAIN, train), (VALIDATION, validation)) if v}
            bases.append(SeedBasis(spec.name, seed, trained_on))
    return bases


def failed_band_slots(instance: DagsterInstance, slots: Sequence[str]) -> list[str]:
    """The slots whose latest band check evaluation failed (a decay warning)."""
    out = []
    for slot in slots:
        record = instance.get_latest_asset_check_evaluation_record(AssetCheckKey(monitoring_key(slot), BAND_CHECK))
        if record is not None and record.status.value == "FAILED":
            out.append(slot)
    return out


def record_key(retrain_id: str) -> str:
    return f"{RECORDS}/{retrain_id}.json"


def new_record(retrain_id: str, reasons: Mapping[str, Sequence[str]], runs: Mapping[str, Sequence[str]], **extra: Any):
    """The model store's account of one retraining: why, which runs, when."""
    return {
        "id": retrain_id,
        "requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "reasons": {m: list(r) for m, r in reasons.items()},
        "models": {m: {"training_runs": list(keys)} for m, keys in runs.items()},
        "status": "training",
        **extra,
    }


def note_versions(model_store: ModelStore, configured: str, newer: Sequence[str]) -> None:
    """Record newer listed versions once (when the set changes); never switch to them."""
    known = model_store.read_json(VERSIONS_KEY) or {}
    if known.get("newer") != list(newer) or known.get("configured") != configured:
        model_store.write_json(
            VERSIONS_KEY,
            {
                "configured": configured,
                "newer": list(newer),
                "seen_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
