"""Model uploads on the local tournament: the calls numerapi's ``model_upload`` makes, and, like
Numerai, each model's latest pickle run at round open, its output recorded as that model's
submission for the round, or its failure recorded with the reason (``computePickleRuns``).

The run uses the same sandbox as the pipeline's proof (``core.compute.sandbox``): the image's
Python and pinned libraries, 1 CPU, a memory and a time limit, no network.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from numerai_assets.core.compute.images import PINS, UnknownImageError, image_spec
from numerai_assets.core.compute.sandbox import Limits, SandboxError, default_sandbox_root, ensure_env, run_pickle
from numerai_assets.tournament.catalog import Catalog
from numerai_assets.tournament.state import TournamentState, Upload, iso, utcnow

logger = logging.getLogger(__name__)
_NS = uuid.UUID("7d1f0e2a-4b6c-4e8d-9a3f-1c2b3d4e5f60")
# Numerai lists images for several Pythons; those without pins here fail at run time, visibly.
DOCKER_IMAGES = tuple(f"Python 3.{minor}" for minor in range(10, 15))
_SCHEMA = """
CREATE TABLE IF NOT EXISTS compute_pickles (
    id TEXT PRIMARY KEY, model_id TEXT NOT NULL, filename TEXT NOT NULL, sha256 TEXT NOT NULL,
    path TEXT NOT NULL, data_version TEXT NOT NULL, docker_image TEXT NOT NULL, inserted_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS compute_runs (
    id TEXT PRIMARY KEY, round INTEGER NOT NULL, model_id TEXT NOT NULL, pickle_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'failed')), reason TEXT NOT NULL,
    submission_id TEXT, seconds REAL, peak_mb REAL, inserted_at TEXT NOT NULL,
    UNIQUE (round, model_id)
);
"""


def item_id(kind: str, name: str) -> str:
    """Stable ids for data versions and images (numerapi maps names to ids)."""
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


@dataclass(frozen=True)
class PickleRun:
    status: str
    reason: str
    submission_id: str | None = None
    seconds: float | None = None
    peak_mb: float | None = None


class TournamentCompute:
    """Stored pickles and their runs, in the server's ``state.sqlite``."""

    def __init__(
        self,
        state: TournamentState,
        catalog: Catalog,
        root: Path,
        *,
        sandbox_root: Path | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.state, self.catalog = state, catalog
        self.dir = Path(root) / "_compute"
        self.sandbox_root = sandbox_root or default_sandbox_root()
        self.limits = limits or Limits()
        with state._lock:
            state._db.executescript(_SCHEMA)

    # listings -------------------------------------------------------------------------------

    def data_versions(self) -> list[dict[str, str]]:
        return [{"name": v, "id": item_id("data", v)} for v in self.catalog.versions()]

    def docker_images(self) -> list[dict[str, str]]:
        return [{"name": n, "id": item_id("image", n)} for n in DOCKER_IMAGES]

    def _name(self, kind: str, items: list[dict[str, str]], value: str | None, default: str) -> str:
        if value is None:
            return default
        for item in items:
            if value in (item["id"], item["name"]):
                return item["name"]
        raise ValueError(f"unknown {kind} {value!r}; known: {[i['name'] for i in items]}")

    # uploads --------------------------------------------------------------------------------

    def create(self, upload: Upload, data_version: str | None, docker_image: str | None) -> str:
        """Store the uploaded pickle as the model's latest; returns the upload id."""
        if upload.path is None or upload.sha256 is None:
            raise ValueError(f"file {upload.filename!r} was never uploaded to its upload URL")
        version = self._name("data version", self.data_versions(), data_version, self.catalog.version)
        image = self._name("docker image", self.docker_images(), docker_image, f"Python 3.{max(map(_minor, PINS))}")
        pickle_id = str(uuid.uuid4())
        dest = self.dir / upload.model_id / f"{pickle_id}.pkl"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(upload.path, dest)
        row = (pickle_id, upload.model_id, upload.filename, upload.sha256, str(dest), version, image, iso(utcnow()))
        self.state._write([("INSERT INTO compute_pickles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)])
        return pickle_id

    def pickles(self, model_ids: list[str]) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(model_ids))
        rows = self.state._rows(
            f"SELECT * FROM compute_pickles WHERE model_id IN ({marks}) ORDER BY inserted_at", model_ids
        )
        return [_camel(dict(r)) for r in rows]

    def runs(self, model_ids: list[str], round_number: int | None = None) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(model_ids))
        sql, params = f"SELECT * FROM compute_runs WHERE model_id IN ({marks})", list[object](model_ids)
        if round_number is not None:
            sql, params = sql + " AND round=?", [*params, round_number]
        return [_camel(dict(r)) for r in self.state._rows(sql + " ORDER BY inserted_at", params)]

    # round open -----------------------------------------------------------------------------

    def run_round(self, round_number: int, submit: Callable[[int, Upload], str]) -> dict[str, PickleRun]:
        """Run every model's latest pickle on the round's live file, once per (round, model).

        ``submit(round, upload)`` validates and records a submission (the server's own path
        for uploaded CSVs) and returns its id, or raises with the validator's message.
        """
        latest = self.state._rows(
            "SELECT p.* FROM compute_pickles p WHERE inserted_at = "
            "(SELECT MAX(inserted_at) FROM compute_pickles q WHERE q.model_id = p.model_id)"
        )
        done = {
            r["model_id"] for r in self.state._rows("SELECT model_id FROM compute_runs WHERE round=?", (round_number,))
        }
        out = {}
        for row in latest:
            if row["model_id"] in done:
                continue
            run = self._run_one(round_number, dict(row), submit)
            out[row["model_id"]] = run
            values = (
                str(uuid.uuid4()),
                round_number,
                row["model_id"],
                row["id"],
                run.status,
                run.reason,
                run.submission_id,
                run.seconds,
                run.peak_mb,
                iso(utcnow()),
            )
            self.state._write([("INSERT INTO compute_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)])
            logger.info("round %d: pickle of model %s %s: %s", round_number, row["model_id"], run.status, run.reason)
        return out

    def _run_one(self, round_number: int, row: dict, submit: Callable[[int, Upload], str]) -> PickleRun:
        live = self.catalog.path_for(row["data_version"], "live.parquet", round_number)
        bench = self.catalog.path_for(row["data_version"], "live_benchmark_models.parquet", round_number)
        if live is None:
            return PickleRun("failed", f"no live file of {row['data_version']} for round {round_number}")
        try:
            env = ensure_env(self.sandbox_root, image_spec(row["docker_image"]), log=logger.info)
        except (UnknownImageError, SandboxError) as exc:
            return PickleRun("failed", f"image {row['docker_image']}: {exc}")
        out = self.dir / "runs" / str(round_number) / row["model_id"]
        try:
            result = run_pickle(env, row["path"], live, bench, out, self.limits)
        except SandboxError as exc:
            return PickleRun("failed", str(exc))
        stats: dict[str, Any] = {"seconds": result.seconds, "peak_mb": result.peak_mb}
        if result.timed_out:
            return PickleRun("failed", f"timed out at {self.limits.timeout_s:.0f} s", **stats)
        if result.result.get("stage") != "done":
            error = result.result.get("error") or f"exit code {result.returncode}: {result.stderr_tail[-300:]}"
            return PickleRun("failed", f"{result.result.get('stage', 'start')}: {error}", **stats)
        csv = out / "predictions.csv"
        pd.read_parquet(result.predictions_path).to_csv(csv, index=False)
        sha256 = hashlib.sha256(csv.read_bytes()).hexdigest()
        name = f"compute-{round_number}-{row['id']}.csv"
        upload = Upload(f"compute-{row['id']}", name, row["model_id"], sha256, str(csv), iso(utcnow()))
        try:
            submission_id = submit(round_number, upload)
        except Exception as exc:  # noqa: BLE001 - the validator's refusal is the run's outcome
            return PickleRun("failed", f"submission refused: {exc}", **stats)
        return PickleRun(
            "submitted", f"ran in {result.seconds:.1f} s, peak {result.peak_mb:.0f} MB", submission_id, **stats
        )


def _minor(python: str) -> int:
    return int(python.split(".")[1])


def _camel(row: dict[str, Any]) -> dict[str, Any]:
    return {"".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v for k, v in row.items()}
