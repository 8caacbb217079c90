"""Environment settings, read in one place.

The embedded default needs none of them: with nothing set, everything runs against the local
tournament on 127.0.0.1 with data under ``./.numerai_assets``. Credentials are not read here;
resources take them through ``dagster.EnvVar`` so they never enter config or logs.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from numerai_assets.core.dataset import DEFAULT_VERSION

MODES = ("local", "numerai")
NUMERAI_API_URL = "https://api-tournament.numer.ai"
LOCAL_TOURNAMENT_PORT = 8765
ENV_MODE = "NUMERAI_ASSETS_MODE"
ENV_HOME = "NUMERAI_ASSETS_HOME"
ENV_TOURNAMENT_URL = "NUMERAI_ASSETS_TOURNAMENT_URL"
ENV_API_URL = "NUMERAI_ASSETS_API_URL"  # numerai mode: the GraphQL endpoint (another compatible server)
ENV_DATASET_VERSION = "NUMERAI_ASSETS_DATASET_VERSION"
ENV_LATE_POLICY = "NUMERAI_ASSETS_LATE_POLICY"
ENV_ROUND_POLL_S = "NUMERAI_ASSETS_ROUND_POLL_S"
ENV_ROSTER = "NUMERAI_ASSETS_ROSTER"
ENV_DRY_RUN = "NUMERAI_ASSETS_DRY_RUN"
ENV_TRACKING = "NUMERAI_ASSETS_TRACKING"
ENV_WANDB_API_KEY = "WANDB_API_KEY"
ENV_PUBLIC_ID = "NUMERAI_PUBLIC_ID"
ENV_SECRET_KEY = "NUMERAI_SECRET_KEY"


@dataclass(frozen=True)
class Settings:
    mode: str
    home: Path
    api_url: str
    dataset_version: str
    late_policy: str = "skip"  # after staking close: "skip" the round or "submit" late
    round_poll_s: int = 180
    roster_path: Path | None = None  # None: the roster shipped in the package
    tracking_mode: str = "auto"  # W&B: auto (online with WANDB_API_KEY, else offline) | offline | online | disabled
    wandb_key_set: bool = False
    dry_run: bool = False  # write submission files and ledger entries, upload nothing

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def store_dir(self) -> Path:
        """The model store: models, predictions, champion records, submissions, ledger."""
        return self.home / "store"

    @property
    def tournament_dir(self) -> Path:
        """Where the embedded local tournament keeps its generated data and state."""
        return self.home / "tournament"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        mode = env.get(ENV_MODE, "local").strip().lower()
        if mode not in MODES:
            raise ValueError(f"{ENV_MODE}={mode!r} is not a mode; use one of {MODES}")
        home = Path(env.get(ENV_HOME) or Path.cwd() / ".numerai_assets").resolve()
        local_url = env.get(ENV_TOURNAMENT_URL) or f"http://127.0.0.1:{LOCAL_TOURNAMENT_PORT}"
        return cls(
            mode=mode,
            home=home,
            api_url=(env.get(ENV_API_URL) or NUMERAI_API_URL) if mode == "numerai" else local_url,
            dataset_version=env.get(ENV_DATASET_VERSION, DEFAULT_VERSION),
            late_policy=env.get(ENV_LATE_POLICY, "skip"),
            round_poll_s=int(env.get(ENV_ROUND_POLL_S, "180")),
            roster_path=Path(env[ENV_ROSTER]) if env.get(ENV_ROSTER) else None,
            tracking_mode=env.get(ENV_TRACKING, "auto"),
            wandb_key_set=bool(env.get(ENV_WANDB_API_KEY)),
            dry_run=env.get(ENV_DRY_RUN, "").lower() in ("1", "true", "yes"),
        )
