"""Pickle ``runtime.make_predict(spec)`` with THIS interpreter; executed BY PATH with the image's Python.

cloudpickle writes a by-value function as the interpreter's bytecode, which another Python minor
version misreads (a 3.11-built pickle segfaults in a 3.12 image): so the pickle is made by the
image's own Python and cloudpickle, in the sandbox venv. The spec arrives as a plain-data pickle
(dict, list, str, bytes, float), which every Python reads the same.

Usage: python pickler.py SPEC_PICKLE RUNTIME_PY OUT_PICKLE
"""

import pickle
import sys
import types

import cloudpickle


def main(spec_path, runtime_path, out_path):
    # Compiled from source every time, never loaded from a .pyc: code unmarshalled from a .pyc
    # shares its strings differently from freshly compiled code, and pickle's memo follows object
    # identity, so a checkout's first build and its later builds would differ in bytes (and the
    # same champions would be uploaded again).
    runtime = types.ModuleType("numerai_upload_runtime")
    runtime.__file__ = runtime_path
    sys.modules[runtime.__name__] = runtime  # registered by value: the image never imports it
    with open(runtime_path, encoding="utf-8") as fh:
        exec(compile(fh.read(), runtime_path, "exec"), runtime.__dict__)
    cloudpickle.register_pickle_by_value(runtime)
    with open(spec_path, "rb") as fh:
        spec = pickle.load(fh)
    with open(out_path, "wb") as fh:
        fh.write(cloudpickle.dumps(runtime.make_predict(spec), protocol=5))


if __name__ == "__main__":
    main(*sys.argv[1:4])
