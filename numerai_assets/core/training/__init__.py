"""The training stage: roster, streaming training, walk-forward CV, model manifests."""
