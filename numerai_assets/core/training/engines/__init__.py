"""The training engines (LightGBM, XGBoost), one module each."""
