"""Build the model-upload pickle of a slot from its verified champion seed files.

The pickle is ``runtime.make_predict(spec)`` with ``runtime`` pickled by value and ``spec`` plain
data: the model bytes are embedded (no paths), so the upload is self-contained. It is written by
``pickler.py`` run with the TARGET image's interpreter (the sandbox venv's), because by-value code
is bytecode of the Python that pickled it. The same inputs give the same bytes (the sha256 is the
upload ledger's identity).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from numerai_assets.core.atomic import write_bytes_atomic
from numerai_assets.core.compute import runtime


@dataclass(frozen=True)
class ComputePickleRef:
    """The handle ``<slot>/<slot>_compute_pickle`` passes to its upload (files live in the model store)."""

    slot: str
    key: str  # model-store key of the pickle
    sha256: str
    size_bytes: int
    data_version: str
    docker_image: str
    proof_key: str  # model-store key of the proof record (verdicts, peak memory, seconds)


@dataclass(frozen=True)
class BuiltPickle:
    path: Path
    sha256: str
    size_bytes: int
    models: dict[str, int]  # model -> number of seeds embedded


def slot_spec(
    models: Mapping[str, Sequence[Path]],
    *,
    neutralize_proportion: float = 0.0,
    neutralize_features: Sequence[str] = (),
) -> dict:
    """The plain-data description the runtime predicts from; seeds in the order given."""
    from numerai_assets.core.training.manifest import read_manifest

    entries = []
    for model, paths in models.items():
        if not paths:
            raise ValueError(f"model {model} has no champion seeds to embed")
        manifests = [read_manifest(p) for p in paths]
        engines = {m["engine"] for m in manifests}
        features = [list(m["features"]) for m in manifests]
        if len(engines) != 1 or any(f != features[0] for f in features):
            raise ValueError(f"model {model}: its seeds differ in engine {sorted(engines)} or features")
        entries.append(
            {
                "name": model,
                "engine": engines.pop(),
                "features": features[0],
                "seeds": [Path(p).read_bytes() for p in paths],
            }
        )
    if not 0.0 <= neutralize_proportion <= 1.0:
        raise ValueError(f"neutralize_proportion must be in [0, 1], got {neutralize_proportion}")
    return {
        "models": entries,
        "neutralize_proportion": float(neutralize_proportion),
        "neutralize_features": [str(f) for f in neutralize_features] if neutralize_proportion > 0 else [],
    }


def pickle_bytes(spec: dict, python: str | Path = sys.executable) -> bytes:
    """cloudpickle of ``make_predict(spec)`` made by interpreter ``python`` (with cloudpickle)."""
    with tempfile.TemporaryDirectory(prefix="numerai-pickle-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.pkl", Path(tmp) / "model.pkl"
        spec_path.write_bytes(pickle.dumps(spec, protocol=4))
        script = Path(__file__).with_name("pickler.py")
        # -s -P and a bare environment isolate it like -I would, but -I would also ignore
        # PYTHONHASHSEED: string hashes order the sets cloudpickle writes, and a random seed per
        # process made the same champions pickle to different bytes (a second upload).
        cmd = [str(python), "-B", "-s", "-P", str(script), str(spec_path), runtime.__file__, str(out_path)]
        env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")}
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"pickling with {python} failed ({done.returncode}): {done.stderr[-2000:]}")
        return out_path.read_bytes()


def build_pickle(path: str | Path, spec: dict, python: str | Path = sys.executable) -> BuiltPickle:
    """Write the pickle (made by ``python``, the target image's interpreter) atomically."""
    data = pickle_bytes(spec, python)
    write_bytes_atomic(path, data)
    return BuiltPickle(
        Path(path),
        hashlib.sha256(data).hexdigest(),
        len(data),
        {m["name"]: len(m["seeds"]) for m in spec["models"]},
    )
