"""Model uploads (Numerai Compute): per compute-mode slot, the proven pickle and its upload.

``<slot>/compute_pickle`` builds the pickle from the slot's verified champions (made by the
target image's Python), runs it in the image's sandbox on the latest live file and judges it with
four blocking checks; it stores the pickle and its proof under the pickle's sha256.
``<slot>/compute_upload`` uploads only a pickle whose stored proof passed, once per (slot, sha256).
Compute-mode slots have no ``live_predictions``/``submission`` assets: Numerai runs the pickle.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AllPartitionMapping,
    AssetCheckResult,
    AssetDep,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from numerai_assets.assets.live import LivePredictionConfig, _champion_model_paths
from numerai_assets.assets.metadata import readable
from numerai_assets.checks.compute import proof_check_results, proof_check_specs
from numerai_assets.core.compute.build import ComputePickleRef
from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.live.names import COMPUTE_PICKLE, COMPUTE_UPLOAD, slot_asset_path
from numerai_assets.core.training.roster import Roster, SlotConfig
from numerai_assets.resources.compute import ComputeResource
from numerai_assets.resources.model_store import ModelStore
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.store import LocalDataStore
from numerai_assets.resources.submissions import SubmissionsResource

GROUP = "compute"


def compute_key(slot: str, name: str) -> AssetKey:
    """The one place compute asset keys are spelled."""
    return AssetKey(slot_asset_path(slot, name))


def latest_live_files(store: LocalDataStore, version: str) -> tuple[int, Path, Path]:
    """The newest round whose live and live benchmark files the data store holds."""
    rounds = Path(store.root) / "rounds"
    numbers = (
        sorted((int(p.name) for p in rounds.glob("*") if p.name.isdigit()), reverse=True) if rounds.exists() else []
    )
    for number in numbers:
        live = store.round_path(number, version, "live.parquet")
        bench = store.round_path(number, version, "live_benchmark_models.parquet")
        if live.exists() and bench.exists():
            return number, live, bench
    raise Failure(
        f"no live file of {version} under {rounds}: materialize live_data for a round first "
        "(the pickle is proven on the latest live file)",
        allow_retries=False,
    )


def build_compute_assets(roster: Roster, dataset_version: str) -> list[AssetsDefinition]:
    return [
        a
        for slot, models in roster.slots_in_mode("compute").items()
        for a in _compute_assets(slot, models, roster.slot_config(slot), dataset_version)
    ]


def _compute_assets(slot: str, models: list[str], cfg: SlotConfig, default_version: str) -> list[AssetsDefinition]:
    """The slot's pickle (proven by blocking checks) and its upload."""
    version = cfg.data_version or default_version
    pickle = _pickle_asset(slot, models, version, str(cfg.docker_image))
    return [pickle, _upload_asset(slot, pickle.key)]


def _pickle_asset(slot: str, models: list[str], version: str, image: str) -> AssetsDefinition:
    pickle_key = compute_key(slot, COMPUTE_PICKLE)

    @asset(
        key=pickle_key,
        group_name=GROUP,
        kinds={"python"},
        check_specs=proof_check_specs(pickle_key),
        deps=[AssetDep("champion", partition_mapping=AllPartitionMapping())],
        description=f"Slot {slot}'s model-upload pickle from the champions of {models}, proven in {image}.",
    )
    def compute_pickle(
        context: AssetExecutionContext,
        config: LivePredictionConfig,
        feature_sets: FeatureSets,
        store: LocalDataStore,
        model_store: ModelStore,
        compute: ComputeResource,
    ) -> Iterator[Output[ComputePickleRef] | AssetCheckResult]:
        from numerai_assets.core.compute.proof import prove_pickle
        from numerai_assets.core.live.predict import predict_slot

        env = _sandbox(slot, image, compute, context.log.info)
        paths, _ = _champion_model_paths(model_store, models, version)
        neutral = feature_sets.resolve(config.neutralize_feature_set) if config.neutralize_proportion > 0 else []
        built, key = _build_and_store(slot, paths, config.neutralize_proportion, neutral, env.python, model_store)
        round_number, live, bench = latest_live_files(store, version)
        expected = predict_slot(
            paths, live, neutralize_proportion=config.neutralize_proportion, neutralize_features=neutral
        ).predictions
        workdir = model_store.workdir(f"compute-{slot}")
        proof = prove_pickle(env, model_store.local_path(key), live, bench, expected, workdir, compute.limits())
        proof_key = key.removesuffix(".pkl") + ".proof.json"
        model_store.write_json(proof_key, _proof_record(slot, built.sha256, round_number, proof))
        if not proof.passed:
            context.log.error(f"slot {slot}: pickle {built.sha256[:12]} is not uploadable: {proof.failures()}")
        ref = ComputePickleRef(slot, key, built.sha256, built.size_bytes, version, image, proof_key)
        yield Output(ref, metadata=_pickle_metadata(built, ref, round_number, proof, model_store.uri(proof_key)))
        yield from proof_check_results(proof, pickle_key)

    return compute_pickle


def _sandbox(slot: str, image: str, compute: ComputeResource, log):
    """The image's sandbox environment (built once); an unknown image or a failed build stops the step."""
    from numerai_assets.core.compute.images import UnknownImageError, image_spec
    from numerai_assets.core.compute.sandbox import SandboxError, ensure_env

    try:
        return ensure_env(compute.root(), image_spec(image), log=log)
    except (UnknownImageError, SandboxError) as exc:
        raise Failure(f"slot {slot}: sandbox for {image}: {exc}", allow_retries=False) from None


def _build_and_store(slot: str, paths, proportion: float, neutral: list[str], python: Path, model_store: ModelStore):
    """Build the pickle with the image's Python and store it under its sha256: ``(built, key)``."""
    from numerai_assets.core.compute.build import build_pickle, slot_spec

    spec = slot_spec(paths, neutralize_proportion=proportion, neutralize_features=neutral)
    with tempfile.TemporaryDirectory(prefix=f"compute-{slot}-") as tmp:
        built = build_pickle(Path(tmp) / f"{slot}.pkl", spec, python)
        key = f"compute/{slot}/{built.sha256}.pkl"
        model_store.put_file(built.path, key)
    return built, key


def _proof_record(slot: str, sha256: str, round_number: int, proof) -> dict:
    """What the upload step reads back: the pickle's sha256 and each verdict (full precision)."""
    return {
        "slot": slot,
        "sha256": sha256,
        "passed": proof.passed,
        "verdicts": {v.name: {"passed": v.passed, "reason": v.reason} for v in proof.verdicts},
        "live_round": round_number,
        **proof.metadata(),
    }


def _pickle_metadata(built, ref: ComputePickleRef, round_number: int, proof, proof_uri: str) -> dict:
    return readable(
        {
            "sha256": built.sha256,
            "size_mb": built.size_bytes / 1e6,
            "models": MetadataValue.json(built.models),
            "docker_image": ref.docker_image,
            "data_version": ref.data_version,
            "live_round": round_number,
            "proof": proof_uri,
            **{k: v for k, v in proof.metadata().items() if v is not None},
        }
    )


def _upload_asset(slot: str, pickle_key: AssetKey) -> AssetsDefinition:
    @asset(
        key=compute_key(slot, COMPUTE_UPLOAD),
        group_name=GROUP,
        ins={"pickle": AssetIn(pickle_key)},
        kinds={"numerai"},
        description=f"Slot {slot}'s proven pickle uploaded to Numerai once (ledger per sha256).",
    )
    def compute_upload(
        context: AssetExecutionContext,
        pickle: ComputePickleRef,
        numerai: NumeraiResource,
        model_store: ModelStore,
        submissions: SubmissionsResource,
    ) -> Output[dict]:
        from numerai_assets.core.compute.uploads import UploadLedger, upload_pickle

        proof = _passed_proof(slot, pickle, model_store)
        ledger_path = Path(submissions.ledger_path).with_name("compute_uploads.sqlite")
        with UploadLedger(ledger_path) as ledger:
            outcome = upload_pickle(
                numerai.get_client(logger=context.log),
                ledger,
                slot=slot,
                pickle_path=model_store.local_path(pickle.key),
                sha256=pickle.sha256,
                data_version=pickle.data_version,
                docker_image=pickle.docker_image,
                dry_run=submissions.dry_run,
                log=context.log.info,
            )
        return Output(
            {"status": outcome.status, "upload_id": outcome.upload_id, "sha256": outcome.sha256},
            metadata=readable(
                {
                    "status": outcome.status,
                    "upload_id": outcome.upload_id or "-",
                    "sha256": outcome.sha256,
                    "data_version": outcome.data_version,
                    "docker_image": outcome.docker_image,
                    "sandbox_interpreter": proof.get("sandbox_interpreter", "?"),
                    "peak_mb": proof.get("peak_mb"),
                    "seconds": proof.get("seconds"),
                }
            ),
        )

    return compute_upload


def _passed_proof(slot: str, pickle: ComputePickleRef, model_store: ModelStore) -> dict:
    """The stored proof of exactly this pickle, passed; anything else refuses the upload."""
    proof = model_store.read_json(pickle.proof_key)
    if proof is None or proof.get("sha256") != pickle.sha256 or not proof.get("passed"):
        reason = "no proof" if proof is None else f"proof passed={proof.get('passed')} for {proof.get('sha256')}"
        raise Failure(f"refusing to upload slot {slot}'s pickle {pickle.sha256[:12]}: {reason}", allow_retries=False)
    return proof
