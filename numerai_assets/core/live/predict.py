"""Live predictions for one slot: champions' seeds -> per-model ensemble -> slot ensemble.

The same ``training.predict`` reads the live file that reads validation, and the same
``postprocess.ensemble`` ranks per era and averages, so a row gets the same prediction through
either path (tested). Submissions are written as Numerai's CSV (id, prediction) atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from numerai_assets.core.atomic import write_bytes_atomic
from numerai_assets.core.data.dataset import read_by_id
from numerai_assets.core.evaluation import postprocess


@dataclass(frozen=True)
class SlotPredictions:
    predictions: pd.Series  # index id, values in (0, 1)
    per_model: dict[str, pd.Series]
    features: dict[str, list[str]]  # model -> the features its seeds were trained on


def predict_slot(
    models: Mapping[str, Sequence[Path]],
    live_path: str | Path,
    *,
    neutralize_proportion: float = 0.0,
    neutralize_features: Sequence[str] = (),
) -> SlotPredictions:
    """``models`` maps each model of the slot to its seeds' model files (manifests beside them)."""
    from numerai_assets.core.training.train import load_model, predict

    eras = read_by_id(live_path, ["era"])["era"]
    per_model, features = {}, {}
    for model, paths in models.items():
        if not paths:
            raise ValueError(f"model {model} has no champion seeds")
        predictors = [load_model(p) for p in paths]
        seeds = pd.DataFrame({f"seed{i}": predict(p, live_path) for i, p in enumerate(predictors)})
        per_model[model] = postprocess.ensemble(seeds, eras)
        features[model] = predictors[0].features
    slot = (
        next(iter(per_model.values())) if len(per_model) == 1 else postprocess.ensemble(pd.DataFrame(per_model), eras)
    )
    if neutralize_proportion > 0:
        feats = read_by_id(live_path, list(neutralize_features)).reindex(slot.index)
        slot = postprocess.neutralize(slot, feats, neutralize_proportion, eras)
    return SlotPredictions(slot.rename("prediction"), per_model, features)


class ChampionError(ValueError):
    """A champion that must not be used live; the message names the record or file."""


def verify_champion(
    model: str,
    record: Mapping,
    source: str,
    local_path: Callable[[str], Path],
    dataset_version: str,
) -> list[Path]:
    """The champion's seed model files, each proven to be the one its record and manifest name.

    A model file or manifest swapped in under the champion (valid files of another model) is
    refused: every file's sha256 must equal both the record's and its manifest's ``model_sha256``.
    """
    try:
        seeds = record["seeds"]
        if not isinstance(seeds, list) or not seeds:
            raise ChampionError(f"champion record {source}: 'seeds' must be a non-empty list")
        _same_version(f"champion record {source}", record.get("dataset_version"), dataset_version)
        return [_verify_seed(model, seed, source, local_path) for seed in seeds]
    except KeyError as exc:
        raise ChampionError(f"champion record {source} lacks key {exc}: re-run evaluation_job for {model}") from None
    except TypeError as exc:
        raise ChampionError(f"champion record {source} is malformed: {exc}") from None


def _verify_seed(model: str, seed: Mapping, source: str, local_path: Callable[[str], Path]) -> Path:
    from numerai_assets.core.training.manifest import file_sha256, manifest_path_for

    model_path, manifest_path = local_path(seed["model_key"]), local_path(seed["manifest_key"])
    if Path(manifest_path_for(model_path)) != Path(manifest_path):
        raise ChampionError(
            f"champion record {source}: manifest {manifest_path} is not the one beside {model_path} that loading reads"
        )
    try:
        manifest = json.loads(Path(manifest_path).read_text())
        listed = manifest["model_sha256"]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ChampionError(f"manifest {manifest_path} is not valid JSON ({exc})") from None
    except (KeyError, TypeError) as exc:
        raise ChampionError(f"manifest {manifest_path} lacks key {exc}") from None
    actual, recorded = file_sha256(model_path), seed["model_sha256"]
    if not actual == recorded == listed:
        raise ChampionError(
            f"champion {model}: model file {model_path} has sha256 {actual[:12]}, the champion record "
            f"{source} says {str(recorded)[:12]} and its manifest {manifest_path} says {str(listed)[:12]}:"
            " the file was replaced; refusing to predict with it (re-run evaluation_job)"
        )
    return Path(model_path)


def _same_version(where: str, trained_on: str | None, configured: str) -> None:
    if trained_on is not None and trained_on != configured:
        raise ChampionError(
            f"{where}: trained on dataset {trained_on}, but the configured dataset "
            f"version is {configured}: retrain the roster on {configured}"
        )


def submission_frame(predictions: pd.Series) -> pd.DataFrame:
    """Numerai's submission layout: ``id`` as a column (numerapi drops an id index silently)."""
    return pd.DataFrame({"id": predictions.index.to_numpy(), "prediction": predictions.to_numpy()})


def write_submission_csv(path: str | Path, predictions: pd.Series) -> str:
    """Write ``id,prediction`` atomically; returns the file's sha256 (the ledger's identity)."""
    buffer = io.StringIO()
    submission_frame(predictions).to_csv(buffer, index=False)
    data = buffer.getvalue().encode()
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()
