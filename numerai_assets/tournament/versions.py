"""What differs between dataset versions: benchmark column prefix and the v5.3 quantum set.

Facts from /work/shared/reference/numerai.md: benchmark columns are `v5_lgbm_*` in v5.0,
`v52_lgbm_*` in v5.2 and `v53_lgbm_*` in v5.3; v5.3 adds a `quantum` set of 807 new features to
v5.2's 2,748 (about 29% more), which smaller scales keep in proportion.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v(\d+)\.(\d+)$")
QUANTUM_SINCE = (5, 3)
QUANTUM_FULL, V52_FULL = 807, 2_748
MIN_QUANTUM = 3


def parse_version(version: str) -> tuple[int, int]:
    """'v5.3' -> (5, 3); anything else fails naming the value."""
    m = _VERSION.match(version) if isinstance(version, str) else None
    if m is None:
        raise ValueError(f"version must look like 'v5.3', got {version!r}")
    return int(m.group(1)), int(m.group(2))


def benchmark_prefix(version: str) -> str:
    """'v5.3' -> 'v53', 'v5.2' -> 'v52', 'v5.0' -> 'v5' (Numerai drops a zero minor)."""
    major, minor = parse_version(version)
    return f"v{major}{minor}" if minor else f"v{major}"


def n_quantum_features(version: str, n_base_features: int) -> int:
    """How many quantum features `version` adds to a v5.2-shaped layout of `n_base_features`."""
    if parse_version(version) < QUANTUM_SINCE:
        return 0
    return max(MIN_QUANTUM, round(n_base_features * QUANTUM_FULL / V52_FULL))


def sort_versions(versions: list[str]) -> list[str]:
    """Oldest first, by number (so v5.10 sorts after v5.9)."""
    return sorted(set(versions), key=parse_version)
