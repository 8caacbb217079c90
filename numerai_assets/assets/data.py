"""Dataset assets (group "data"): each Numerai file of the configured version, downloaded once,
plus what is derived from them alone (feature sets, the train file's feature distribution).

Assets return small :class:`DatasetFile` handles (path, sha256, shape); the files stay in the
data store and downstream steps read them in row batches.
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    MetadataValue,
    Output,
    asset,
)

from numerai_assets.assets.metadata import readable
from numerai_assets.checks.data_contracts import (
    contract_check_results,
    contract_check_specs,
    run_live_contract,
)
from numerai_assets.core.artifacts import FeatureDistribution
from numerai_assets.core.data.dataset import (
    DatasetFile,
    FeatureSets,
    LiveRoundData,
    describe_parquet,
    readability_check,
)
from numerai_assets.core.data.files import DATASET_FILES, LIVE_BENCHMARKS_FILE, LIVE_FILE, DatasetFileSpec
from numerai_assets.partitions import rounds_partitions
from numerai_assets.resources.numerai import NumeraiResource
from numerai_assets.resources.store import LocalDataStore

GROUP = "data"


def fetch_dataset_file(
    context: AssetExecutionContext,
    numerai: NumeraiResource,
    store: LocalDataStore,
    filename: str,
    round_number: int | None = None,
) -> DatasetFile:
    """Download one file into the store (skipped when unchanged) and describe it."""
    version = numerai.dataset_version
    dest = (
        store.round_path(round_number, version, filename)
        if round_number is not None
        else store.dataset_path(version, filename)
    )
    client = numerai.get_client(logger=context.log)
    result = client.download(
        numerai.remote_name(filename),
        dest,
        round_number=round_number,
        validate=readability_check(filename),
    )
    context.log.info(
        f"{filename}: {'downloaded' if result.downloaded else 'unchanged, kept'} "
        f"({result.bytes:,} bytes, sha256 {result.sha256[:12]})"
    )
    if filename.endswith(".parquet"):
        return describe_parquet(dest, name=filename, version=version, sha256=result.sha256, round_number=round_number)
    return DatasetFile(
        name=filename,
        version=version,
        path=str(dest),
        sha256=result.sha256,
        bytes=result.bytes,
        round_number=round_number,
    )


def build_dataset_asset(spec: DatasetFileSpec) -> AssetsDefinition:
    """One unpartitioned file of the table in ``core.data.files`` as an asset."""

    @asset(name=spec.asset, group_name=GROUP, description=spec.description, kinds={"parquet"})
    def _dataset(
        context: AssetExecutionContext, numerai: NumeraiResource, store: LocalDataStore
    ) -> Output[DatasetFile]:
        handle = fetch_dataset_file(context, numerai, store, spec.filename)
        return Output(handle, metadata=readable(handle.metadata()))

    return _dataset


dataset_assets = [build_dataset_asset(spec) for spec in DATASET_FILES]


@asset(group_name=GROUP, kinds={"json"})
def feature_sets(features_metadata: DatasetFile) -> Output[FeatureSets]:
    """Named feature sets and groups, for the model roster to choose from."""
    sets = FeatureSets.from_json_file(features_metadata.path, features_metadata.version)
    table = "\n".join(f"| {name} | {len(cols)} |" for name, cols in sets.sets.items())
    return Output(
        sets,
        metadata={
            "sets": MetadataValue.md("| set | features |\n|---|---|\n" + table),
            "features_all": len(sets.sets["all"]),
            "targets": len(sets.targets),
            "version": features_metadata.version,
        },
    )


@asset(group_name=GROUP, kinds={"numpy"})
def train_feature_distribution(train_data: DatasetFile, feature_sets: FeatureSets) -> Output[FeatureDistribution]:
    """Value counts of every feature over the train file: the reference for live drift (PSI)."""
    from numerai_assets.core.live.gates import feature_value_counts

    names = feature_sets.sets["all"]
    counts = feature_value_counts(train_data.path, names)
    return Output(
        FeatureDistribution(tuple(names), tuple(map(tuple, counts.tolist())), train_data.sha256),
        metadata={"features": len(names), "rows": int(counts[0].sum()) if len(names) else 0},
    )


@asset(
    group_name=GROUP,
    partitions_def=rounds_partitions,
    kinds={"parquet"},
    check_specs=contract_check_specs(LIVE_FILE.asset, "live"),
)
def live_data(
    context: AssetExecutionContext,
    numerai: NumeraiResource,
    store: LocalDataStore,
    feature_sets: FeatureSets,
) -> Iterator[Output[LiveRoundData] | AssetCheckResult]:
    """One round's live features and live benchmark models (partition = round number).

    The contract runs inside the step, so a round whose live file is broken never reaches
    the predictions.
    """
    round_number = int(context.partition_key)
    live = fetch_dataset_file(context, numerai, store, LIVE_FILE.filename, round_number)
    benchmarks = fetch_dataset_file(context, numerai, store, LIVE_BENCHMARKS_FILE, round_number)
    details = numerai.get_client(logger=context.log).round_details(round_number)
    result = run_live_contract(live, feature_sets)
    yield Output(
        LiveRoundData(round_number=round_number, live=live, benchmark_models=benchmarks),
        metadata=readable({**live.metadata(), "benchmark_models_sha256": benchmarks.sha256, **details.metadata()}),
    )
    yield from contract_check_results(result, LIVE_FILE.asset, subject=f"{live.name} of round {round_number}")
