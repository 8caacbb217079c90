"""Trained seed models and their validation predictions (model x seed partitions, group "models").

Training streams int8 batches from the train file (core.training.train); the model file and its
manifest go to the model store under a content-addressed key, and the asset value is a small
:class:`ModelRef`. Validation predictions go through ``core.training.train.predict``, the same path the
live round uses.
"""

from typing import TYPE_CHECKING, Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MultiPartitionsDefinition,
    Output,
    asset,
)
from pydantic import Field

from numerai_assets.assets.metadata import readable
from numerai_assets.core.artifacts import ModelRef, PredictionsRef
from numerai_assets.core.data.dataset import DatasetFile, FeatureSets, read_by_id
from numerai_assets.core.training.roster import ModelSpec, Roster
from numerai_assets.partitions import ModelSeed, parse_model_seed
from numerai_assets.resources.model_store import ModelStore

if TYPE_CHECKING:  # train.py imports pandas and the data readers: loaded when an asset runs
    from numerai_assets.core.training.train import TrainedModel

GROUP = "models"
# metadata naming the data bytes a seed was trained on / predicted (read by the retrain sensor)
TRAIN_SHA_FIELD, VALIDATION_SHA_FIELD = "train_sha256", "validation_sha256"


class TrainingConfig(Config):
    """Run-time knobs of a training step (model hyper-parameters live in the roster)."""

    progress_every: int = Field(default=50, description="log a progress line every N iterations")
    threads: int = Field(default=0, description="engine threads; 0 = every core of the machine")


def seed_spec(roster: Roster, pdef: MultiPartitionsDefinition, partition_key) -> tuple[ModelSpec, ModelSeed]:
    """The roster entry for a partition; a seed the model does not list is a clear failure."""
    ms = parse_model_seed(pdef, partition_key)
    spec = roster.get(ms.model)
    if ms.seed not in spec.seeds:
        raise Failure(f"seed {ms.seed} is not one of {spec.name}'s seeds {list(spec.seeds)}")
    return spec, ms


def build_model_assets(roster: Roster, pdef: MultiPartitionsDefinition) -> list[AssetsDefinition]:
    return [_trained_model_asset(roster, pdef), _validation_predictions_asset(pdef)]


def _trained_model_asset(roster: Roster, pdef: MultiPartitionsDefinition) -> AssetsDefinition:
    @asset(group_name=GROUP, partitions_def=pdef, kinds={m.engine for m in roster.models}, pool="training")
    def trained_model(
        context: AssetExecutionContext,
        config: TrainingConfig,
        train_data: DatasetFile,
        feature_sets: FeatureSets,
        model_store: ModelStore,
    ) -> Output[ModelRef]:
        """One seed of one roster model, trained on the full train file with bounded memory."""
        from numerai_assets.core.training.train import train_model

        spec, ms = seed_spec(roster, pdef, context.partition_key)
        features = spec.features(feature_sets)
        trained = train_model(
            spec,
            ms.seed,
            train_data,
            features,
            model_store.workdir(f"train/{spec.name}/{ms.seed}"),
            log=context.log.info,
            progress_every=config.progress_every,
            dataset_version=train_data.version,
            threads=config.threads or None,
        )
        ref, uri = _store_model(model_store, spec, ms.seed, trained)
        metadata = _training_metadata(trained.manifest, len(features), uri)
        # what the retrain sensor compares with the current train file (core.training.staleness)
        metadata[TRAIN_SHA_FIELD] = train_data.sha256
        return Output(ref, metadata=metadata)

    return trained_model


def _store_model(model_store: ModelStore, spec: ModelSpec, seed: int, trained: "TrainedModel") -> tuple[ModelRef, str]:
    """Model file and manifest under a content-addressed folder; the ref and the manifest's uri."""
    manifest = trained.manifest
    folder = f"models/{spec.name}/seed{seed}/{manifest['model_sha256'][:16]}"
    model_key = f"{folder}/{trained.model_path.name}"
    manifest_key = f"{folder}/{trained.manifest_path.name}"
    model_store.put_file(trained.model_path, model_key)
    uri = model_store.put_file(trained.manifest_path, manifest_key)
    ref = ModelRef(
        spec.name,
        seed,
        spec.engine,
        model_key,
        manifest_key,
        manifest["model_sha256"],
        manifest["features_sha256"],
        spec.target,
    )
    return ref, uri


def _training_metadata(manifest: dict[str, Any], n_features: int, uri: str) -> dict[str, Any]:
    training = manifest["training"]
    return readable(
        {
            "model_sha256": manifest["model_sha256"],
            "features": n_features,
            "manifest": uri,
            "rows": training["rows"],
            "eras": training["eras_count"],
            "rounds": training["rounds"],
            "train_seconds": training["train_seconds"],
            "build_seconds": training["build_seconds"],
            "peak_rss_gb": (training["peak_rss_bytes"] or 0) / 2**30,
            "int8_gb": training["int8_bytes"] / 2**30,
        }
    )


def _validation_predictions_asset(pdef: MultiPartitionsDefinition) -> AssetsDefinition:
    @asset(group_name=GROUP, partitions_def=pdef, kinds={"parquet"})
    def validation_predictions(
        context: AssetExecutionContext,
        trained_model: ModelRef,
        validation_data: DatasetFile,
        model_store: ModelStore,
    ) -> Output[PredictionsRef]:
        """The seed's predictions on every validation row, through the live predict path."""
        from numerai_assets.core.evaluation.evaluate import write_predictions  # numerai-tools: scipy, sklearn
        from numerai_assets.core.training.train import load_model, predict

        model_path = model_store.local_path(trained_model.model_key)
        model_store.local_path(trained_model.manifest_key)  # the manifest sits beside the model
        predictions = predict(load_model(model_path), validation_data.path)
        eras = read_by_id(validation_data.path, ["era"])["era"]
        key = (
            f"predictions/validation/{trained_model.model}/seed{trained_model.seed}/"
            f"{trained_model.model_sha256[:16]}.parquet"
        )
        with model_store.writing(key) as path:
            write_predictions(path, predictions, eras)
        uri = model_store.uri(key)
        context.log.info(f"{len(predictions):,} validation predictions -> {uri}")
        return Output(
            PredictionsRef(trained_model.model, key, len(predictions), trained_model.seed),
            metadata=readable(
                {
                    "rows": len(predictions),
                    "uri": uri,
                    "std": float(predictions.std()),
                    "dataset_version": validation_data.version,
                    VALIDATION_SHA_FIELD: validation_data.sha256,
                }
            ),
        )

    return validation_predictions
