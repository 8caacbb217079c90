"""ComputeResource: where the image sandboxes live and the limits a pickle is proven under."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.compute.sandbox import Limits, default_sandbox_root


class ComputeResource(ConfigurableResource):
    """Numerai's model-upload limits by default: 1 CPU, 4 GB, 10 minutes, no network."""

    sandbox_root: str | None = Field(
        default=None, description="image venvs (built once); None: $NUMERAI_ASSETS_HOME/sandboxes"
    )
    memory_mb: int = Field(default=4096, description="address-space limit of the pickle's process")
    timeout_s: float = Field(default=600.0, description="the pickle's run is killed after this")
    allow_network: bool = Field(default=False, description="True runs WITHOUT network isolation (recorded)")

    def root(self) -> Path:
        return Path(self.sandbox_root) if self.sandbox_root else default_sandbox_root()

    def limits(self) -> Limits:
        return Limits(memory_mb=self.memory_mb, timeout_s=self.timeout_s, network=self.allow_network)
