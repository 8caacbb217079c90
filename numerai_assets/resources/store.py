"""Where the platform keeps its files: the store is the source of truth for every artifact."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.atomic import sweep_orphans


class LocalDataStore(ConfigurableResource):
    """Datasets and per-round files under one local directory (a mounted volume in production)."""

    root: str = Field(description="base directory for datasets, rounds and artifacts")
    orphan_age_s: float = Field(
        default=3600.0, description="temp files of killed downloads older than this are removed at start"
    )

    def dataset_path(self, version: str, filename: str) -> Path:
        return Path(self.root) / "datasets" / version / filename

    def round_path(self, round_number: int, version: str, filename: str) -> Path:
        return Path(self.root) / "rounds" / str(round_number) / version / filename

    def setup_for_execution(self, context) -> None:
        """Each step starts by removing what downloads killed mid-write left behind (a 7 GB
        train.parquet temp would otherwise stay on disk for good)."""
        removed = sweep_orphans(self.root, self.orphan_age_s)
        if removed and context.log is not None:
            context.log.info(f"data store: removed {len(removed)} orphan temp file(s) under {self.root}")
