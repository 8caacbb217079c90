"""The manifest written beside every model file: what exactly the model was trained on, and by what.

A prediction months later must be traceable to the dataset bytes, feature list, parameters,
library versions and code revision that produced it; the manifest also tells :func:`load_model`
which engine reads the file and lets it check the file is the one that was trained.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from numerai_assets.core.atomic import write_bytes_atomic
from numerai_assets.core.training import engines

MANIFEST_SCHEMA = 1
MANIFEST_SUFFIX = ".manifest.json"
MODEL_SUFFIXES = {name: e.suffix for name, e in engines.REGISTRY.items()}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def features_sha256(features: Sequence[str]) -> str:
    """Hash of the ordered feature list: column order is part of what a model expects."""
    return hashlib.sha256("\n".join(features).encode()).hexdigest()


def file_sha256(path: str | Path, chunk: int = 8 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def git_sha() -> str | None:
    """HEAD of the checkout this package runs from; None when installed outside a git repository."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def library_versions(engine: str) -> dict[str, str]:
    """Versions of everything that shapes the model bytes (engine, numpy, pyarrow) and of this code."""
    import importlib

    from numerai_assets import __version__

    versions = {"numerai_assets": __version__, "python": platform.python_version()}
    for module in (engine, "numpy", "pyarrow"):
        versions[module] = importlib.import_module(module).__version__
    return versions


def manifest_path_for(model_path: str | Path) -> Path:
    """``<name>-seed<k>.lgb.txt`` -> ``<name>-seed<k>.manifest.json`` (same folder)."""
    model_path = Path(model_path)
    name = model_path.name
    for suffix in MODEL_SUFFIXES.values():
        if name.endswith(suffix):
            return model_path.with_name(name[: -len(suffix)] + MANIFEST_SUFFIX)
    return model_path.with_name(model_path.stem + MANIFEST_SUFFIX)


def write_manifest(path: str | Path, manifest: dict[str, Any]) -> None:
    write_bytes_atomic(path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def read_manifest(model_path: str | Path) -> dict[str, Any]:
    path = manifest_path_for(model_path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no manifest {path} beside model {model_path}") from None


def build_manifest(
    *,
    model: str,
    slot: str,
    engine: str,
    seed: int,
    target: str,
    features: Sequence[str],
    feature_set: str | Sequence[str],
    params: dict[str, Any],
    dataset_version: str,
    dataset_sha256: dict[str, str],
    training: dict[str, Any],
    model_file: str,
    model_sha256: str,
    started_utc: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce or audit one trained seed model (JSON-serialisable)."""
    manifest: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "model": model,
        "slot": slot,
        "engine": engine,
        "seed": seed,
        "target": target,
        "feature_set": feature_set if isinstance(feature_set, str) else list(feature_set),
        "features": list(features),
        "feature_count": len(features),
        "features_sha256": features_sha256(features),
        "params": params,
        "dataset": {"version": dataset_version, "sha256": dict(dataset_sha256)},
        "training": training,
        "versions": library_versions(engine),
        "git_sha": git_sha(),
        "model_file": model_file,
        "model_sha256": model_sha256,
        "started_utc": started_utc,
        "finished_utc": utc_now(),
    }
    manifest.update(extra or {})
    return manifest
