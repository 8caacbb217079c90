"""The planted signal: a drifting latent score, the targets binned from it, and fake models.

The latent is a weighted sum of unit-variance terms of the signal features (linear, pairwise
interactions, abs and threshold non-linearities). Term weights are stable, drift smoothly, or
switch sign/off in blocks of eras (regimes), so a model fitted on train eras meets eras where its
learned weights are wrong: that is what makes validation CORR vary and draw down. Targets are
per-era quantile bins of `snr * era_multiplier * latent + noise`; since the generator knows both,
it knows E[target | features, era] exactly (the oracle).

Benchmarks, the meta model and the example predictions use the train-averaged weights (what a
static model can learn at best), plus errors that are functions of useless features (spurious
fits) and idiosyncratic noise.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from numerai_assets.tournament.layout import FeatureLayout
from numerai_assets.tournament.scales import ALL_TARGET_NAMES, BENCHMARK_TARGET_NAMES, Scale

SNR = 0.065  # latent weight against unit noise; sets the oracle CORR (~0.05 per era)
BIN_CUTS = np.array([0.05, 0.25, 0.75, 0.95])  # 5/20/50/20/5 % of each era
_ABS_MEAN = (2 * math.sqrt(2) + 2 / math.sqrt(2)) / 5  # E|x| for x = (f - 2) / sqrt(2)
_LINEAR, _INTERACTION, _ABS, _THRESHOLD = 0, 1, 2, 3
_STABLE, _DRIFT, _REGIME = 0, 1, 2
STREAM_FEATURES, STREAM_TARGETS, STREAM_PREDICTIONS, STREAM_ERA = 1, 2, 3, 4
STREAM_REGIME = 5
STREAM_NAN, STREAM_QUANTUM = 6, 7  # profile NaN masks; v5.3 quantum features
LIVE_STREAM_OFFSET = 10  # live rounds use stream + 10 with the round number as the era key


def era_rng(seed: int, stream: int, key: int) -> np.random.Generator:
    """Independent generator per (seed, stream, era): output never depends on batching."""
    return np.random.default_rng([seed, stream, key])


def rank01(values: np.ndarray) -> np.ndarray:
    """Per-era rank scaled into (0, 1), as Numerai's prediction files are."""
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    return ((ranks + 0.5) / len(values)).astype(np.float32)


def _z(values: np.ndarray) -> np.ndarray:
    std = values.std()
    return (values - values.mean()) / (std if std > 0 else 1.0)


class SignalModel:
    """Everything about the target that is fixed for a (scale, seed) tournament."""

    def __init__(self, scale: Scale, seed: int, layout: FeatureLayout) -> None:
        rng = np.random.default_rng([seed, 1])
        self.seed, self.layout = seed, layout
        n_sig = len(layout.signal)
        n_int, n_nl = max(2, n_sig // 3), max(2, n_sig // 4)
        pairs = np.array([rng.choice(n_sig, 2, replace=False) for _ in range(n_int)])
        self.kind = np.concatenate([[_LINEAR] * n_sig, [_INTERACTION] * n_int, rng.choice([_ABS, _THRESHOLD], n_nl)])
        self.a = np.concatenate([np.arange(n_sig), pairs[:, 0], rng.choice(n_sig, n_nl)])
        self.b = np.concatenate([np.zeros(n_sig, int), pairs[:, 1], np.zeros(n_nl, int)])
        k = len(self.kind)
        scale_by_kind = np.array([1.0, 0.8, 0.8, 0.8])[self.kind]
        sign = rng.choice([-1.0, 1.0], k)
        self.magnitude = sign * scale_by_kind * rng.lognormal(0.0, 0.6, k)
        dyn_p = np.array([[0.45, 0.3, 0.25], [0.4, 0.3, 0.3], [0.6, 0.2, 0.2], [0.6, 0.2, 0.2]])
        self.dynamics = np.array([rng.choice(3, p=dyn_p[kd]) for kd in self.kind])
        self.period = rng.uniform(30, 200, k)
        self.phase = rng.uniform(0, 2 * np.pi, k)
        self.offset = rng.uniform(-0.2, 0.8, k)
        self.block_len = rng.integers(6, 41, k)
        self._regime_cache: dict[tuple[int, int], float] = {}

        # Auxiliary targets: their own direction mixed with the main one, partly shared noise.
        # Drawn for every name (whatever the scale uses) so benchmarks always have a target.
        m = len(ALL_TARGET_NAMES)
        self.target_names = sorted(scale.target_names)
        self.aux_rho = dict(zip(ALL_TARGET_NAMES, rng.uniform(0.4, 0.95, m), strict=False))
        self.aux_noise_corr = dict(zip(ALL_TARGET_NAMES, rng.uniform(0.4, 0.85, m), strict=False))
        self.aux_snr = dict(zip(ALL_TARGET_NAMES, rng.uniform(0.8, 1.1, m), strict=False))
        self.aux_dir = {n: _unit(rng.standard_normal(k)) for n in ALL_TARGET_NAMES}
        self.aux_rho["ender"], self.aux_noise_corr["ender"], self.aux_snr["ender"] = 1.0, 1.0, 1.0
        self.target_columns = ["target"] + sorted(f"target_{n}_{h}" for n in scale.target_names for h in (20, 60))
        aux = self.target_columns[1:]
        self.nan_rate = dict(zip(aux, rng.uniform(0.0, 0.03, len(aux)), strict=False))
        late_start = rng.integers(1, max(2, int(0.08 * scale.n_train_eras)), len(aux))
        has_late = rng.random(len(aux)) < 0.3
        self.nan_before = {c: int(s) if h else 0 for c, s, h in zip(aux, late_start, has_late, strict=False)}
        self.nan_before["target_ender_20"] = 0
        self.nan_rate["target_ender_20"] = 0.0

        # What a static model can learn: the train-averaged weights.
        self.static = _unit(np.mean([self.coefficients(t) for t in range(scale.n_train_eras)], 0))
        small = np.isin(layout.signal, layout.small)
        in_small = small[self.a] & (small[self.b] | (self.kind != _INTERACTION))
        self.static_small = _unit(np.where(in_small, self.static, 0.0) + 1e-9)
        # Directions of the fake models: one per benchmark target (leaning on the main signal),
        # then the plain static weights and those restricted to the small feature set.
        bench_dirs = [
            _unit(
                math.sqrt(self.aux_rho[m]) * self.static + math.sqrt(1 - self.aux_rho[m]) * self.aux_dir[m]
            )  # fmt: skip
            for m in BENCHMARK_TARGET_NAMES
        ]
        dirs = bench_dirs + [self.static, self.static_small]
        self.static_dirs = np.asarray(dirs, dtype=np.float32)
        non_signal = np.setdiff1d(np.arange(layout.n_base), layout.signal)
        n_spur = min(24, len(non_signal) // 2)
        self.spur_idx = np.stack([rng.choice(non_signal, n_spur, False) for _ in range(9)])
        self.spur_w = rng.standard_normal((9, n_spur))

    def _regime(self, term: int, block: int) -> float:
        key = (term, block)
        if key not in self._regime_cache:
            r = np.random.default_rng([self.seed, STREAM_REGIME, term, block])
            self._regime_cache[key] = float(r.choice([1.0, -1.0, 0.0], p=[0.6, 0.25, 0.15]))
        return self._regime_cache[key]

    def coefficients(self, era_index: int) -> np.ndarray:
        """Unit-norm term weights of one era (0-based era index; live eras continue after)."""
        g = np.ones(len(self.kind))
        drift = self.dynamics == _DRIFT
        g[drift] = self.offset[drift] + np.sin(2 * np.pi * era_index / self.period[drift] + self.phase[drift])
        for k in np.flatnonzero(self.dynamics == _REGIME):
            g[k] = self._regime(int(k), era_index // int(self.block_len[k]))
        return _unit(self.magnitude * g)

    def terms(self, features: np.ndarray) -> np.ndarray:
        """(n_terms, n_rows) float32 unit-variance terms from (n_features, n_rows) int8."""
        f = features[self.layout.signal]
        x = (f.astype(np.float32) - 2.0) / np.float32(math.sqrt(2))
        xa, xb = x[self.a], x[self.b]
        out = np.where((self.kind == _LINEAR)[:, None], xa, xa * xb)
        absx = (np.abs(xa) - _ABS_MEAN) / math.sqrt(1 - _ABS_MEAN**2)
        out = np.where((self.kind == _ABS)[:, None], absx, out)
        thr = ((f[self.a] >= 3).astype(np.float32) - 0.4) / math.sqrt(0.24)
        return np.where((self.kind == _THRESHOLD)[:, None], thr, out).astype(np.float32)

    def era_strength(self, rng: np.random.Generator) -> float:
        """Signal multiplier of an era: some eras are much harder than others."""
        return float(rng.lognormal(0.0, 0.45))

    def targets(
        self,
        terms: np.ndarray,
        era_index: int,
        strength: float,
        rng: np.random.Generator,
        unresolved_60: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n_targets, n_rows) float32 targets and the main target's E[target | features]."""
        n = terms.shape[1]
        c = self.coefficients(era_index)
        a = SNR * strength
        names = self.target_names
        dirs = [c] + [_unit(self.aux_rho[m] * c + math.sqrt(1 - self.aux_rho[m] ** 2) * self.aux_dir[m]) for m in names]
        latents = np.asarray(dirs, dtype=np.float32) @ terms  # one BLAS call for all targets
        latent = latents[0]
        eps = rng.standard_normal(n, dtype=np.float32)
        out = np.empty((len(self.target_columns), n), dtype=np.float32)
        main, cuts = _bin5(a * latent + eps)
        out[0] = main
        col = {name: i for i, name in enumerate(self.target_columns)}
        oracle = (0.25 * ndtr(a * latent[:, None] - cuts[None, :]).sum(axis=1)).astype(np.float32)
        for lat, name in zip(latents[1:], names, strict=False):
            r = self.aux_noise_corr[name]
            e20 = r * eps + math.sqrt(1 - r**2) * rng.standard_normal(n, dtype=np.float32)
            e60 = 0.6 * e20 + 0.8 * rng.standard_normal(n, dtype=np.float32)
            s = a * self.aux_snr[name]
            out[col[f"target_{name}_20"]] = main if name == "ender" else _bin5(s * lat + e20)[0]
            out[col[f"target_{name}_60"]] = _bin5(0.75 * s * lat + e60)[0]
        for name, i in col.items():
            if name == "target":
                continue
            if era_index < self.nan_before[name] or (unresolved_60 and name.endswith("_60")):
                out[i] = np.nan
            elif self.nan_rate[name] > 0:
                out[i, rng.random(n, dtype=np.float32) < self.nan_rate[name]] = np.nan
        return out, oracle

    def predictions(
        self, terms: np.ndarray, features: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Benchmarks (8, n), meta model (n,) and example predictions (n,), ranks in (0, 1)."""
        n = terms.shape[1]
        spur = np.einsum("ks,ksn->kn", self.spur_w, features[self.spur_idx].astype(np.float32) - 2.0)
        spur = np.stack([_z(s) for s in spur])
        learned = np.stack([_z(v) for v in self.static_dirs @ terms])
        raw = []
        for i in range(len(BENCHMARK_TARGET_NAMES)):
            base = learned[i] + 0.6 * spur[0] + 0.4 * spur[1 + i]
            for horizon_noise in (0.6, 0.8):  # the 60-day models fit the 20-day target worse
                raw.append(base + horizon_noise * rng.standard_normal(n, dtype=np.float32))
        bench = np.stack([rank01(r) for r in raw])
        static, static_small = learned[-2], learned[-1]
        stake_weighted = _z(np.mean(raw, axis=0)) + static
        meta = rank01(_z(stake_weighted) + 0.35 * rng.standard_normal(n, dtype=np.float32))
        example = _z(static_small + static) + 0.6 * spur[5]
        example += 0.7 * rng.standard_normal(n, dtype=np.float32)
        return bench, meta, rank01(example)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _bin5(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-era quantile bins {0, .25, .5, .75, 1} (5/20/50/20/5 %) and the cut values used."""
    n = len(y)
    order = np.argsort(y, kind="stable")
    bins = np.empty(n, dtype=np.float32)
    bounds = np.round(BIN_CUTS * n).astype(int)
    bins[order] = np.searchsorted(bounds, np.arange(n), side="right").astype(np.float32) * 0.25
    ys = y[order]
    lo, hi = np.clip(bounds - 1, 0, n - 1), np.clip(bounds, 0, n - 1)
    return bins, (ys[lo] + ys[hi]) / 2
