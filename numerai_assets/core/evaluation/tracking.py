"""Experiment tracking and model registry on W&B, called directly.

dagster-wandb does not import with wandb >= 0.30, so this is a small wrapper. The mode is
always explicit: ``offline`` keeps runs on disk for a later ``wandb sync`` (the default when
no API key is set), ``online`` needs a key, ``disabled`` is a no-op. Offline, W&B cannot
serve artifacts back, so the platform's own model store stays the source of truth and W&B
is a record of it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from numerai_assets.core.redaction import redact

MODES = ("auto", "offline", "online", "disabled")
CANDIDATE_ALIAS, PROD_ALIAS = "candidate", "prod"
log = logging.getLogger(__name__)


def resolve_mode(requested: str, api_key: str | None) -> str:
    """``auto`` -> online with a key, offline without; ``online`` without a key is an error."""
    if requested not in MODES:
        raise ValueError(f"tracking mode {requested!r} is not one of {MODES}")
    if requested == "auto":
        return "online" if api_key else "offline"
    if requested == "online" and not api_key:
        raise ValueError("tracking mode 'online' needs WANDB_API_KEY")
    return requested


@dataclass(frozen=True)
class TrackedRun:
    mode: str
    run_id: str | None
    run_dir: str | None
    artifact: str | None  # "name:alias" as logged, None when disabled


class Tracker:
    """Logs one candidate per call: params, per-era metrics, model files + manifest."""

    def __init__(
        self,
        mode: str,
        project: str,
        directory: str | Path,
        *,
        entity: str | None = None,
        api_key: str | None = None,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.mode = resolve_mode(mode, api_key)
        self.project, self.entity, self.directory = project, entity, Path(directory)
        self._api_key = api_key
        self._secrets = (api_key, *secrets)

    def _settings(self):
        import wandb

        return wandb.Settings(
            silent=True,
            save_code=False,
            disable_git=True,
            console="off",
            x_disable_stats=True,
            api_key=self._api_key if self.mode == "online" else None,
        )

    def _scrub(self, value):
        """Config and metadata go to W&B: make sure no credential rides along."""
        if isinstance(value, Mapping):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scrub(v) for v in value]
        if isinstance(value, str):
            return redact(value, self._secrets)
        return value

    def log_candidate(
        self,
        *,
        model_name: str,
        config: Mapping,
        per_era: pd.DataFrame,
        summary: Mapping[str, float],
        files: Mapping[str, Path],
        manifest: Mapping,
    ) -> TrackedRun:
        if self.mode == "disabled":
            return TrackedRun("disabled", None, None, None)
        import wandb

        self.directory.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("WANDB_SILENT", "true")
        run = wandb.init(
            project=self.project,
            entity=self.entity,
            mode=self.mode,  # type: ignore[arg-type]  # resolve_mode admits only the modes wandb knows
            dir=str(self.directory),
            name=f"{model_name}-candidate",
            job_type="candidate",
            config=self._scrub(dict(config)),
            settings=self._settings(),
            reinit="create_new",
        )
        try:
            for era, row in per_era.iterrows():
                run.log({"era": str(era), **{k: float(v) for k, v in row.items() if pd.notna(v)}})
            run.summary.update({k: float(v) for k, v in summary.items()})
            artifact = wandb.Artifact(name=model_name, type="model", metadata={"manifest": self._scrub(dict(manifest))})
            for name, path in files.items():
                artifact.add_file(str(path), name=name, policy="immutable")
            run.log_artifact(artifact, aliases=[CANDIDATE_ALIAS])
            run_dir = str(Path(run.dir).parent)
            return TrackedRun(self.mode, run.id, run_dir, f"{model_name}:{CANDIDATE_ALIAS}")
        finally:
            run.finish()
            # finish() returns before W&B's service has written the run out; teardown waits for
            # it, so the step never ends with a half-written offline run
            wandb.teardown()

    def promote(self, model_name: str) -> bool:
        """Move the ``prod`` alias to the current candidate; only possible online."""
        if self.mode != "online":
            return False
        import wandb

        path = f"{self.entity + '/' if self.entity else ''}{self.project}/{model_name}:{CANDIDATE_ALIAS}"
        artifact = wandb.Api(api_key=self._api_key).artifact(path)
        if PROD_ALIAS not in artifact.aliases:
            artifact.aliases.append(PROD_ALIAS)
            artifact.save()
        return True
