"""`tournament.json`: what a generated tournament holds, for the server, tests and users.

`<root>/tournament.json` describes the newest version under the root and lists every version
generated there; `<root>/_versions/<version>.json` describes each one (written last for its
version, so its presence marks that version complete).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

INFO_FILE = "tournament.json"
VERSIONS_DIR = "_versions"
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class TournamentInfo:
    """Summary of one generated dataset version.

    `validation_eras` spans all of validation.parquet; its last eras (`unresolved_eras`) have no
    targets at all and carry data_type `unresolved_data_type` ("validation" as Numerai
    documents, or "test" under the `unresolved_tail_test` profile). CORR figures are mean and
    Sharpe of per-era `numerai_corr` against `target` over the resolved validation eras;
    `validation_corr_*` covers the benchmark columns, the meta model and the example predictions.
    `live_era` is the era value of live rows ("next-era": the round's would-be era label).
    """

    version: str
    scale: str
    seed: int
    n_features: int
    feature_sets: dict[str, int]
    targets: list[str]
    benchmark_columns: list[str]
    train_eras: tuple[str, str]
    validation_eras: tuple[str, str]
    oracle_validation_corr_mean: float
    oracle_validation_corr_sharpe: float
    unresolved_eras: tuple[str, str] | None = None
    unresolved_data_type: str = "validation"
    benchmark_train_start_era: str = ""
    n_train_rows: int = 0
    n_validation_rows: int = 0
    validation_corr_mean: dict[str, float] = field(default_factory=dict)
    validation_corr_sharpe: dict[str, float] = field(default_factory=dict)
    main_target: str = "target"
    target_alias: str = "target_ender_20"  # the column `target` equals (the round's target)
    live_era: str = "X"
    profile: str = "numerai"
    profile_switches: dict[str, object] = field(default_factory=dict)
    versions: list[str] = field(default_factory=list)  # every version under the root
    generator_version: int = GENERATOR_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> TournamentInfo:
        raw = json.loads(text)
        if "test_eras" in raw:  # generator_version 1 called the unresolved tail "test"
            raw["unresolved_eras"] = raw.pop("test_eras")
            raw.setdefault("unresolved_data_type", "test")
        for key in ("train_eras", "validation_eras", "unresolved_eras"):
            if raw.get(key) is not None:
                raw[key] = tuple(raw[key])
        raw.setdefault("versions", [raw["version"]])
        return cls(**raw)


def version_info_path(root: Path, version: str) -> Path:
    return root / VERSIONS_DIR / f"{version}.json"


def load_tournament_info(root: Path | str, version: str | None = None) -> TournamentInfo:
    """The root's info (its newest version), or one version's; FileNotFoundError names the root."""
    root = Path(root)
    if version is not None and version_info_path(root, version).is_file():
        return TournamentInfo.from_json(version_info_path(root, version).read_text("utf-8"))
    path = root / INFO_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no generated tournament at {root} ({INFO_FILE} missing)")
    info = TournamentInfo.from_json(path.read_text(encoding="utf-8"))
    if version is not None and version != info.version:
        raise FileNotFoundError(
            f"{root} holds no generated {version} (has {', '.join(info.versions)})"
        )
    return info
