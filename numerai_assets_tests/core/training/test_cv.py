"""Walk-forward splits: no training era ever falls inside the embargo of an eval era."""

from __future__ import annotations

import numpy as np
import pytest

from numerai_assets.core.training.cv import (
    embargo_for_target,
    embargo_violations,
    era_numbers,
    keep_every,
    last_fold,
    walk_forward_splits,
)


def test_embargo_for_target() -> None:
    assert embargo_for_target("target") == 8
    assert embargo_for_target("target_ender_20") == 8
    assert embargo_for_target("target_ender_60") == 16


def test_embargo_property_over_many_configurations() -> None:
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(400):
        n_eras = int(rng.integers(5, 300))
        step = int(rng.integers(1, 6))
        eras = keep_every([f"{i:04d}" for i in range(1, n_eras + 1)], step)
        eval_eras = int(rng.integers(1, 30))
        embargo = int(rng.choice([0, 1, 4, 8, 13, 16, 30]))
        window = None if rng.random() < 0.5 else int(rng.integers(1, 50))
        try:
            folds = walk_forward_splits(
                eras, n_folds=int(rng.integers(1, 6)), eval_eras=eval_eras, embargo=embargo, window=window
            )
        except ValueError:
            continue  # too few eras for this configuration
        numbers = era_numbers(eras)
        for fold in folds:
            checked += 1
            assert embargo_violations(fold, numbers) == []
            assert min(numbers[v] for v in fold.eval_eras) - max(numbers[t] for t in fold.train_eras) > embargo
            assert len(fold.eval_eras) == eval_eras and fold.train_eras
            assert window is None or len(fold.train_eras) <= window
            assert set(fold.train_eras) <= set(eras) and set(fold.eval_eras) <= set(eras)
        assert folds[-1].eval_eras[-1] == eras[-1]  # the last fold evaluates on the newest eras
        blocks = [e for f in folds for e in f.eval_eras]
        assert blocks == sorted(blocks) and len(set(blocks)) == len(blocks)
    assert checked > 500


def test_embargo_counts_era_numbers_when_eras_are_thinned() -> None:
    eras = keep_every([f"{i:04d}" for i in range(1, 101)], 4)  # 0001, 0005, ..., 0097
    fold = last_fold(eras, eval_eras=5, embargo=8)
    assert fold.eval_eras == ("0081", "0085", "0089", "0093", "0097")
    assert fold.train_eras[-1] == "0069"  # 0073 and 0077 are within 8 eras of 0081
    assert embargo_violations(fold) == []


def test_non_numeric_eras_use_rank_and_too_few_eras_fail() -> None:
    eras = [f"era{i}" for i in "abcdefghij"]
    fold = last_fold(eras, eval_eras=3, embargo=2)
    assert fold.eval_eras == ("erah", "erai", "eraj") and fold.train_eras[-1] == "erae"
    with pytest.raises(ValueError, match="no walk-forward fold"):
        last_fold(eras, eval_eras=8, embargo=8)


def test_keep_every() -> None:
    assert keep_every(["0003", "0001", "0002", "0004", "0001"], 2) == ["0001", "0003"]
    with pytest.raises(ValueError):
        keep_every(["0001"], 0)


def test_scoring_embargo_follows_the_target_horizon():
    from numerai_assets.core.training.cv import embargoed_eras, scoring_embargo_for_target

    assert scoring_embargo_for_target("target") == 4  # Numerai's notebooks skip 4 eras (20-day)
    assert scoring_embargo_for_target("target_ender_20") == 4
    assert scoring_embargo_for_target("target_ender_60") == 12
    eras = [f"{e:04d}" for e in range(575, 585)]
    assert embargoed_eras(eras, "0574", 4) == ["0575", "0576", "0577", "0578"]
    assert embargoed_eras(eras, "0570", 4) == []
