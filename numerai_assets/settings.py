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

from numerai_assets.core.data.dataset import DEFAULT_VERSION
from numerai_assets.core.evaluation.tracking import MODES as TRACKING_MODES
from numerai_assets.core.live.rounds import LATE_POLICIES

MODES = ("local", "numerai")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
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
ENV_STORE_URL = "NUMERAI_ASSETS_STORE_URL"  # fsspec URL (s3://bucket/prefix): stores shared by every host
ENV_EXECUTOR = "NUMERAI_ASSETS_EXECUTOR"  # where training steps run
ENV_CELERY_BROKER = "NUMERAI_ASSETS_CELERY_BROKER"  # read by dagster-celery through EnvVar (may hold a password)
ENV_CELERY_BACKEND = "NUMERAI_ASSETS_CELERY_BACKEND"  # default: the broker
EXECUTORS = ("multiprocess", "celery", "k8s")
ENV_STEP_START = "NUMERAI_ASSETS_STEP_START"  # how the local executor starts a step's process
STEP_STARTS = ("forkserver", "spawn")
ENV_WANDB_API_KEY = "WANDB_API_KEY"
ENV_PUBLIC_ID = "NUMERAI_PUBLIC_ID"
ENV_SECRET_KEY = "NUMERAI_SECRET_KEY"
ENV_NOTIFY = "NUMERAI_ASSETS_NOTIFY"  # Apprise URLs for alerts (secret: read only through EnvVar)


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
    store_url: str | None = None  # None: local folders under home (the embedded default)
    executor: str = "multiprocess"  # training steps: multiprocess (this host) | celery | k8s
    # multiprocess steps fork from a server that imported the definitions once per run; "spawn"
    # (Dagster's default) starts a fresh interpreter per step (~3 s of imports each here)
    step_start: str = "forkserver"
    notify_set: bool = False  # alerts on: NUMERAI_ASSETS_NOTIFY holds Apprise URLs (the resource reads them)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def store_dir(self) -> Path:
        """The model store: models, predictions, champion records, submissions, ledger."""
        return self.home / "store"

    @property
    def outbox_path(self) -> Path:
        """The alerts outbox: every alert key sent, so each event goes out once."""
        return self.store_dir / "alerts.sqlite"

    @property
    def cache_dir(self) -> Path:
        """This host's cache of object-store files (with ``store_url``)."""
        return self.home / "cache"

    @property
    def tournament_dir(self) -> Path:
        """Where the embedded local tournament keeps its generated data and state."""
        return self.home / "tournament"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Every variable parsed strictly: a typo fails here, naming the variable and its values."""
        mode = env_choice(env, ENV_MODE, MODES, "local")
        home = Path(env.get(ENV_HOME) or Path.cwd() / ".numerai_assets").resolve()
        local_url = env.get(ENV_TOURNAMENT_URL) or f"http://127.0.0.1:{LOCAL_TOURNAMENT_PORT}"
        return cls(
            mode=mode,
            home=home,
            api_url=(env.get(ENV_API_URL) or NUMERAI_API_URL) if mode == "numerai" else local_url,
            dataset_version=env.get(ENV_DATASET_VERSION) or DEFAULT_VERSION,
            late_policy=env_choice(env, ENV_LATE_POLICY, LATE_POLICIES, "skip"),
            round_poll_s=env_positive_int(env, ENV_ROUND_POLL_S, 180),
            roster_path=Path(env[ENV_ROSTER]) if env.get(ENV_ROSTER) else None,
            tracking_mode=env_choice(env, ENV_TRACKING, TRACKING_MODES, "auto"),
            wandb_key_set=bool(env.get(ENV_WANDB_API_KEY)),
            dry_run=env_bool(env, ENV_DRY_RUN, False),
            store_url=_store_url(env),
            executor=env_choice(env, ENV_EXECUTOR, EXECUTORS, "multiprocess"),
            step_start=env_choice(env, ENV_STEP_START, STEP_STARTS, "forkserver"),
            notify_set=_raw(env, ENV_NOTIFY) is not None,
        )


def _store_url(env: Mapping[str, str]) -> str | None:
    """An fsspec URL with a scheme; a bare path is refused (a local store needs no URL)."""
    value = _raw(env, ENV_STORE_URL)
    if value is not None and "://" not in value:
        raise ValueError(f"{ENV_STORE_URL}={value!r} is not a URL; use e.g. s3://bucket/prefix, or unset it")
    return value.rstrip("/") if value else None


def _raw(env: Mapping[str, str], name: str) -> str | None:
    """The trimmed value, or None when unset or blank (blank means "use the default")."""
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _raw(env, name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ValueError(f"{name}={value!r} is not a boolean; use one of {TRUE_WORDS} or {FALSE_WORDS} (case-insensitive)")


def env_choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _raw(env, name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise ValueError(f"{name}={value!r} is not accepted; use one of {choices}")
    return value.lower()


def env_positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name}={value!r} is not accepted; use a positive whole number of seconds")
    return number
