"""Partitions definitions, in one module so every asset, sensor and test shares them."""
from dagster import DynamicPartitionsDefinition

# One partition per tournament round, added by the round-open sensor (or the main job).
rounds_partitions = DynamicPartitionsDefinition(name="rounds")
