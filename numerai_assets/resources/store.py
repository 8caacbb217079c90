"""Where the platform keeps its files: the store is the source of truth for every artifact."""
from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field


class LocalDataStore(ConfigurableResource):
    """Datasets and per-round files under one local directory (a mounted volume in production)."""

    root: str = Field(description="base directory for datasets, rounds and artifacts")

    def dataset_path(self, version: str, filename: str) -> Path:
        return Path(self.root) / "datasets" / version / filename

    def round_path(self, round_number: int, version: str, filename: str) -> Path:
        return Path(self.root) / "rounds" / str(round_number) / version / filename
