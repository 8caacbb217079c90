"""Both model-store implementations honour one contract (fsspec exercised on its memory:// fs)."""

import pytest

from numerai_assets.resources.model_store import FsspecModelStore, LocalModelStore, ModelStore


@pytest.fixture(params=["local", "fsspec"])
def store(request, tmp_path) -> ModelStore:
    if request.param == "local":
        return LocalModelStore(root=str(tmp_path / "store"))
    return FsspecModelStore(url=f"memory://store-{tmp_path.name}", cache_dir=str(tmp_path / "cache"))


def test_files_round_trip_and_leave_no_temporaries(store, tmp_path):
    src = tmp_path / "model.txt"
    src.write_bytes(b"tree 0\n")
    uri = store.put_file(src, "models/lgbm/0/abc/model.txt")
    assert uri.endswith("models/lgbm/0/abc/model.txt")
    assert store.local_path("models/lgbm/0/abc/model.txt").read_bytes() == b"tree 0\n"
    if isinstance(store, LocalModelStore):
        leftovers = [p for p in (tmp_path / "store").rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == []


def test_json_records_and_missing_keys(store):
    assert store.read_json("champions/lgbm.json") is None
    store.write_json("champions/lgbm.json", {"model": "lgbm", "corr": 0.02})
    assert store.read_json("champions/lgbm.json") == {"corr": 0.02, "model": "lgbm"}
    with pytest.raises(FileNotFoundError, match="nope"):
        store.local_path("models/nope")


def test_store_is_abstract():
    with pytest.raises(TypeError):
        ModelStore()


def test_a_corrupt_record_names_its_file(store):
    store.write_json("champions/lgbm.json", {"model": "lgbm"})
    with store.writing("champions/lgbm.json") as path:  # a torn write of another tool
        path.write_bytes(b'{"model": "lgb')
    with pytest.raises(ValueError, match=r"champions/lgbm.json is not valid JSON"):
        store.read_json("champions/lgbm.json")


def test_starting_the_store_sweeps_temps_of_killed_writers(store, tmp_path):
    import os
    import time

    import dagster as dg

    from numerai_assets.core.atomic import temp_name

    root = store.local_root()
    orphan, young = root / "models" / temp_name("m.txt"), root / "models" / temp_name("n.txt")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.touch()  # 0 bytes: the writer was killed right after opening it
    young.touch()  # a writer still at work
    old = time.time() - 2 * store.orphan_age_s
    os.utime(orphan, (old, old))
    store.setup_for_execution(dg.build_init_resource_context())
    assert not orphan.exists() and young.exists()


def test_starting_the_data_store_sweeps_temps_of_killed_downloads(tmp_path):
    import os
    import time

    import dagster as dg

    from numerai_assets.core.atomic import temp_name
    from numerai_assets.resources.store import LocalDataStore

    store = LocalDataStore(root=str(tmp_path / "data"))
    final = store.dataset_path("v5.3", "train.parquet")
    orphan, young = final.with_name(temp_name(final.name)), final.with_name(temp_name("live.parquet"))
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"PAR1")  # a download killed mid-body
    young.touch()  # a download still running
    old = time.time() - 2 * store.orphan_age_s
    os.utime(orphan, (old, old))
    store.setup_for_execution(dg.build_init_resource_context())
    assert not orphan.exists() and young.exists()
