"""Run a model-upload pickle as Numerai's runner does; executed BY PATH inside the sandbox venv.

Standalone on purpose (the sandbox has only the image's libraries, not numerai_assets):
``pd.read_pickle`` the file, count the function's parameters (1: live features; 2: plus the live
benchmark models), call it once per era, require a same-length DataFrame without NaN whose first
column is in [0, 1], then numerai-tools' submission validator. Writes ``predictions.parquet``
(id, prediction) and ``result.json`` (the stage reached, the error, seconds, peak memory).

Usage: python runner.py PICKLE LIVE_PARQUET BENCHMARK_PARQUET OUT_DIR
"""

import inspect
import json
import os
import resource
import sys
import time
import traceback
import types


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _validator():
    """numerai_tools.submissions; its scoring module imports torch for one function it does not
    use here (meta-portfolio contribution), and the sandbox does not install torch: a placeholder
    module stands in only when torch is absent, after the pickle has run."""
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.modules["torch"] = types.ModuleType("torch")
    from numerai_tools import submissions

    return submissions


def _call_per_era(model, live, benchmark):
    import pandas as pd

    n_params = len(inspect.signature(model).parameters)
    parts = []
    for era, frame in live.groupby("era", sort=False):
        args = (frame,) if n_params == 1 else (frame, benchmark.reindex(frame.index) if benchmark is not None else None)
        out = model(*args)
        if not isinstance(out, pd.DataFrame):
            raise TypeError(f"era {era}: predict returned {type(out).__name__}, not a pandas DataFrame")
        if len(out) != len(frame):
            raise ValueError(f"era {era}: predict returned {len(out)} rows for {len(frame)} live rows")
        first = out.iloc[:, 0]
        if first.isna().any():
            raise ValueError(f"era {era}: {int(first.isna().sum())} NaN predictions")
        if not first.between(0, 1).all():
            raise ValueError(f"era {era}: predictions outside [0, 1] (min {first.min()}, max {first.max()})")
        parts.append(pd.Series(first.to_numpy(), index=out.index, name="prediction"))
    return pd.concat(parts)


def main(pickle_path, live_path, benchmark_path, out_dir):
    started = time.perf_counter()
    result: dict = {"stage": "start", "python": sys.version.split()[0]}

    def finish(code):
        result["seconds"] = round(time.perf_counter() - started, 3)
        result["peak_rss_mb"] = round(_peak_mb(), 1)
        with open(os.path.join(out_dir, "result.json"), "w") as fh:
            json.dump(result, fh)
        return code

    try:
        import pandas as pd

        result["stage"] = "load"
        model = pd.read_pickle(pickle_path)
        result["stage"] = "predict"
        live = pd.read_parquet(live_path)
        benchmark = pd.read_parquet(benchmark_path) if benchmark_path and os.path.exists(benchmark_path) else None
        predictions = _call_per_era(model, live, benchmark)
        result["stage"] = "validate"
        submissions = _validator()
        frame = pd.DataFrame({"id": predictions.index.astype(str), "prediction": predictions.to_numpy()})
        id_col, pred_col = submissions.validate_headers_numerai(frame)
        submissions.validate_values(frame, pred_col)
        submissions.validate_ids_numerai(live.index.to_series().astype(str), frame, id_col)
        frame.to_parquet(os.path.join(out_dir, "predictions.parquet"), index=False)
        import numerai_tools

        result["versions"] = {m.__name__: getattr(m, "__version__", "?") for m in (pd, sys.modules["numpy"])}
        result["versions"]["numerai_tools"] = getattr(numerai_tools, "__version__", "?")
        result["stage"] = "done"
        return finish(0)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, MemoryError included
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        result["traceback"] = traceback.format_exc()[-4000:]
        return finish(1)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
