import math

import numpy as np

from numerai_assets.assets.metadata import readable, readable_number


def test_figures_keep_four_significant_digits_whatever_their_size():
    assert readable_number(0.012345678) == 0.01235
    assert readable_number(-0.98765432) == -0.9877
    assert readable_number(123456.7) == 123457.0
    assert readable_number(3.0) == 3.0
    assert readable_number(0.0) == 0.0
    assert math.isnan(readable_number(float("nan")))


def test_only_floats_are_rounded_and_other_values_pass_through():
    out = readable({"corr_mean": 0.0234567891, "sharpe": np.float32(1.23456), "rows": 1234567, "ok": True, "slot": "a"})
    assert out == {"corr_mean": 0.02346, "sharpe": 1.235, "rows": 1234567, "ok": True, "slot": "a"}
    assert type(out["sharpe"]) is float
