"""The one table of dataset files: asset name, Numerai file name, description, contract kind.

The data assets (``assets/data.py``) and their contract checks (``checks/data_contracts.py``) both
read it, so a file added here gets its asset and, when it names a contract kind, its checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from numerai_assets.core.data.contracts import CHECKS_BY_KIND


@dataclass(frozen=True)
class DatasetFileSpec:
    """One Numerai file of a dataset version and what this platform does with it."""

    asset: str  # the Dagster asset name
    filename: str  # as Numerai lists it under the version, e.g. "train.parquet"
    description: str  # why a user cares, shown on the asset
    contract: str | None  # a kind of core.data.contracts; None: no contract (features.json)

    def __post_init__(self) -> None:
        if self.contract is not None and self.contract not in CHECKS_BY_KIND:
            raise ValueError(
                f"dataset file {self.filename} (asset {self.asset}): unknown contract kind {self.contract!r};"
                f" expected one of {sorted(CHECKS_BY_KIND)}"
            )


DATASET_FILES: tuple[DatasetFileSpec, ...] = (
    DatasetFileSpec(
        "features_metadata", "features.json", "Feature sets, groups and target names of the version.", None
    ),
    DatasetFileSpec("train_data", "train.parquet", "Training eras: int8 features and targets.", "train"),
    DatasetFileSpec(
        "validation_data", "validation.parquet", "Validation eras, including rows not yet resolved.", "validation"
    ),
    DatasetFileSpec(
        "train_benchmark_models",
        "train_benchmark_models.parquet",
        "Numerai's benchmark predictions on train.",
        "benchmark_models",
    ),
    DatasetFileSpec(
        "validation_benchmark_models",
        "validation_benchmark_models.parquet",
        "Numerai's benchmark predictions on validation.",
        "benchmark_models",
    ),
    DatasetFileSpec(
        "meta_model", "meta_model.parquet", "The stake-weighted meta model on validation (for MMC).", "meta_model"
    ),
    DatasetFileSpec(
        "validation_example_preds",
        "validation_example_preds.parquet",
        "Numerai's example model predictions on validation.",
        "example_preds",
    ),
)

# a round's files (asset live_data, partitioned by round); the live file has its own contract
LIVE_FILE = DatasetFileSpec("live_data", "live.parquet", "One round's live features.", "live")
LIVE_BENCHMARKS_FILE = "live_benchmark_models.parquet"


def contracted_files() -> tuple[DatasetFileSpec, ...]:
    """The unpartitioned files that have a contract: one multi-asset check each."""
    return tuple(spec for spec in DATASET_FILES if spec.contract is not None)
