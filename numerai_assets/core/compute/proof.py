"""The proof a pickle must pass before it is uploaded: one sandbox run, four verdicts.

``loads_in_image``: the image's Python and libraries unpickle it and call it. ``within_limits``:
it finished under the time and memory limits (1 CPU, no network). ``valid_submission``: its output
passes Numerai's checks and numerai-tools' validator. ``equals_live_path``: it equals our own live
predictions for the same file within ``TOLERANCE``. Each failed verdict says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from numerai_assets.core.compute.sandbox import Limits, SandboxEnv, SandboxRun, run_pickle

TOLERANCE = 1e-6  # absolute, on predictions that are per-era ranks in (0, 1)
CHECKS = ("loads_in_image", "within_limits", "valid_submission", "equals_live_path")
_PAST_LOAD = ("predict", "validate", "done")
# How an address-space limit shows: Python's MemoryError, a native allocator's message, or a
# shared library that cannot be mapped while importing.
_OUT_OF_MEMORY = re.compile(r"MemoryError|Cannot allocate memory|bad_alloc|failed to map segment|out of memory", re.I)


@dataclass(frozen=True)
class Verdict:
    name: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class Proof:
    verdicts: tuple[Verdict, ...]
    run: SandboxRun
    interpreter: str
    limits: Limits
    max_abs_diff: float | None

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    def failures(self) -> list[str]:
        return [f"{v.name}: {v.reason}" for v in self.verdicts if not v.passed]

    def metadata(self) -> dict:
        return {
            "sandbox_interpreter": self.interpreter,
            "sandbox_python": self.run.result.get("python", "?"),
            "network_isolation": self.run.isolation,
            "peak_mb": self.run.peak_mb,
            "seconds": self.run.seconds,
            "memory_limit_mb": self.limits.memory_mb,
            "timeout_s": self.limits.timeout_s,
            "max_abs_diff": self.max_abs_diff,
            "tolerance": TOLERANCE,
        }


def prove_pickle(
    env: SandboxEnv,
    pickle_path: str | Path,
    live_path: str | Path,
    benchmark_path: str | Path | None,
    expected: pd.Series,
    out_dir: str | Path,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass
) -> Proof:
    """Run the pickle in the sandbox on ``live_path`` and judge it; ``expected`` is our live path's
    predictions (index id) for the same file."""
    run = run_pickle(env, pickle_path, live_path, benchmark_path, out_dir, limits)
    stage, error = run.result.get("stage"), run.result.get("error", "")
    died = _died(run, limits)
    loads = Verdict(
        "loads_in_image",
        stage in _PAST_LOAD,
        f"loaded and called under {env.base_interpreter}"
        if stage in _PAST_LOAD
        else f"failed to load under {env.base_interpreter}: {error or died}",
    )
    over = _over_limits(run, limits)
    limits_verdict = Verdict(
        "within_limits",
        not over,
        f"{run.seconds:.1f} s, peak {run.peak_mb:.0f} MB" + (f": {'; '.join(over)}" if over else ""),
    )
    valid = Verdict(
        "valid_submission",
        stage == "done",
        "passed numerai-tools' validator" if stage == "done" else f"not valid (stage {stage}): {error or died}",
    )
    diff, equal = _compare(run, expected)
    return Proof((loads, limits_verdict, valid, equal), run, env.base_interpreter, limits, diff)


def _died(run: SandboxRun, limits: Limits) -> str:
    if run.timed_out:
        return f"killed at the {limits.timeout_s:.0f} s time limit"
    return f"exit code {run.returncode}, no result written; stderr: {run.stderr_tail[-500:]}"


def _over_limits(run: SandboxRun, limits: Limits) -> list[str]:
    over = []
    if run.timed_out:
        over.append(f"killed at the {limits.timeout_s:.0f} s time limit")
    error = run.result.get("error", "")
    if _OUT_OF_MEMORY.search(error + "\n" + run.stderr_tail) or run.peak_mb > limits.memory_mb:
        over.append(f"out of memory at the {limits.memory_mb} MB limit ({error[:200] or 'peak'})")
    elif not run.result and not run.timed_out:
        over.append(f"died without a result (exit code {run.returncode}): {run.stderr_tail[-300:]}")
    return over


def _compare(run: SandboxRun, expected: pd.Series) -> tuple[float | None, Verdict]:
    if run.result.get("stage") != "done" or not run.predictions_path.exists():
        return None, Verdict("equals_live_path", False, "no predictions to compare (the run did not finish)")
    got = pd.read_parquet(run.predictions_path).set_index("id")["prediction"]
    missing = expected.index.difference(got.index)
    extra = got.index.difference(expected.index)
    if len(missing) or len(extra):
        return None, Verdict(
            "equals_live_path", False, f"ids differ: {len(missing)} missing, {len(extra)} not in our predictions"
        )
    diff = float(np.max(np.abs(got.reindex(expected.index).to_numpy() - expected.to_numpy()))) if len(got) else 0.0
    worst = expected.index[int(np.argmax(np.abs(got.reindex(expected.index).to_numpy() - expected.to_numpy())))]
    return diff, Verdict(
        "equals_live_path",
        diff <= TOLERANCE,
        f"max |pickle - live path| = {diff:.2e} (tolerance {TOLERANCE:.0e})"
        + ("" if diff <= TOLERANCE else f", worst at id {worst}"),
    )
