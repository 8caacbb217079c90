"""Step outputs in the object store, so a step on any host reads what a step on another wrote.

Dagster's default IO manager pickles outputs under the local DAGSTER_HOME: fine on one machine,
unreadable from a Celery worker or a Kubernetes pod. This one pickles them under
``<url>/io`` (Dagster's own UPath IO manager over fsspec). Handles that point at dataset files
(``DatasetFile``, and the ones inside ``LiveRoundData``) carry a path on the host that downloaded
the file: on output their bytes are published by sha256 (``ObjectFiles``), and on input the
handle is rewritten to this host's cached copy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from dagster import ConfigurableIOManagerFactory, InputContext, OutputContext
from dagster._core.storage.fs_io_manager import PickledObjectFilesystemIOManager
from pydantic import Field

from numerai_assets.core.data.dataset import DatasetFile
from numerai_assets.resources.store import ObjectFiles


def dataset_handles(obj: Any) -> list[DatasetFile]:
    """The dataset handles in an output: the handle itself, or the ones among a dataclass's fields."""
    if isinstance(obj, DatasetFile):
        return [obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [v for f in dataclasses.fields(obj) if isinstance(v := getattr(obj, f.name), DatasetFile)]
    return []


def localized(obj: Any, files: ObjectFiles) -> Any:
    """``obj`` with every dataset handle pointing at this host's verified copy of its bytes."""
    if isinstance(obj, DatasetFile):
        return dataclasses.replace(obj, path=str(files.fetch(obj.sha256, obj.name)))
    if not dataset_handles(obj):
        return obj
    fields = (f.name for f in dataclasses.fields(obj))
    return dataclasses.replace(
        obj,
        **{
            name: localized(getattr(obj, name), files) for name in fields if isinstance(getattr(obj, name), DatasetFile)
        },
    )


class HandlesIOManager(PickledObjectFilesystemIOManager):
    def __init__(self, url: str, cache_dir: str):
        super().__init__(base_dir=f"{url.rstrip('/')}/io")
        self.files = ObjectFiles(f"{url.rstrip('/')}/data", cache_dir)

    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        for handle in dataset_handles(obj):
            self.files.publish(Path(handle.path), handle.sha256)
        super().dump_to_path(context, obj, path)

    def load_from_path(self, context: InputContext, path: Any) -> Any:
        return localized(super().load_from_path(context, path), self.files)


class ObjectStoreIOManager(ConfigurableIOManagerFactory):
    """Pickled step outputs and the dataset files they name, shared through object storage."""

    url: str = Field(description="fsspec URL of the shared store, e.g. s3://bucket/numerai_assets")
    cache_dir: str = Field(description="this host's cache of dataset files, keyed by sha256")

    def create_io_manager(self, context) -> HandlesIOManager:
        return HandlesIOManager(self.url, self.cache_dir)
