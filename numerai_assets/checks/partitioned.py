"""Partitioned check specs: each result records the partition (model, round) it judged.

They are a Dagster preview in 1.13: its warning comes once per spec at every load of the
definitions, in every step process too. It is silenced here, where specs are built, and nowhere else.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import PreviewWarning


@contextmanager
def building_partitioned_specs() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PreviewWarning)
        yield
