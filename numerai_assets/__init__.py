"""numerai_assets: a Numerai tournament operation on Dagster software-defined assets."""

import os

# OpenMP worker threads busy-wait by default: on a shared 2-core machine that made 2-thread
# LightGBM/XGBoost training 7-60x slower (docs/training.md). libgomp reads this once, when it is
# first loaded (scikit-learn may load it before the engines), so set it before anything heavy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
