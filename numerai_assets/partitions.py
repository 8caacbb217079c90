"""Partitions definitions, in one module so every asset, sensor and test shares them.

The model dimensions come from the roster, so they are built by functions of it.
"""

from dataclasses import dataclass

from dagster import (
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

from numerai_assets.core.training.roster import Roster

# One partition per tournament round, added by the round-open sensor (or the main job).
rounds_partitions = DynamicPartitionsDefinition(name="rounds")

MODEL_DIM, SEED_DIM = "model", "seed"


def model_partitions(roster: Roster) -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(roster.names)


def model_seed_partitions(roster: Roster) -> MultiPartitionsDefinition:
    """model x seed. Seeds are the union over models; a model trains only its own seeds."""
    seeds = sorted({s for m in roster.models for s in m.seeds})
    return MultiPartitionsDefinition(
        {MODEL_DIM: model_partitions(roster), SEED_DIM: StaticPartitionsDefinition([str(s) for s in seeds])}
    )


@dataclass(frozen=True)
class ModelSeed:
    model: str
    seed: int


def parse_model_seed(pdef: MultiPartitionsDefinition, partition_key: object) -> ModelSeed:
    """Robust to runs launched with only the ``dagster/partition`` tag (a plain ``"lgbm|0"``)."""
    if not isinstance(partition_key, MultiPartitionKey):
        partition_key = pdef.get_partition_key_from_str(str(partition_key))
    keys = partition_key.keys_by_dimension
    models = pdef.get_partitions_def_for_dimension(MODEL_DIM).get_partition_keys()
    seeds = pdef.get_partitions_def_for_dimension(SEED_DIM).get_partition_keys()
    if keys.get(MODEL_DIM) not in models or keys.get(SEED_DIM) not in seeds:
        raise ValueError(
            f"partition {str(partition_key)!r} is not model|seed with a model in {models} and a seed in {seeds}"
        )
    return ModelSeed(model=keys[MODEL_DIM], seed=int(keys[SEED_DIM]))


def model_seed_keys(roster: Roster) -> list[MultiPartitionKey]:
    """The partitions that really exist: each model with each of its own seeds."""
    return [MultiPartitionKey({MODEL_DIM: m.name, SEED_DIM: str(s)}) for m in roster.models for s in m.seeds]
