"""Live results after submission: scores per slot and round, monitoring against validation,
and the round report. Plain Python (no Dagster); score names are whatever Numerai answers."""
