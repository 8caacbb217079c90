"""The sandbox venv the compute tests share: built once (pip from the index, about a minute) into a
cache that outlives the session, ``$NUMERAI_ASSETS_SANDBOX_CACHE`` or the repo's ignored
``.numerai_assets/sandboxes``. Tests that use it need the image's Python (pyenv) and PyPI the first time."""

from __future__ import annotations

import os
from pathlib import Path

from numerai_assets.core.compute.images import image_spec
from numerai_assets.core.compute.sandbox import SandboxEnv, ensure_env

TEST_IMAGE = os.environ.get("NUMERAI_ASSETS_TEST_IMAGE", "Python 3.12")
CACHE = Path(
    os.environ.get(
        "NUMERAI_ASSETS_SANDBOX_CACHE", Path(__file__).resolve().parents[3] / ".numerai_assets" / "sandboxes"
    )
)


def shared_env() -> SandboxEnv:
    return ensure_env(CACHE, image_spec(TEST_IMAGE))
