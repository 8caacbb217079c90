"""Feature layout (groups, correlated families, feature sets) and per-era feature draws.

Features are int8 in {0..4}, drawn uniformly so each value holds ~20% of an era, like Numerai's
per-era quintiles. Realism that matters downstream is kept cheaply in int8: features come in
families of noisy copies of one base (so signal leaks into siblings and feature sets overlap in
information), and a few features are "introduced late" and read 2 (Numerai's fill value) in early
eras. Dataset v5.3 appends a `quantum` set after v5.2's features: same v5.2 names and draws
first, then new features drawn from their own stream (noisy copies of v5.2 features or noise).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    n_base: int = 0  # v5.2-shaped features; quantum features (v5.3+) follow them
    quantum_base: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    quantum_threshold: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint8))

    @property
    def n_features(self) -> int:
        return len(self.names)

    @property
    def quantum(self) -> list[int]:
        return list(range(self.n_base, self.n_features))

    def feature_sets(self) -> dict[str, list[str]]:
        """features.json "feature_sets": small, medium, all, fncv3_features (the medium set:
        what FNC neutralizes against), the groups, then `quantum` when the version has it."""
        medium = [self.names[i] for i in self.medium]
        sets = {
            "small": [self.names[i] for i in self.small],
            "medium": medium,
            "all": list(self.names),
            "fncv3_features": list(medium),
        }
        sets.update({g: [self.names[i] for i in idx] for g, idx in self.groups.items()})
        if self.quantum:
            sets["quantum"] = [self.names[i] for i in self.quantum]
        return sets

    def draw(
        self,
        rng: np.random.Generator,
        n_rows: int,
        era_index: int | None,
        quantum_rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """One era's features as a (n_features, n_rows) int8 array (feature-major, so each
        column is contiguous for Arrow). `era_index=None` (live) means every feature exists.
        v5.2 features come from `rng` exactly as without quantum ones; those from `quantum_rng`."""
        x = np.empty((self.n_features, n_rows), dtype=np.int8)
        x[: self.n_base] = rng.integers(0, 5, size=(self.n_base, n_rows), dtype=np.int8)
        if len(self.members):
            u = rng.integers(0, 256, size=(len(self.members), n_rows), dtype=np.uint8)
            copy = u < self.member_threshold[:, None]
            x[self.members] = np.where(copy, x[self.member_base], x[self.members])
        if era_index is not None and len(self.late):
            x[self.late[self.late_intro_era > era_index]] = FILL_VALUE
        n_q = self.n_features - self.n_base
        if n_q:
            if quantum_rng is None:
                raise ValueError(f"{n_q} quantum features need a quantum_rng")
            q = quantum_rng.integers(0, 5, size=(n_q, n_rows), dtype=np.int8)
            u = quantum_rng.integers(0, 256, size=(n_q, n_rows), dtype=np.uint8)
            copy = u < self.quantum_threshold[:, None]
            x[self.n_base :] = np.where(copy, x[self.quantum_base], q)
        return x


def build_layout(scale: Scale, seed: int, n_quantum: int = 0) -> FeatureLayout:
    """Deterministic layout for (scale, seed); names depend on the scale only. `n_quantum` new
    features (v5.3) are appended without changing anything about the first `n_features`."""
    base = _build_base_layout(scale, seed)
    if not n_quantum:
        return base
    rng = np.random.default_rng([seed, 0, 53])
    qbase = rng.choice(base.n_base, n_quantum)  # noisy copies of v5.2 features, some faint
    rho = rng.uniform(0.0, 0.6, size=n_quantum)
    return replace(
        base,
        names=feature_names(base.n_base + n_quantum),
        quantum_base=qbase.astype(np.int64),
        quantum_threshold=np.round(rho * 256).astype(np.uint8),
    )


def _build_base_layout(scale: Scale, seed: int) -> FeatureLayout:
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
        n_base=n,
    )
