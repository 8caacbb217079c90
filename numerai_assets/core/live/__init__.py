"""The live stage: predictions, gates, rounds, exactly-once submission, ledger and claims."""
