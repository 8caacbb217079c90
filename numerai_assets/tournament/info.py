"""`tournament.json`: what a generated tournament holds, for the server, tests and users.

`<root>/tournament.json` describes the newest version under the root and lists every version
generated there; `<root>/_versions/<version>.json` describes each one (written last for its
version, so its presence marks that version complete).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from numerai_assets.tournament.profiles import Profile, get_profile
from numerai_assets.tournament.writer import write_text_atomic

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
            raw.setdefault("profile", "legacy")
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
        raise FileNotFoundError(f"{root} holds no generated {version} (has {', '.join(info.versions)})")
    return info


def existing_versions(root: Path, scale: str, seed: int, prof: Profile) -> list[str]:
    """Versions already under `root`; refuses a root generated with other parameters."""
    if not (root / INFO_FILE).is_file():
        return []
    info = load_tournament_info(root)
    have = (info.scale, info.seed, _switches(profile_of(info)))
    if have != (scale, seed, _switches(prof)):
        raise ValueError(
            f"{root} already holds a tournament with scale={info.scale!r}, seed={info.seed}, "
            f"profile={info.profile!r}; asked for scale={scale!r}, seed={seed}, "
            f"profile={prof.name!r}: use another root or delete this one"
        )
    if not version_info_path(root, info.version).is_file():  # generator 1: one version only
        write_text_atomic(version_info_path(root, info.version), info.to_json())
    return list(info.versions)


def write_infos(root: Path, versions: list[str]) -> None:
    """Every version's info lists all versions; tournament.json is the newest's (written last)."""
    texts = {
        version_info_path(root, v): replace(load_tournament_info(root, v), versions=versions).to_json()
        for v in versions
    }
    texts[root / INFO_FILE] = texts[version_info_path(root, versions[-1])]
    for path, text in texts.items():  # unchanged files are not touched: a rerun is a no-op
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_text_atomic(path, text)


def profile_of(info: TournamentInfo) -> Profile:
    if info.profile_switches:
        return Profile(**info.profile_switches)  # type: ignore[arg-type]
    if info.unresolved_data_type == "test":  # generator 1
        return replace(get_profile("unresolved_tail_test"), name="legacy", live_targets=True, version=info.version)
    return get_profile(info.profile)


def _switches(prof: Profile) -> dict[str, object]:
    """The conventions a root is generated with (name, description, version aside)."""
    d = prof.to_dict()
    for key in ("name", "description", "version"):
        d.pop(key)
    return d
