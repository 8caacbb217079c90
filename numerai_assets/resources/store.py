"""Where the platform keeps its files: the store is the source of truth for every artifact."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from numerai_assets.core.atomic import atomic_path, sweep_orphans
from numerai_assets.core.training.manifest import file_sha256


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


class ObjectFiles:
    """Content-addressed files in an object store with a local cache on each host.

    A dataset handle names a path only the host that downloaded it has. Its bytes are published
    under their sha256, and any other host fetches them once into its cache (verified) and reads
    them there: a cached file is never downloaded again, and a file can never be stale, because
    its name is its content hash. URLs are fsspec URLs (``s3://bucket/prefix`` with s3fs; the
    endpoint and keys come from the standard AWS environment, never from config).
    """

    def __init__(self, url: str, cache_dir: str | Path):
        self.url = url.rstrip("/")
        self.cache_dir = Path(cache_dir)

    def _fs(self):
        import fsspec

        fs, base = fsspec.core.url_to_fs(self.url)
        return fs, base.rstrip("/")

    def uri(self, sha256: str) -> str:
        return f"{self.url}/sha256/{sha256}"

    def cached(self, sha256: str, name: str) -> Path:
        return self.cache_dir / "sha256" / sha256 / name

    def publish(self, path: str | Path, sha256: str) -> str:
        """Upload ``path`` once (skipped when the object exists); it is also this host's cached copy."""
        fs, base = self._fs()
        remote = f"{base}/sha256/{sha256}"
        if not fs.exists(remote):
            tmp = f"{remote}.{uuid.uuid4().hex}.tmp"
            fs.put_file(str(path), tmp)
            fs.mv(tmp, remote)  # the final key appears only when complete
        self._link_into_cache(Path(path), self.cached(sha256, Path(path).name))
        return self.uri(sha256)

    def fetch(self, sha256: str, name: str) -> Path:
        """This host's copy of the file with ``sha256``: downloaded on first use, verified."""
        local = self.cached(sha256, name)
        if local.exists():
            return local
        fs, base = self._fs()
        remote = f"{base}/sha256/{sha256}"
        if not fs.exists(remote):
            raise FileNotFoundError(f"{name} (sha256 {sha256}) is not in the object store at {self.uri(sha256)}")
        with atomic_path(local) as tmp:
            fs.get_file(remote, str(tmp))
            got = file_sha256(tmp)
            if got != sha256:
                raise ValueError(f"{self.uri(sha256)} holds bytes with sha256 {got}, not {sha256} ({name})")
        return local

    @staticmethod
    def _link_into_cache(source: Path, cached: Path) -> None:
        """A hard link (no second copy of a 7 GB file); a copy across file systems."""
        if cached.exists():
            return
        with atomic_path(cached) as tmp:
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
