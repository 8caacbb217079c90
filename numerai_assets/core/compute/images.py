"""Numerai's model-upload images: the Python and library versions each one runs a pickle with.

The pins are Numerai's published ``numerai-predict`` requirements per image (``py3.11`` and
``py3.12``; see docs/compute.md). An image is named by Numerai (``model_upload_docker_images()``);
we read its Python version from the name and refuse an image we hold no pins for, rather than
prove a pickle against versions the image does not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMON = {
    "xgboost": "3.0.2",
    "catboost": "1.2.8",
    "cloudpickle": "3.1.1",
    "pandas": "2.3.1",
    "numpy": "2.1.3",
    "scikit-learn": "1.6.1",
    "numerai-tools": "0.4.0",
}
PINS: dict[str, dict[str, str]] = {
    "3.11": {**_COMMON, "lightgbm": "4.6.0", "pyarrow": "21.0.0"},
    "3.12": {**_COMMON, "lightgbm": "4.5.0", "pyarrow": "18.1.0"},
}
_PYTHON_IN_NAME = re.compile(r"(?:py(?:thon)?)[\s_-]*(3\.\d+)", re.IGNORECASE)


class UnknownImageError(ValueError):
    """An image whose Python we cannot read, or hold no pinned requirements for."""


@dataclass(frozen=True)
class ImageSpec:
    name: str  # Numerai's docker image name, e.g. "Python 3.12"
    python: str  # "3.12"
    pins: dict[str, str]


def image_spec(name: str, pins: dict[str, dict[str, str]] | None = None) -> ImageSpec:
    """The pinned versions of the image called ``name`` (its Python read from the name)."""
    pins = PINS if pins is None else pins
    found = _PYTHON_IN_NAME.search(name)
    if found is None:
        raise UnknownImageError(f"docker image {name!r}: no Python version in its name (expected e.g. 'Python 3.12')")
    python = found.group(1)
    if python not in pins:
        raise UnknownImageError(
            f"docker image {name!r} runs Python {python}, but only {sorted(pins)} have pinned requirements here: "
            "add the image's numerai-predict requirements to core/compute/images.py, or choose another image"
        )
    return ImageSpec(name, python, dict(pins[python]))
