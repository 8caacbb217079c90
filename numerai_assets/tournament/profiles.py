"""Named convention profiles: Numerai as documented, plus one deviation each.

Where Numerai's conventions are uncertain or have more than one legitimate form (see
/work/shared/reference/numerai.md, "Conventions that our own data must not hide"), the platform
must be tested against every form. A profile is the documented default with one switch flipped;
`Profile` fields can be combined in code (`dataclasses.replace`) when a test needs more than one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from numerai_assets.tournament.scales import lookup

DEFAULT_PROFILE = "numerai"
DEFAULT_VERSION = "v5.3"  # the newest dataset version (reference: v5.3, 2026-07-16)
NEXT_ERA = "next-era"  # live_era value: the round's would-be era label (see Profile.live_era)


@dataclass(frozen=True)
class Profile:
    """Switches of one convention profile; the defaults are documented Numerai.

    - `version`: dataset version generated when none is asked for.
    - `unresolved_data_type`: label of the newest validation eras whose targets are all NaN
      ("validation" as documented; "test" is the other form seen in the wild).
    - `live_targets`: live.parquet carries every target column, all NaN (documented: none).
    - `benchmark_data_type`: benchmark and meta-model files carry a `data_type` column.
    - `live_era`: era value of live rows: "X" (documented), any other literal, or `NEXT_ERA`
      for the zero-padded label the round's era would have (validation's last era + round).
    - `nan_features`: how many features are stored as float32 with NaN values ("not available at
      that point in time") in train, validation and live; the rest stay int8.
    """

    name: str
    description: str
    version: str = DEFAULT_VERSION
    unresolved_data_type: str = "validation"
    live_targets: bool = False
    benchmark_data_type: bool = True
    live_era: str = "X"
    nan_features: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


_NUMERAI = Profile(
    DEFAULT_PROFILE,
    "documented Numerai: v5.3, unresolved tail labelled "
    "validation, live without targets, benchmarks with data_type, live era X",
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        _NUMERAI,
        replace(
            _NUMERAI,
            name="v52_layout",
            version="v5.2",
            description="dataset v5.2: v52_ benchmark names, no quantum feature set",
        ),
        replace(_NUMERAI, name="v53_layout", version="v5.3", description="dataset v5.3, explicit"),
        replace(
            _NUMERAI,
            name="unresolved_tail_test",
            unresolved_data_type="test",
            description="the unresolved validation tail labelled data_type 'test'",
        ),
        replace(
            _NUMERAI,
            name="live_nan_targets",
            live_targets=True,
            description="live.parquet has every target column, all NaN",
        ),
        replace(
            _NUMERAI,
            name="benchmark_no_data_type",
            benchmark_data_type=False,
            description="benchmark and meta_model files without a data_type column",
        ),
        replace(
            _NUMERAI,
            name="live_era_placeholder",
            live_era=NEXT_ERA,
            description="live rows carry the round's would-be era label instead of 'X'",
        ),
        replace(
            _NUMERAI,
            name="feature_nan",
            nan_features=2,
            description="two features stored as float32 with NaN values, others int8",
        ),
    )
}


def get_profile(name: str) -> Profile:
    """Look a profile up by name; unknown names fail with the valid choices."""
    return lookup(PROFILES, name, "profile")
