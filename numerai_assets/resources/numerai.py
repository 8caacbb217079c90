"""The Numerai resource: one configurable entry point to the local tournament or real Numerai."""

from __future__ import annotations

import logging
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.data.dataset import DEFAULT_VERSION
from numerai_assets.core.numerai.client import NumeraiClient, RetryPolicy
from numerai_assets.settings import ENV_PUBLIC_ID, ENV_SECRET_KEY, MODES

# The local tournament accepts any token; these only make numerapi send an Authorization header.
LOCAL_CREDENTIALS = ("local-public-id", "local-secret-key")


class NumeraiResource(ConfigurableResource):
    """numerapi with timeouts, bounded retries and verified transfers (see core.numerai.client).

    In ``numerai`` mode the credentials come from ``EnvVar("NUMERAI_PUBLIC_ID")`` /
    ``EnvVar("NUMERAI_SECRET_KEY")``; they are excluded from repr and scrubbed from every message.
    """

    mode: str = Field(default="local", description="'local' (embedded tournament) or 'numerai'")
    api_url: str = Field(description="GraphQL endpoint of the tournament")
    public_id: str | None = Field(default=None, repr=False)
    secret_key: str | None = Field(default=None, repr=False)
    dataset_version: str = DEFAULT_VERSION
    local_tournament_dir: str | None = Field(
        default=None, description="local mode: the tournament's directory (for its oracle)"
    )
    timeout_s: float = Field(default=30.0, description="deadline of every single request")
    max_attempts: int = Field(default=6, description="attempts per call on transport failures")
    retry_budget_s: float = Field(default=120.0, description="bound on a call's total time")

    def get_client(self, logger: logging.Logger | None = None, retry_budget_s: float | None = None) -> NumeraiClient:
        """A client; ``retry_budget_s`` tightens the bound for callers with a deadline (sensors)."""
        if self.mode not in MODES:
            raise ValueError(f"NumeraiResource.mode={self.mode!r}; use one of {MODES}")
        public_id, secret_key = self.public_id, self.secret_key
        if self.mode == "local" and not (public_id and secret_key):
            public_id, secret_key = LOCAL_CREDENTIALS
        if self.mode == "numerai" and not (public_id and secret_key):
            logging.getLogger(__name__).warning(
                "no Numerai credentials: set %s and %s for account actions", ENV_PUBLIC_ID, ENV_SECRET_KEY
            )
        policy = RetryPolicy(
            timeout_s=min(self.timeout_s, retry_budget_s or self.timeout_s),
            max_attempts=self.max_attempts,
            budget_s=retry_budget_s or self.retry_budget_s,
        )
        return NumeraiClient(self.api_url, public_id, secret_key, policy=policy, logger=logger)

    def oracle_path(self) -> Path | None:
        """The local tournament's validation oracle (the true expected target), if any."""
        if self.mode != "local" or not self.local_tournament_dir:
            return None
        return Path(self.local_tournament_dir) / "_oracle" / "validation_oracle.parquet"

    def remote_name(self, filename: str) -> str:
        """``train.parquet`` -> ``v5.3/train.parquet`` (the name Numerai lists)."""
        return f"{self.dataset_version}/{filename}"
