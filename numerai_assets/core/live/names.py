"""Asset names of a slot's round assets, one place for every reader (assets, sensor, messages).

Dagster's graph nodes, catalog rows and breadcrumb show a key's last part, so the last part
carries the slot too: ``demo_slot_a/demo_slot_a_live_predictions``, never two identical
``live_predictions`` boxes.
"""

from __future__ import annotations

LIVE_PREDICTIONS, SUBMISSION = "live_predictions", "submission"
SLOT_STAGES = (LIVE_PREDICTIONS, SUBMISSION)


def slot_asset_path(slot: str, stage: str) -> list[str]:
    """The key path of one slot's asset of ``stage`` (``live_predictions`` or ``submission``)."""
    if stage not in SLOT_STAGES:
        raise ValueError(f"slot {slot}: unknown stage {stage!r}; expected one of {SLOT_STAGES}")
    return [slot, f"{slot}_{stage}"]


def slot_asset_name(slot: str, stage: str) -> str:
    """The key as the UI and the summaries print it (``a/a_live_predictions``)."""
    return "/".join(slot_asset_path(slot, stage))
