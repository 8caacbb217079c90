"""The main job's printed summary: the headline figures of each asset and any failed check."""
import dagster as dg

from numerai_assets.cli import _summarize


@dg.asset(check_specs=[dg.AssetCheckSpec("rows_positive", asset="scored")])
def scored():
    yield dg.Output(1, metadata={"rows": 0, "corr_mean": 0.01234567, "ignored": "x"})
    yield dg.AssetCheckResult(passed=False, check_name="rows_positive", description="0 rows")


@dg.asset
def plain():
    return dg.Output(1, metadata={"rows": 5})


def test_summary_names_figures_and_failed_checks() -> None:
    result = dg.materialize([scored], raise_on_error=False)
    text = _summarize("job[p]", result, 1.31)
    assert text.splitlines()[0] == "job[p]: success in 1.3 s"
    assert "scored" in text and "rows=0 corr_mean=0.0123" in text and "ignored" not in text
    assert "CHECK FAILED scored:rows_positive 0 rows" in text
    assert text.splitlines()[-1] == "  checks passed: 0/1"


def test_summary_of_a_job_without_checks_has_no_checks_line() -> None:
    text = _summarize("training_job[m|0]", dg.materialize([plain]), 2.0)
    assert "rows=5" in text and "checks passed" not in text
