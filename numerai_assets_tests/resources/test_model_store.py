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
