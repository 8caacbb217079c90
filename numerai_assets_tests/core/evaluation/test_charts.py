"""Charts are valid, deterministic PNGs that markdown embeds; the table shows headline figures."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from numerai_assets.core.evaluation.charts import cumulative_scores_png, metrics_table_markdown, png_markdown
from numerai_assets.core.evaluation.scoring import summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def per_era(seed: int, metrics=("corr", "mmc", "bmc")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eras = pd.Index([f"{e:04d}" for e in range(575, 635)], name="era")
    return pd.DataFrame({m: rng.normal(0.01, 0.02, len(eras)) for m in metrics}, index=eras)


def test_png_is_valid_small_and_deterministic() -> None:
    models = {"lgbm": per_era(0), "ensemble": per_era(1, ("corr", "mmc"))}
    oracle = per_era(2)["corr"]
    png = cumulative_scores_png(models, oracle=oracle)
    assert png.startswith(PNG_MAGIC)
    assert png == cumulative_scores_png(models, oracle=oracle)
    image = Image.open(io.BytesIO(png))
    assert image.size == (900, 900)  # three panels of 900 x 300
    assert len(png) < 100_000
    one_panel = Image.open(io.BytesIO(cumulative_scores_png(models, metrics=("corr",))))
    assert one_panel.size == (900, 300)


def test_png_markdown_embeds_the_png() -> None:
    png = cumulative_scores_png({"m": per_era(0)})
    markdown = png_markdown(png, "cumulative scores")
    prefix = "![cumulative scores](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix) : -1]) == png


def test_metrics_table_markdown() -> None:
    summaries = {"lgbm": summarize(per_era(0)), "corr_only": summarize(per_era(1, ("corr",)))}
    table = metrics_table_markdown(summaries, oracle=summarize(per_era(2, ("corr",))))
    lines = table.splitlines()
    assert lines[0].startswith("| model | CORR mean | CORR sharpe | CORR max DD")
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["lgbm", "corr_only", "oracle"]
    lgbm = summaries["lgbm"]["corr"]["all"]
    assert f"{lgbm['mean']:.4f}" in lines[2] and f"{lgbm['sharpe']:.4f}" in lines[2]
    assert " - |" in lines[3]  # corr_only has no MMC


def test_each_panel_shows_per_era_bars_of_the_named_model_beside_the_cumulative_lines() -> None:
    from matplotlib.container import BarContainer

    from numerai_assets.core.evaluation.charts import scores_figure

    models = {"seed0": per_era(0), "ensemble": per_era(1)}
    fig = scores_figure(models, bars="ensemble")
    panels = [ax for ax in fig.axes if not ax.containers]  # the line axes; bars sit on their twins
    bar_axes = [ax for ax in fig.axes if ax.containers]
    assert len(panels) == len(bar_axes) == 3
    for metric, ax in zip(("corr", "mmc", "bmc"), bar_axes, strict=True):
        [bars] = [c for c in ax.containers if isinstance(c, BarContainer)]
        heights = [patch.get_height() for patch in bars.patches]
        np.testing.assert_allclose(heights, models["ensemble"][metric].to_numpy())
    assert {line.get_label() for line in panels[0].get_lines()} >= {"seed0", "ensemble"}
    for lines, bars_axis in zip(panels, bar_axes, strict=True):  # zero at one height on both axes
        below = [-lo / (hi - lo) for lo, hi in (lines.get_ylim(), bars_axis.get_ylim())]
        assert below[0] == pytest.approx(below[1])
