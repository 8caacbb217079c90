"""The flow's jobs, one per stage, each selecting its stage's assets; ``definitions.py`` wires them.

Tags here are what the deployment's run queue reads (``deploy/dagster.yaml``): training runs are
capped, the round has its own limit and the highest priority.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from dagster import (
    AssetsDefinition,
    AssetSelection,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
    define_asset_job,
    in_process_executor,
)

from numerai_assets.assets.data import live_data, train_feature_distribution
from numerai_assets.assets.evaluation import benchmark_alignment
from numerai_assets.assets.scores import ROUND_REPORT_KEY, live_scores_key, monitoring_key
from numerai_assets.partitions import rounds_partitions

if TYPE_CHECKING:  # what define_asset_job returns; not exported by dagster's top level
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

WORKLOAD_TAG = "numerai/workload"  # deploy/dagster.yaml limits runs per workload


@dataclass(frozen=True)
class StageAssets:
    """The roster-dependent assets of each stage (what the jobs select)."""

    training: Sequence[AssetsDefinition]
    evaluation: Sequence[AssetsDefinition]
    slots: Sequence[AssetsDefinition]  # submit-mode slots' round assets
    compute: Sequence[AssetsDefinition]  # compute-mode slots' pickle and upload
    score_slots: Sequence[str]  # every slot has live scores, whoever submitted


@dataclass(frozen=True)
class Jobs:
    data: "UnresolvedAssetJobDefinition"
    training: "UnresolvedAssetJobDefinition"
    evaluation: "UnresolvedAssetJobDefinition"
    live_round: "UnresolvedAssetJobDefinition"
    compute: "UnresolvedAssetJobDefinition"
    live_scores: "UnresolvedAssetJobDefinition"
    live_monitoring: "UnresolvedAssetJobDefinition"

    def all(self) -> list["UnresolvedAssetJobDefinition"]:
        return [getattr(self, f.name) for f in fields(self)]


def build_jobs(
    stages: StageAssets, model_seed_pdef: MultiPartitionsDefinition, model_pdef: StaticPartitionsDefinition
) -> Jobs:
    return Jobs(
        data=define_asset_job(
            "data_job",
            selection=(AssetSelection.groups("data") - AssetSelection.assets(live_data))
            | AssetSelection.assets(benchmark_alignment, train_feature_distribution),
            description="Download every dataset file of the configured version, check its contracts, "
            "align the benchmark models.",
        ),
        training=define_asset_job(
            "training_job",
            selection=AssetSelection.assets(*stages.training),
            partitions_def=model_seed_pdef,
            description="Train one (model, seed) and predict validation; backfill it for a seed sweep.",
            tags={WORKLOAD_TAG: "training"},  # capped by deploy/dagster.yaml's run queue
        ),
        evaluation=define_asset_job(
            "evaluation_job",
            selection=AssetSelection.assets(*stages.evaluation),
            partitions_def=model_pdef,
            description="Score a model's seeds and ensemble, gate and promote its champion.",
        ),
        live_round=define_asset_job(
            "live_round_job",
            selection=AssetSelection.assets(live_data, *stages.slots),
            partitions_def=rounds_partitions,
            description="One round: live data, each slot's gated predictions and its submission.",
            # its own run-queue limit and the highest priority: never queued behind training runs
            tags={WORKLOAD_TAG: "round", "dagster/priority": "10"},
            # one process: the round is latency-bound, and step subprocesses cost ~2 s each here
            executor_def=in_process_executor,
        ),
        compute=define_asset_job(
            "compute_job",
            selection=AssetSelection.assets(*stages.compute),
            description="Per compute-mode slot: build the pickle from the champions, prove it in the image's "
            "sandbox (blocking checks), upload it once.",
        ),
        live_scores=define_asset_job(
            "live_scores_job",
            selection=AssetSelection.assets(*(live_scores_key(s) for s in stages.score_slots), ROUND_REPORT_KEY),
            partitions_def=rounds_partitions,
            description="A round's live scores per slot, as Numerai returns them, and the round report.",
            executor_def=in_process_executor,
        ),
        live_monitoring=define_asset_job(
            "live_monitoring_job",
            selection=AssetSelection.assets(*(monitoring_key(s) for s in stages.score_slots)),
            description="Each slot's live scores against its champions' validation band (warns, never blocks).",
            executor_def=in_process_executor,
        ),
    )
