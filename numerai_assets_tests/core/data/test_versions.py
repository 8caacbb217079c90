"""Version-dependent names come from the data or config, never from a hard-coded version."""

import pandas as pd
import pytest

from numerai_assets.core.data import dataset
from numerai_assets.core.data.versions import benchmark_prefixes, benchmark_series, main_benchmark_column
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.settings import Settings

V53 = ["era", "data_type", "v53_lgbm_cyrusd20", "v53_lgbm_ender20", "v53_lgbm_ender60"]


def test_default_version_is_v53_and_every_default_derives_from_it(tmp_path):
    assert dataset.DEFAULT_VERSION == "v5.3"
    assert Settings.from_env({"NUMERAI_ASSETS_HOME": str(tmp_path)}).dataset_version == "v5.3"
    assert NumeraiResource(api_url="http://x").remote_name("train.parquet") == "v5.3/train.parquet"
    pinned = Settings.from_env({"NUMERAI_ASSETS_HOME": str(tmp_path), "NUMERAI_ASSETS_DATASET_VERSION": "v5.2"})
    assert pinned.dataset_version == "v5.2"


@pytest.mark.parametrize(
    "version,columns,expected",
    [
        ("v5.3", V53, "v53_lgbm_ender20"),
        ("v5.2", ["v52_lgbm_cyrusd20", "v52_lgbm_ender20", "v53_lgbm_ender20"], "v52_lgbm_ender20"),
        ("v5.0", ["v5_lgbm_cyrusd20", "v5_lgbm_ender20"], "v5_lgbm_ender20"),
    ],
)
def test_main_benchmark_column_is_the_versions_lgbm_ender20(version, columns, expected):
    assert main_benchmark_column(columns, version) == expected


def test_configured_benchmark_wins_and_must_exist():
    assert main_benchmark_column(V53, "v5.3", "v53_lgbm_cyrusd20") == "v53_lgbm_cyrusd20"
    with pytest.raises(ValueError, match="'v52_lgbm_ender20' is not in the v5.3 benchmark file"):
        main_benchmark_column(V53, "v5.3", "v52_lgbm_ender20")


def test_no_column_of_that_version_names_version_and_columns():
    with pytest.raises(ValueError, match=r"v54_lgbm_ender20\) for dataset version v5.4.*v53_lgbm_ender20"):
        main_benchmark_column(V53, "v5.4")
    with pytest.raises(ValueError, match="does not look like"):
        benchmark_prefixes("5.3")
    frame = pd.DataFrame(columns=V53)
    assert benchmark_series(frame, "v5.4") is None
    assert benchmark_series(frame, "v5.3").name == "v53_lgbm_ender20"


def test_features_json_with_more_sets_and_a_missing_roster_set_names_set_file_and_version(tmp_path):
    import json

    from numerai_assets.core.data.dataset import FeatureSets

    cols = [f"feature_{i}" for i in range(6)]
    path = tmp_path / "features.json"
    path.write_text(
        json.dumps(
            {
                "feature_sets": {
                    "all": cols,
                    "small": cols[:2],
                    "quantum": cols[4:],
                    "fncv3_features": cols[1:5],
                    "agility": cols[:1],
                },
                "targets": ["target", "target_ender_20"],
            }
        )
    )
    sets = FeatureSets.from_json_file(path, "v5.3")
    assert sets.resolve("quantum") == cols[4:] and sets.resolve(["agility", "quantum"]) == [cols[0], *cols[4:]]
    with pytest.raises(ValueError) as err:
        sets.resolve(["small", "medium"])
    assert f"unknown feature set(s) ['medium']: not in {path} (dataset v5.3)" in str(err.value)
    assert "'quantum'" in str(err.value)
