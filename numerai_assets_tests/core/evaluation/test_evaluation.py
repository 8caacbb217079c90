"""evaluate_model: the embargo after training is not scored, and FNC uses fncv3_features."""

import numpy as np
import pandas as pd
import pytest

from numerai_assets.core.data.dataset import FeatureSets
from numerai_assets.core.evaluation.evaluate import ENSEMBLE, evaluate_model, fnc_feature_set
from numerai_assets_tests.core.evaluation.test_scoring import random_round


def frame_and_seeds(seed: int = 3):
    data = random_round(seed=seed)
    frame = pd.DataFrame(
        {"era": data["eras"], "target": data["targets"], "numerai_meta_model": data["meta_model"]}
    ).join(data["features"])
    frame = frame[frame["target"].notna()].sort_values("era")
    bench = pd.DataFrame({"era": frame["era"], "v53_lgbm_ender20": data["benchmark"]})
    seeds = {"seed0": data["predictions"], "seed1": data["predictions"] + 0.1}
    return frame, bench, seeds


def test_eras_right_after_training_are_skipped_and_reported():
    frame, bench, seeds = frame_and_seeds()
    full = evaluate_model("m", seeds, frame, benchmarks=bench, benchmark_column="v53_lgbm_ender20")
    embargoed = evaluate_model(
        "m", seeds, frame, benchmarks=bench, benchmark_column="v53_lgbm_ender20", last_train_era="0001", embargo=2
    )
    assert full.skipped_eras == () and list(full.per_era[ENSEMBLE].index) == [f"{e:04d}" for e in range(1, 8)]
    assert embargoed.skipped_eras == ("0001", "0002", "0003")
    assert list(embargoed.per_era[ENSEMBLE].index) == ["0004", "0005", "0006", "0007"]
    pd.testing.assert_series_equal(embargoed.per_era["seed0"]["corr"], full.per_era["seed0"]["corr"].loc["0004":])
    with pytest.raises(ValueError, match="no validation era left to score after skipping 7 eras"):
        evaluate_model(
            "m", seeds, frame, benchmarks=bench, benchmark_column="v53_lgbm_ender20", last_train_era="0005", embargo=4
        )


def test_fnc_uses_fncv3_features_when_features_json_has_them():
    cols = [f"feature_{i}" for i in range(6)]
    sets = FeatureSets({"all": tuple(cols), "small": tuple(cols[:2]), "fncv3_features": tuple(cols[2:])})
    assert fnc_feature_set(sets) == ("fncv3_features", cols[2:])
    older = FeatureSets({"all": tuple(cols), "small": tuple(cols[:2])})
    assert fnc_feature_set(older) == ("small", cols[:2])  # the name goes into the metadata
    frame, bench, seeds = frame_and_seeds()

    def evaluate(fnc_features: list[str]):
        return evaluate_model(
            "m",
            seeds,
            frame,
            benchmarks=bench,
            benchmark_column="v53_lgbm_ender20",
            features=cols[:2],
            fnc_features=fnc_features,
        )

    result, other = evaluate(cols[2:]), evaluate(cols[:2])
    assert not np.allclose(result.per_era[ENSEMBLE]["fnc"], other.per_era[ENSEMBLE]["fnc"])
