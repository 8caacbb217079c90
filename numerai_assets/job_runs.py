"""Runs of the code location's jobs, made and executed headless (``python -m numerai_assets demo|run``).

``job.execute_in_process`` makes runs without a remote job origin: the UI then lists them under
no job (not in the Overview timeline, not on the Jobs page). Here each run is created the way
``dagster job launch`` creates one, for the job of ``workspace.yaml``'s code location (its origin
carries the location name the UI groups runs by), and executed in this process with the job's own
executor, like a run the UI launches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

DEFINITIONS_MODULE = "numerai_assets.definitions"
WORKSPACE_YAML = Path(__file__).resolve().parent.parent / "workspace.yaml"


@cache
def _repository():
    """The definitions as a reconstructable repository (step subprocesses load it by module)."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    return ReconstructableRepository.for_module(DEFINITIONS_MODULE, "defs", working_directory=os.getcwd())


@cache
def code_location_origin():
    """``workspace.yaml``'s code location serving ``numerai_assets.definitions``."""
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    if not WORKSPACE_YAML.exists():
        raise FileNotFoundError(f"{WORKSPACE_YAML}: missing; it names the code location runs belong to")
    origins = [
        origin
        for origin in location_origins_from_yaml_paths([str(WORKSPACE_YAML)])
        if getattr(getattr(origin, "loadable_target_origin", None), "module_name", None) == DEFINITIONS_MODULE
    ]
    if len(origins) != 1:
        raise ValueError(f"{WORKSPACE_YAML}: expected one code location loading {DEFINITIONS_MODULE}")
    return origins[0]


def job_definition(job_name: str):
    return _repository().get_reconstructable_job(job_name).get_definition()


def create_job_run(
    instance, job_name: str, partition: str | None, tags: Mapping[str, str], run_config: Mapping[str, Any]
):
    """A NOT_STARTED run of ``job_name`` (partition tags, the job's tags, ``tags``) with the
    remote origin of the workspace's code location."""
    from dagster._core.remote_origin import RemoteRepositoryOrigin

    repository = _repository()
    recon_job = repository.get_reconstructable_job(job_name)
    job_def = recon_job.get_definition()
    repository_origin = RemoteRepositoryOrigin(code_location_origin(), repository.get_definition().name)
    partition_tags = {} if partition is None else job_def.get_tags_for_partition_key(partition, None)
    return instance.create_run_for_job(
        job_def=job_def,
        run_config=dict(run_config),
        tags={**job_def.tags, **partition_tags, **tags},
        remote_job_origin=repository_origin.get_job_origin(job_name),
        job_code_origin=recon_job.get_python_origin(),
    )


def execute_job_run(
    instance, job_name: str, partition: str | None, tags: Mapping[str, str], run_config: Mapping[str, Any]
):
    """Create the run and execute it here, synchronously; the result holds its events."""
    from dagster._core.execution.api import execute_run

    run = create_job_run(instance, job_name, partition, tags, run_config)
    return execute_run(_repository().get_reconstructable_job(job_name), run, instance)
