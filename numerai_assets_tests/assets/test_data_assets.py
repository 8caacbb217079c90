"""The data assets and their contract checks, materialized against the tiny local tournament."""

import hashlib

import dagster as dg
import pandas as pd
import pytest

from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
from numerai_assets.tournament.generator import load_tournament_info


@pytest.fixture
def defs(open_server, tmp_path, dataset_version) -> dg.Definitions:
    settings = Settings(mode="local", home=tmp_path, api_url=open_server.url, dataset_version=dataset_version)
    return build_definitions(settings)


def run_round(defs, instance, round_number: int) -> dg.ExecuteInProcessResult:
    """Only the round's live_data (the slots downstream need champions, tested elsewhere)."""
    instance.add_dynamic_partitions("rounds", [str(round_number)])
    return dg.materialize(
        defs.assets,
        selection="live_data",
        partition_key=str(round_number),
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )


def test_data_job_materializes_every_dataset_with_metadata_and_passing_contracts(dataset_version, defs, open_server):
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("data_job").execute_in_process(instance=instance)
        assert result.success
        materialized = {
            e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
            for e in result.get_asset_materialization_events()
        }
        assert set(materialized) == {
            "features_metadata",
            "train_data",
            "validation_data",
            "train_benchmark_models",
            "validation_benchmark_models",
            "meta_model",
            "validation_example_preds",
            "feature_sets",
            "benchmark_alignment",
            "train_feature_distribution",
        }
        served = open_server.root / dataset_version / "train.parquet"
        train = materialized["train_data"]
        assert train["sha256"].value == hashlib.sha256(served.read_bytes()).hexdigest()
        assert train["rows"].value == len(pd.read_parquet(served))
        assert train["version"].value == dataset_version and train["eras"].value > 1
        assert train["features"].value == load_tournament_info(open_server.root).n_features
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks), [c.description for c in checks if not c.passed]
        assert {c.check_name for c in checks if c.asset_key.to_user_string() == "train_data"} >= {
            "feature_values_in_range",
            "unique_ids",
            "era_format_and_order",
            "main_target_present",
        }
        train_checks = [c for c in checks if c.asset_key.to_user_string() == "train_data"]
        assert all(c.description.startswith(f"train.parquet ({dataset_version}): ") for c in train_checks)
        assert all(c.metadata["file"].value == f"train.parquet ({dataset_version})" for c in train_checks)


def test_live_data_per_round_passes_its_contract(defs, open_server):
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("data_job").execute_in_process(instance=instance).success
        round_number = open_server.current_round().number
        result = run_round(defs, instance, round_number)
        assert result.success
        live_meta = result.asset_materializations_for_node("live_data")[0].metadata
        assert live_meta["round_number"].value == round_number
        assert all(c.passed for c in result.get_asset_check_evaluations())


def test_live_data_missing_a_feature_fails_the_named_check(dataset_version, defs, open_server):
    round_number = open_server.current_round().number
    live_path = open_server.root / "rounds" / str(round_number) / dataset_version / "live.parquet"
    live = pd.read_parquet(live_path)
    dropped = [c for c in live.columns if c.startswith("feature_")][3]
    live.drop(columns=[dropped]).to_parquet(live_path)
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("data_job").execute_in_process(instance=instance).success
        result = run_round(defs, instance, round_number)
        failed = {c.check_name: c for c in result.get_asset_check_evaluations() if not c.passed}
        assert "live_covers_required_features" in failed
        assert dropped in failed["live_covers_required_features"].description
        assert failed["live_covers_required_features"].description.startswith(f"live.parquet of round {round_number}: ")


def test_benchmark_missing_an_era_fails_the_coverage_check(dataset_version, defs, open_server):
    served = open_server.root / dataset_version / "validation_benchmark_models.parquet"
    bench = pd.read_parquet(served)
    era = sorted(bench["era"].unique())[2]
    bench[bench["era"] != era].to_parquet(served)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("data_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success  # the check is blocking
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "benchmark_coverage"]
    assert not check.passed
    assert "in 1 of" in check.description and f"{era} (0.0%)" in check.description
    assert check.description.startswith(f"validation_benchmark_models.parquet ({dataset_version}): ")
    others = [c for c in result.get_asset_check_evaluations() if c.check_name != "benchmark_coverage"]
    assert others and all(c.passed for c in others)


def test_numerai_conventions_unresolved_validation_tail_and_live_without_targets(dataset_version, defs, open_server):
    """Numerai's own files: the newest validation eras are data_type validation rows with every
    target NaN, and a live file has no target columns and its own placeholder era."""
    served = open_server.root / dataset_version / "validation.parquet"
    validation = pd.read_parquet(served)
    tail = sorted(validation["era"].unique())[-2:]
    rows = validation["era"].isin(tail)
    validation.loc[rows, "data_type"] = "validation"
    validation.loc[rows, [c for c in validation.columns if c.startswith("target")]] = float("nan")
    validation.to_parquet(served)
    round_number = open_server.current_round().number
    live_path = open_server.root / "rounds" / str(round_number) / dataset_version / "live.parquet"
    live = pd.read_parquet(live_path)
    live.drop(columns=[c for c in live.columns if c.startswith("target")]).assign(era="0999").to_parquet(live_path)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("data_job").execute_in_process(instance=instance)
        assert result.success
        meta = result.asset_materializations_for_node("validation_data")[0].metadata
        assert meta["unresolved_eras"].value == f"{tail[0]}..{tail[1]}"
        assert meta["unresolved_rows"].value == int(rows.sum())
        (check,) = [
            c
            for c in result.get_asset_check_evaluations()
            if c.asset_key.to_user_string() == "validation_data" and c.check_name == "main_target_present"
        ]
        assert check.passed and check.metadata["unresolved_era_count"].value == 2
        live_result = run_round(defs, instance, round_number)
        assert live_result.success
        assert all(c.passed for c in live_result.get_asset_check_evaluations())
        live_meta = live_result.asset_materializations_for_node("live_data")[0].metadata
        assert live_meta["round_target"].value  # list_rounds answered by the local server


def test_a_changed_same_size_file_is_downloaded_again_and_an_unchanged_one_is_kept(defs, open_server, dataset_version):
    """The server republishes train.parquet with other content of exactly the same size (a new
    sha256 ETag): the next data_job downloads it again; files that did not change are kept."""
    from numerai_assets.tournament.republish import republish

    served = open_server.root / dataset_version / "train.parquet"
    with dg.instance_for_test() as instance:

        def shas() -> dict[str, str]:
            result = dg.materialize(
                defs.assets, selection=["train_data", "meta_model"], instance=instance, resources=defs.resources
            )
            assert result.success
            return {
                e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata["sha256"].value
                for e in result.get_asset_materialization_events()
            }

        before = shas()
        size = served.stat().st_size
        republish(served)
        assert served.stat().st_size == size
        after = shas()
    assert after["train_data"] == hashlib.sha256(served.read_bytes()).hexdigest() != before["train_data"]
    assert after["meta_model"] == before["meta_model"]
