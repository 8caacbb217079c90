"""The stores over S3 (moto's server on 127.0.0.1, reached through s3fs as AWS would be): what one
host writes, another reads; dataset files travel by sha256 into a per-host cache, once."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from numerai_assets.core.data.dataset import DatasetFile
from numerai_assets.core.training.manifest import file_sha256
from numerai_assets.resources.model_store import FsspecModelStore
from numerai_assets.resources.object_io import ObjectStoreIOManager
from numerai_assets.resources.store import ObjectFiles
from numerai_assets.settings import Settings


def remote_fs():
    import fsspec

    return fsspec.filesystem("s3", skip_instance_cache=True)


def test_model_store_written_on_one_host_reads_on_another(s3_env: str, tmp_path: Path):
    host_a = FsspecModelStore(url=f"{s3_env}/store", cache_dir=str(tmp_path / "a"))
    host_b = FsspecModelStore(url=f"{s3_env}/store", cache_dir=str(tmp_path / "b"))
    (tmp_path / "model.txt").write_bytes(b"tree 1")
    assert (
        host_a.put_file(tmp_path / "model.txt", "models/m/seed0/model.txt")
        == f"{s3_env}/store/models/m/seed0/model.txt"
    )
    assert host_b.local_path("models/m/seed0/model.txt").read_bytes() == b"tree 1"
    (tmp_path / "model.txt").write_bytes(b"tree 2, rewritten")
    host_a.put_file(tmp_path / "model.txt", "models/m/seed0/model.txt")
    assert host_b.local_path("models/m/seed0/model.txt").read_bytes() == b"tree 2, rewritten"  # never stale
    host_a.write_json("champions/m.json", {"model": "m"})
    assert host_b.read_json("champions/m.json") == {"model": "m"}
    assert host_b.read_json("champions/none.json") is None
    with pytest.raises(FileNotFoundError, match="'models/none'"):
        host_b.local_path("models/none")


def test_dataset_file_is_downloaded_once_per_host_and_verified(s3_env: str, tmp_path: Path):
    source = tmp_path / "train.parquet"
    source.write_bytes(b"parquet bytes" * 1000)
    sha = file_sha256(source)
    host_a, host_b = ObjectFiles(f"{s3_env}/data", tmp_path / "a"), ObjectFiles(f"{s3_env}/data", tmp_path / "b")
    assert host_a.publish(source, sha) == f"{s3_env}/data/sha256/{sha}"
    assert host_a.cached(sha, "train.parquet").stat().st_ino == source.stat().st_ino  # no second copy
    fetched = host_b.fetch(sha, "train.parquet")
    assert fetched.read_bytes() == source.read_bytes()
    remote_fs().rm(f"{s3_env}/data/sha256/{sha}".removeprefix("s3://"))
    assert host_b.fetch(sha, "train.parquet") == fetched  # from the cache: not downloaded again
    with pytest.raises(FileNotFoundError, match=rf"train.parquet \(sha256 {sha}\) is not in the object store"):
        ObjectFiles(f"{s3_env}/data", tmp_path / "c").fetch(sha, "train.parquet")
    remote_fs().pipe_file(f"{s3_env}/data/sha256/{sha}".removeprefix("s3://"), b"other bytes")
    with pytest.raises(ValueError, match=rf"sha256 [0-9a-f]{{64}}, not {sha} \(train.parquet\)"):
        ObjectFiles(f"{s3_env}/data", tmp_path / "d").fetch(sha, "train.parquet")
    assert not (tmp_path / "d" / "sha256" / sha / "train.parquet").exists()  # a bad download is not kept


def test_step_outputs_and_their_files_cross_hosts(s3_env: str, tmp_path: Path):
    """A handle written by a step on host A is read by a step on host B as a path in B's cache,
    holding the same bytes (the path on A is never touched by B)."""
    home_a = tmp_path / "a" / "data.parquet"
    home_a.parent.mkdir()
    home_a.write_bytes(b"rows" * 100)
    handle = DatasetFile("data.parquet", "v5.3", str(home_a), file_sha256(home_a), home_a.stat().st_size)
    seen: dict[str, str] = {}

    @dg.asset
    def upstream() -> DatasetFile:
        return handle

    @dg.asset
    def downstream(upstream: DatasetFile) -> None:
        seen["path"], seen["bytes"] = upstream.path, Path(upstream.path).read_text()

    def io(host: str) -> ObjectStoreIOManager:
        return ObjectStoreIOManager(url=s3_env, cache_dir=str(tmp_path / host / "cache"))

    with dg.instance_for_test() as instance:
        assert dg.materialize([upstream], resources={"io_manager": io("a")}, instance=instance).success
        home_a.unlink()  # host B cannot see host A's disk
        result = dg.materialize(
            [upstream, downstream], selection=[downstream], resources={"io_manager": io("b")}, instance=instance
        )
    assert result.success
    assert seen["path"] == str(tmp_path / "b" / "cache" / "sha256" / handle.sha256 / "data.parquet")
    assert seen["bytes"] == "rows" * 100


def test_store_url_wires_object_stores_and_keeps_secrets_out_of_config(s3_env: str):
    from numerai_assets.definitions import build_resources

    settings = Settings.from_env({"NUMERAI_ASSETS_STORE_URL": s3_env + "/", "NUMERAI_ASSETS_HOME": "/srv/h"})
    resources = build_resources(settings)
    assert isinstance(resources["model_store"], FsspecModelStore)
    assert resources["model_store"].url == f"{s3_env}/store"
    assert isinstance(resources["io_manager"], ObjectStoreIOManager)
    assert resources["io_manager"].cache_dir == "/srv/h/cache/data"
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in repr(resources)  # s3fs reads it from the env
    local = build_resources(Settings.from_env({"NUMERAI_ASSETS_HOME": "/srv/h"}))
    assert "io_manager" not in local and type(local["model_store"]).__name__ == "LocalModelStore"


def test_store_url_must_be_a_url():
    with pytest.raises(ValueError, match="NUMERAI_ASSETS_STORE_URL='/mnt/store' is not a URL"):
        Settings.from_env({"NUMERAI_ASSETS_STORE_URL": "/mnt/store"})


def test_round_files_inside_a_live_round_handle_are_localized_too(s3_env: str, tmp_path: Path):
    """LiveRoundData carries two dataset handles: both are published and both point at the
    reading host's cache; the round number is kept."""
    from numerai_assets.core.data.dataset import LiveRoundData
    from numerai_assets.resources.object_io import dataset_handles, localized

    handles = []
    for name in ("live.parquet", "live_benchmark_models.parquet"):
        path = tmp_path / "a" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(name.encode() * 10)
        handles.append(DatasetFile(name, "v5.3", str(path), file_sha256(path), path.stat().st_size, round_number=7))
    live = LiveRoundData(7, *handles)
    writer, reader = ObjectFiles(f"{s3_env}/data", tmp_path / "a-cache"), ObjectFiles(f"{s3_env}/data", tmp_path / "b")
    for handle in dataset_handles(live):
        writer.publish(handle.path, handle.sha256)
    moved = localized(live, reader)
    assert moved.round_number == 7
    for before, after in ((live.live, moved.live), (live.benchmark_models, moved.benchmark_models)):
        assert Path(after.path) == reader.cached(before.sha256, before.name)
        assert Path(after.path).read_bytes() == Path(before.path).read_bytes()
    assert localized({"not": "a handle"}, reader) == {"not": "a handle"}
