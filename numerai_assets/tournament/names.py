"""Deterministic, realistic feature names and v5.2 feature-group sizes.

Real Numerai features are obfuscated pseudo-words (`feature_honoured_observational_balaamite`);
names here look the same, are unique, and do not depend on the tournament seed, so the same
scale always has the same columns.
"""

from __future__ import annotations

import numpy as np

# v5.2 feature groups and their sizes out of 2,748 features; the rest belong to no group.
V52_GROUP_SIZES: dict[str, int] = {
    "constitution": 335,
    "charisma": 290,
    "agility": 145,
    "wisdom": 140,
    "strength": 135,
    "serenity": 95,
    "dexterity": 51,
    "intelligence": 35,
}
V52_N_FEATURES = 2_748

_FIRST = (
    "abating abiding ablaze adroit aery affable agog airy alar amber ample angled arced ashen "
    "astral atonal august avid azure baggy balmy banded barbed bare beaded benign bent bitter "
    "blithe bluish bold brainy brisk broody burly busy callow canny carved casual chalky cheery "
    "chilly civic clammy classy coarse cobbled comely cosy covert crafty creamy crisp cubic "
    "curly daft dainty dapper deft dense dewy dingy direct dreamy dusky eager earthy edgy elfin "
    "elder emery epic even fabled feral fiery filmy finite fluted foamy frail frank frisky fuzzy"
).split()
_SECOND = (
    "abiotic acerate adamant adorned aligned anodyne arboreal ascetic assorted baronial beveled "
    "bilobate biparous blinking bodied boneless brimful bristled brutish buffeted canonic carnal "
    "cataleptic chiliastic churchly circular cleansed clerical coastal combined conjoined "
    "consular coronal cramped crested cursive damning deckled deviant dilute distal dorsal "
    "dotted drowsy ductile eastbound elective enclosed ensuing equine errant ethereal exempt "
    "faunal feathery fibroid filial fitted floral fluvial foliate forked frontal fungal gabled "
    "gilded glottal gradual granular gravid gusty hackly hairless hallowed hardened"
).split()
_NOUNS = (
    "abbot acorn adder alcove almond anvil apiary archer armada atoll badger bagpipe ballast "
    "banyan barley basalt beacon bellows bishop bittern blazer bobbin bollard bonnet bracken "
    "brigand bulwark burrow cabin caliper canopy caravan carbine cassock cellar chalice "
    "chariot cinder citadel clarion cobalt colander comet corsair cowl crescent crofter "
    "cudgel cutlass dagger damson delta dervish dingo dolmen dormer dowager drover dulcimer "
    "eddy egret ember ermine estuary falcon fathom felucca fennel ferrule fiddle firkin "
    "flagon flotilla foundry fresco furlong gable galleon gantry garnet gazebo gibbet glacier "
    "goblet granary griffin grotto gudgeon halberd hamlet harrier hawser heron hillock hornet"
).split()


def feature_names(n: int) -> list[str]:
    """The first `n` of a fixed, seed-independent sequence of unique feature names."""
    capacity = len(_FIRST) * len(_SECOND) * len(_NOUNS)
    if not 0 <= n <= capacity:
        raise ValueError(f"n must be in [0, {capacity}], got {n}")
    rng = np.random.default_rng(20251216)  # fixed: names never depend on the tournament seed
    codes = rng.permutation(capacity)[:n]
    a, rest = np.divmod(codes, len(_SECOND) * len(_NOUNS))
    b, c = np.divmod(rest, len(_NOUNS))
    return [f"feature_{_FIRST[i]}_{_SECOND[j]}_{_NOUNS[k]}" for i, j, k in zip(a, b, c, strict=False)]


def group_sizes(n_features: int) -> dict[str, int]:
    """v5.2 group sizes scaled to `n_features` (each group keeps at least one feature)."""
    sizes = {g: max(1, round(s * n_features / V52_N_FEATURES)) for g, s in V52_GROUP_SIZES.items()}
    if sum(sizes.values()) > n_features:
        raise ValueError(f"{n_features} features cannot hold the {len(sizes)} feature groups")
    return sizes
