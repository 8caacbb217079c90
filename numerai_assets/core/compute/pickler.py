"""Pickle ``runtime.make_predict(spec)`` with THIS interpreter; executed BY PATH with the image's Python.

cloudpickle writes a by-value function as the interpreter's bytecode, which another Python minor
version misreads (a 3.11-built pickle segfaults in a 3.12 image): so the pickle is made by the
image's own Python and cloudpickle, in the sandbox venv. The spec arrives as a plain-data pickle
(dict, list, str, bytes, float), which every Python reads the same.

Usage: python pickler.py SPEC_PICKLE RUNTIME_PY OUT_PICKLE
"""

import importlib.util
import pickle
import sys

import cloudpickle


def main(spec_path, runtime_path, out_path):
    module_spec = importlib.util.spec_from_file_location("numerai_upload_runtime", runtime_path)
    assert module_spec is not None and module_spec.loader is not None, runtime_path  # a .py path has both
    runtime = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = runtime  # registered by value: the image never imports it
    module_spec.loader.exec_module(runtime)
    cloudpickle.register_pickle_by_value(runtime)
    with open(spec_path, "rb") as fh:
        spec = pickle.load(fh)
    with open(out_path, "wb") as fh:
        fh.write(cloudpickle.dumps(runtime.make_predict(spec), protocol=5))


if __name__ == "__main__":
    main(*sys.argv[1:4])
