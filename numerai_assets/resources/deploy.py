"""Deployment wiring chosen by the environment: shared object stores and the training executor.

With nothing set, everything stays local (folders under NUMERAI_ASSETS_HOME, training steps as
subprocesses of the run): ``make demo`` needs no server. ``NUMERAI_ASSETS_STORE_URL`` moves the
model store and step outputs (with the dataset files they name) to object storage, so steps can
run on other hosts; ``NUMERAI_ASSETS_EXECUTOR`` sends training steps to Celery workers or
Kubernetes jobs through Dagster's own executors. Their libraries are imported only when chosen.
"""

from __future__ import annotations

import os

from dagster import ExecutorDefinition, multiprocess_executor

from numerai_assets.job_runs import DEFINITIONS_MODULE
from numerai_assets.resources.model_store import FsspecModelStore, LocalModelStore, ModelStore
from numerai_assets.settings import ENV_CELERY_BACKEND, ENV_CELERY_BROKER, Settings

# Requests for a training step pod; a value from the environment (NUMERAI_ASSETS_TRAINING_CPU /
# _MEMORY) overrides them, and Helm or Dagster+ can override the whole per-step config.
TRAINING_STEP = "trained_model"
TRAINING_CPU, TRAINING_MEMORY = "2", "16Gi"


def model_store(settings: Settings) -> ModelStore:
    if settings.store_url:
        return FsspecModelStore(url=f"{settings.store_url}/store", cache_dir=str(settings.cache_dir / "store"))
    return LocalModelStore(root=str(settings.store_dir))


def io_managers(settings: Settings) -> dict[str, object]:
    """Step outputs in the object store when there is one (else Dagster's default, local)."""
    if not settings.store_url:
        return {}
    from numerai_assets.resources.object_io import ObjectStoreIOManager

    return {"io_manager": ObjectStoreIOManager(url=settings.store_url, cache_dir=str(settings.cache_dir / "data"))}


def local_executor(settings: Settings) -> ExecutorDefinition:
    """Two cores: two steps at a time, each in its own process (a crash or a leak stays in it).
    With "forkserver" the step processes fork from a server that imported this module once per
    run, instead of each paying ~3 s of imports ("spawn", Dagster's default): measured in
    benchmarks/step_start.py."""
    start = {"forkserver": {"preload_modules": [DEFINITIONS_MODULE]}} if settings.step_start == "forkserver" else {}
    return multiprocess_executor.configured({"max_concurrent": 2, "start_method": start or {"spawn": {}}})


def training_executor(settings: Settings) -> ExecutorDefinition | None:
    """The executor of training_job; None keeps the Definitions' default (multiprocess)."""
    if settings.executor == "celery":
        from dagster_celery import celery_executor

        backend = ENV_CELERY_BACKEND if os.environ.get(ENV_CELERY_BACKEND) else ENV_CELERY_BROKER
        # {"env": NAME}: the URL (it may hold a password) is read at run time, never stored in config
        return celery_executor.configured({"broker": {"env": ENV_CELERY_BROKER}, "backend": {"env": backend}})
    if settings.executor == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured({"per_step_k8s_config": training_step_k8s_config()})
    return None


def training_step_k8s_config() -> dict[str, dict]:
    """The k8s_job_executor's per-step config: the training step's pod requests."""
    requests = {
        "cpu": os.environ.get("NUMERAI_ASSETS_TRAINING_CPU", TRAINING_CPU),
        "memory": os.environ.get("NUMERAI_ASSETS_TRAINING_MEMORY", TRAINING_MEMORY),
    }
    return {TRAINING_STEP: {"container_config": {"resources": {"requests": requests}}}}
