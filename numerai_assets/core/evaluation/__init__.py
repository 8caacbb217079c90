"""The evaluation stage: scoring, post-processing, evaluation, promotion, charts, tracking."""
