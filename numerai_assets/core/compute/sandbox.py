"""A stand-in for Numerai's model-upload container: the image's Python and pinned libraries in a
venv, one CPU, a memory limit, a time limit and no network.

The venv lives under ``<root>/<image python>-<hash of the pins>`` and is built once (pip, under
a file lock so concurrent builders wait for each other) and reused. A run executes ``runner.py``
by path with the venv's interpreter: ``unshare --net`` (needs root) takes the network away,
``RLIMIT_AS`` caps memory, the CPU affinity is one core, a timer kills it at the time limit, and
``wait4`` gives its peak resident memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from numerai_assets.core.compute.images import ImageSpec

RUNNER = Path(__file__).with_name("runner.py")
# The CPU-only build of the same ``xgboost`` module: the image's xgboost wheel also carries CUDA
# kernels and pulls a 200 MB NCCL wheel, which CPU inference never touches.
_DISTRIBUTION = {"xgboost": "xgboost-cpu"}
# numerai-tools 0.4.0 requires torch (for one meta-portfolio function); installed without its
# dependencies, its others (pandas, numpy, scipy, scikit-learn) come with the pins.
_NO_DEPS = ("numerai-tools",)
_RECIPE = "2"  # bump when the install recipe changes: a new venv, never a half-changed old one


class SandboxError(RuntimeError):
    """The sandbox itself cannot be built or started (not a verdict on the pickle)."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096
    timeout_s: float = 600.0
    cpus: int = 1
    network: bool = False  # True only by explicit choice (no isolation); recorded in the result


@dataclass(frozen=True)
class SandboxEnv:
    image: ImageSpec
    path: Path
    python: Path  # the venv's interpreter
    base_interpreter: str  # the interpreter it was made from, with its version


@dataclass(frozen=True)
class SandboxRun:
    returncode: int
    timed_out: bool
    seconds: float
    peak_mb: float
    result: dict  # runner.py's result.json ({} when it never wrote one)
    stderr_tail: str
    isolation: str  # how the network was taken away
    predictions_path: Path


def default_sandbox_root() -> Path:
    """``$NUMERAI_ASSETS_SANDBOX_CACHE``, else ``$NUMERAI_ASSETS_HOME/sandboxes`` (the home's default)."""
    cache = os.environ.get("NUMERAI_ASSETS_SANDBOX_CACHE")
    if cache:
        return Path(cache)
    return Path(os.environ.get("NUMERAI_ASSETS_HOME") or Path.cwd() / ".numerai_assets").resolve() / "sandboxes"


def find_interpreter(python: str, pyenv_root: Path | None = None) -> Path:
    """The newest CPython ``python`` (e.g. "3.12") under pyenv, else ``python3.12`` on PATH."""
    root = pyenv_root or Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted(
        (p for p in (root / "versions").glob(f"{python}.*") if (p / "bin" / "python").exists()),
        key=lambda p: tuple(int(x) for x in p.name.split(".") if x.isdigit()),
    )
    if found:
        return found[-1] / "bin" / "python"
    on_path = shutil.which(f"python{python}")
    if on_path:
        return Path(on_path)
    raise SandboxError(
        f"the image needs Python {python}, but no interpreter was found under {root / 'versions'} "
        f"(pyenv install {python}) nor as python{python} on PATH"
    )


def env_dir(root: Path, image: ImageSpec) -> Path:
    digest = hashlib.sha256(json.dumps([image.python, sorted(image.pins.items()), _RECIPE]).encode()).hexdigest()
    return Path(root) / f"py{image.python}-{digest[:12]}"


def ensure_env(root: str | Path, image: ImageSpec, *, log=print, pyenv_root: Path | None = None) -> SandboxEnv:
    """The image's venv, built once under a lock (minutes the first time: pip from the index)."""
    base = find_interpreter(image.python, pyenv_root)
    path = env_dir(Path(root), image)
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = path / "numerai_assets_sandbox.json"
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            shutil.rmtree(path, ignore_errors=True)  # a build killed half way
            log(f"building the {image.name} sandbox at {path} from {base} (pip install; once)")
            _build(path, base, image)
            version = _run([str(path / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0])"]).strip()
            marker.write_text(json.dumps({"image": image.name, "python": version, "pins": image.pins}, indent=2))
    info = json.loads(marker.read_text())
    return SandboxEnv(image, path, path / "bin" / "python", f"{base} (Python {info['python']})")


def _build(path: Path, base: Path, image: ImageSpec) -> None:
    _run([str(base), "-m", "venv", str(path)])
    pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    pins = {_DISTRIBUTION.get(name, name): version for name, version in image.pins.items()}
    _run(pip + [f"{n}=={v}" for n, v in sorted(pins.items()) if n not in _NO_DEPS])
    _run(pip + ["--no-deps"] + [f"{n}=={v}" for n, v in sorted(pins.items()) if n in _NO_DEPS])


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SandboxError(f"{' '.join(cmd[:6])} ... failed ({done.returncode}): {done.stderr[-3000:]}")
    return done.stdout


def network_isolation(limits: Limits) -> list[str]:
    """The command prefix that takes the network away; fails clearly where that is impossible."""
    if limits.network:
        return []
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        raise SandboxError(
            "no network isolation: 'unshare --net' needs root and util-linux "
            f"(euid {os.geteuid()}, unshare {'found' if unshare else 'missing'}); "
            "run as root, or set Limits(network=True) to knowingly run without it"
        )
    return [unshare, "--net"]


def run_pickle(
    env: SandboxEnv,
    pickle_path: str | Path,
    live_path: str | Path,
    benchmark_path: str | Path | None,
    out_dir: str | Path,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass
) -> SandboxRun:
    """Run the pickle on the live file under ``limits``; never raises for the pickle's failures."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").unlink(missing_ok=True)
    prefix = network_isolation(limits)
    cmd = [
        *prefix,
        str(env.python),
        "-I",
        str(RUNNER),
        str(pickle_path),
        str(live_path),
        str(benchmark_path or ""),
        str(out),
    ]
    threads = {k: str(limits.cpus) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    child_env = {"PATH": "/usr/bin:/bin", "HOME": str(out), "LANG": "C.UTF-8", **threads}
    memory = limits.memory_mb * 1024 * 1024
    cpus = sorted(os.sched_getaffinity(0))[: limits.cpus]

    def confine() -> None:
        os.setsid()
        os.sched_setaffinity(0, cpus)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    started = time.perf_counter()
    with open(out / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(cmd, stdout=err, stderr=err, env=child_env, preexec_fn=confine, cwd=out)
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(limits.timeout_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    result_file = out / "result.json"
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    return SandboxRun(
        returncode=proc.returncode,
        timed_out=expired.is_set(),
        seconds=round(seconds, 3),
        peak_mb=round(usage.ru_maxrss / 1024.0, 1),
        result=result,
        stderr_tail=(out / "stderr.txt").read_bytes()[-3000:].decode(errors="replace"),
        isolation="unshare --net" if prefix else "none (network allowed by configuration)",
        predictions_path=out / "predictions.parquet",
    )
