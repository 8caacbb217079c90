"""numerai_assets: a Numerai tournament operation on Dagster software-defined assets."""

__version__ = "0.1.0"
