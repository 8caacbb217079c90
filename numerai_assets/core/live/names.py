"""Asset names of a slot's assets (round, live results, model upload), one place for every
reader (assets, sensors, messages).

Dagster's graph nodes, catalog rows and breadcrumb show a key's last part, so the last part
carries the slot too: ``demo_slot_a/demo_slot_a_live_predictions``, never two identical
``live_predictions`` boxes.
"""

from __future__ import annotations

LIVE_PREDICTIONS, SUBMISSION = "live_predictions", "submission"
LIVE_SCORES, LIVE_MONITORING = "live_scores", "live_monitoring"
COMPUTE_PICKLE, COMPUTE_UPLOAD = "compute_pickle", "compute_upload"
ROUND_STAGES = (LIVE_PREDICTIONS, SUBMISSION)  # what a round run (and the sensor's retry) materializes per slot
SLOT_STAGES = (*ROUND_STAGES, LIVE_SCORES, LIVE_MONITORING, COMPUTE_PICKLE, COMPUTE_UPLOAD)


def slot_asset_path(slot: str, stage: str) -> list[str]:
    """The key path of one slot's asset of ``stage`` (one of ``SLOT_STAGES``)."""
    if stage not in SLOT_STAGES:
        raise ValueError(f"slot {slot}: unknown stage {stage!r}; expected one of {SLOT_STAGES}")
    return [slot, f"{slot}_{stage}"]


def slot_asset_name(slot: str, stage: str) -> str:
    """The key as the UI and the summaries print it (``a/a_live_predictions``)."""
    return "/".join(slot_asset_path(slot, stage))
