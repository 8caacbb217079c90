"""Feature layout (groups, correlated families, feature sets) and per-era feature draws.

Features are int8 in {0..4}, drawn uniformly so each value holds ~20% of an era, like Numerai's
per-era quintiles. Realism that matters downstream is kept cheaply in int8: features come in
families of noisy copies of one base (so signal leaks into siblings and feature sets overlap in
information), and a few features are "introduced late" and read 2 (Numerai's fill value) in early
eras.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerai_assets.tournament.names import feature_names, group_sizes
from numerai_assets.tournament.scales import Scale

FILL_VALUE = 2  # Numerai fills a feature missing for an era with 2
_FAMILY_SIZE_P = np.array([0.35, 0.25, 0.15, 0.1, 0.1, 0.05])  # sizes 1..6


@dataclass(frozen=True)
class FeatureLayout:
    """Which features exist, how they are correlated, and which carry signal."""

    names: list[str]
    groups: dict[str, list[int]]  # group name -> feature indices (column order)
    members: np.ndarray  # int64 indices of features that are noisy copies of a base
    member_base: np.ndarray  # int64 base feature of each member
    member_threshold: np.ndarray  # uint8: copy the base where a uniform byte is below it
    late: np.ndarray  # int64 indices of features filled with 2 before their intro era
    late_intro_era: np.ndarray  # int64 era index (0-based) each late feature starts at
    signal: np.ndarray  # int64 indices of the features the target is built from
    small: list[int]
    medium: list[int]

    @property
    def n_features(self) -> int:
        return len(self.names)

    def feature_sets(self) -> dict[str, list[str]]:
        """features.json "feature_sets": small, medium, all, then the groups."""
        sets = {
            "small": [self.names[i] for i in self.small],
            "medium": [self.names[i] for i in self.medium],
            "all": list(self.names),
        }
        sets.update({g: [self.names[i] for i in idx] for g, idx in self.groups.items()})
        return sets

    def draw(self, rng: np.random.Generator, n_rows: int, era_index: int | None) -> np.ndarray:
        """One era's features as a (n_features, n_rows) int8 array (feature-major, so each
        column is contiguous for Arrow). `era_index=None` (live) means every feature exists."""
        x = rng.integers(0, 5, size=(self.n_features, n_rows), dtype=np.int8)
        if len(self.members):
            u = rng.integers(0, 256, size=(len(self.members), n_rows), dtype=np.uint8)
            copy = u < self.member_threshold[:, None]
            x[self.members] = np.where(copy, x[self.member_base], x[self.members])
        if era_index is not None and len(self.late):
            x[self.late[self.late_intro_era > era_index]] = FILL_VALUE
        return x


def build_layout(scale: Scale, seed: int) -> FeatureLayout:
    """Deterministic layout for (scale, seed); names depend on the scale only."""
    rng = np.random.default_rng([seed, 0])
    n = scale.n_features
    names = feature_names(n)
    perm = rng.permutation(n)
    groups: dict[str, list[int]] = {}
    pools: list[np.ndarray] = []
    start = 0
    for g, size in group_sizes(n).items():
        pools.append(perm[start : start + size])
        groups[g] = sorted(int(i) for i in pools[-1])
        start += size
    pools.append(perm[start:])  # features in no group

    # Families: chunks of each pool; the first feature of a chunk is its base.
    base_of = np.arange(n)
    for pool in pools:
        pos = 0
        while pos < len(pool):
            size = int(rng.choice(len(_FAMILY_SIZE_P), p=_FAMILY_SIZE_P)) + 1
            chunk = pool[pos : pos + size]
            base_of[chunk] = chunk[0]
            pos += size
    bases = np.flatnonzero(base_of == np.arange(n))
    n_sig = scale.n_signal_features
    if len(bases) < n_sig:  # detach members until there are enough independent bases
        extra = rng.choice(np.flatnonzero(base_of != np.arange(n)), n_sig - len(bases), False)
        base_of[extra] = extra
        bases = np.flatnonzero(base_of == np.arange(n))
    signal = np.sort(rng.choice(bases, n_sig, replace=False))
    members = np.flatnonzero(base_of != np.arange(n))
    rho = rng.uniform(0.25, 0.8, size=len(members))

    non_signal = np.setdiff1d(np.arange(n), signal)
    n_late = max(1, round(0.03 * n)) if n >= 30 else 0
    late = np.sort(rng.choice(non_signal, n_late, replace=False))
    late_intro = rng.integers(1, max(2, int(0.4 * scale.n_train_eras)), size=n_late)

    # Nested feature sets: small holds a useful share of the signal, medium most of it.
    sig_order = rng.permutation(signal)
    n_sig_small = min(max(3, round(0.25 * n_sig)), scale.n_small_features // 2, n_sig)
    n_sig_medium = min(max(n_sig_small, round(0.75 * n_sig)), scale.n_medium_features)
    others = rng.permutation(non_signal)
    small = set(sig_order[:n_sig_small]) | set(others[: scale.n_small_features - n_sig_small])
    medium_fill = [i for i in others if i not in small]
    medium = small | set(sig_order[n_sig_small:n_sig_medium])
    medium |= set(medium_fill[: scale.n_medium_features - len(medium)])
    return FeatureLayout(
        names=names,
        groups=groups,
        members=members.astype(np.int64),
        member_base=base_of[members].astype(np.int64),
        member_threshold=np.round(rho * 256).astype(np.uint8),
        late=late.astype(np.int64),
        late_intro_era=late_intro.astype(np.int64),
        signal=signal.astype(np.int64),
        small=sorted(int(i) for i in small),
        medium=sorted(int(i) for i in medium),
    )
