"""The pickle's runtime against our live path: same numbers, by the real models on the real live file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.compute import runtime
from numerai_assets.core.compute.build import build_pickle, slot_spec
from numerai_assets.core.evaluation import postprocess
from numerai_assets.core.live.predict import predict_slot

TOLERANCE = 1e-9  # in our own environment the two paths agree to float rounding


@pytest.mark.parametrize("proportion", [0.0, 0.5])
def test_pickle_equals_live_path(champions: dict, live_round: dict, proportion: float, tmp_path: Path) -> None:
    built = build_pickle(
        tmp_path / "slot.pkl",
        slot_spec(champions, neutralize_proportion=proportion, neutralize_features=live_round["small"]),
    )
    ours = predict_slot(
        champions, live_round["live"], neutralize_proportion=proportion, neutralize_features=live_round["small"]
    ).predictions
    live = pd.read_parquet(live_round["live"])
    bench = pd.read_parquet(live_round["benchmark"])
    predict = cloudpickle.loads(built.path.read_bytes())
    theirs = predict(live, bench)
    assert list(theirs.columns) == ["prediction"] and theirs.index.equals(live.index)
    assert ((theirs["prediction"] > 0) & (theirs["prediction"] < 1)).all()
    np.testing.assert_allclose(theirs["prediction"].to_numpy(), ours.reindex(live.index).to_numpy(), atol=TOLERANCE)
    assert built.models == {"c_lightgbm": 2, "c_xgboost": 1}


def test_pickle_loads_and_predicts_without_numerai_assets(champions: dict, live_round: dict, tmp_path: Path) -> None:
    """The runtime travels by value: a process where importing this package fails still predicts,
    and the pickle holds no path of the model files (their bytes are embedded)."""
    built = build_pickle(tmp_path / "p.pkl", slot_spec(champions))
    data = built.path.read_bytes()
    assert all(Path(p).as_posix().encode() not in data for paths in champions.values() for p in paths)
    script = (
        "import sys; sys.modules['numerai_assets'] = None\n"  # any import of the package now fails
        "import pandas as pd\n"
        f"predict = pd.read_pickle({str(built.path)!r})\n"
        f"out = predict(pd.read_parquet({str(live_round['live'])!r}), None)\n"
        "print(len(out), float(out['prediction'].min()) > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(len(pd.read_parquet(live_round["live"], columns=["era"]))), "True"]


def test_same_inputs_same_bytes(champions: dict, sandbox_env, tmp_path: Path) -> None:
    """Each build is a new interpreter of the image (its own string hashing, a bytecode cache or
    none): the bytes must not depend on either, or the same champions would be uploaded again.
    Python 3.12 gave different bytes for a fresh compile and a .pyc load before the fix."""
    import shutil

    from numerai_assets.core.compute import runtime

    shas = set()
    for i in range(4):
        if i % 2 == 0:  # a fresh checkout has no bytecode cache; later builds may find one
            shutil.rmtree(Path(runtime.__file__).parent / "__pycache__", ignore_errors=True)
        shas.add(build_pickle(tmp_path / f"{i}.pkl", slot_spec(champions), sandbox_env.python).sha256)
    assert len(shas) == 1


def test_runtime_postprocessing_equals_postprocess_module() -> None:
    """The runtime's rank, ensemble and neutralization give postprocess's numbers (with ties)."""
    rng = np.random.default_rng(0)
    n = 300
    index = pd.Index([f"id{i:04d}" for i in rng.permutation(n)], name="id")
    eras = pd.Series("X", index=index)
    seeds = pd.DataFrame({f"s{i}": rng.integers(0, 50, n).astype(float) for i in range(3)}, index=index)
    feats = pd.DataFrame(rng.integers(0, 5, (n, 4)).astype(float), index=index, columns=list("abcd"))
    feats.iloc[::7, 1] = np.nan
    expected = postprocess.neutralize(postprocess.ensemble(seeds, eras), feats, 0.7, eras)
    order = np.argsort(index.to_numpy(), kind="stable")
    got = runtime.neutralize(
        runtime.ensemble([seeds[c].to_numpy()[order] for c in seeds]), feats.to_numpy()[order], 0.7
    )
    np.testing.assert_allclose(got, expected.to_numpy()[order], atol=1e-12)


def test_runtime_imports_nothing_from_the_package() -> None:
    source = Path(runtime.__file__).read_text()
    assert "numerai_assets" not in source.split('"""', 2)[2]
    assert "numerai_assets.core.compute.runtime" in sys.modules


def test_pickle_equals_live_path_with_missing_feature_values(
    profile_template, dataset_version: str, tmp_path: Path
) -> None:
    """The feature_nan profile: NaN features are missing values to both engines, in both paths."""
    import shutil

    from numerai_assets.tournament.generator import generate_live_round
    from numerai_assets_tests.core.compute.conftest import train_tiny

    root = tmp_path / "t"
    shutil.copytree(profile_template("feature_nan"), root)
    live = generate_live_round(root, 1) / "live.parquet"
    frame = pd.read_parquet(live)
    assert frame.filter(like="feature_").isna().any().any()
    models = {
        engine: [train_tiny(engine, 0, root, dataset_version, tmp_path / engine, feature_set="all")]
        for engine in ("lightgbm", "xgboost")
    }
    built = build_pickle(tmp_path / "nan.pkl", slot_spec(models))
    ours = predict_slot(models, live).predictions
    theirs = cloudpickle.loads(built.path.read_bytes())(frame, None)["prediction"]
    np.testing.assert_allclose(theirs.to_numpy(), ours.reindex(frame.index).to_numpy(), atol=TOLERANCE)
