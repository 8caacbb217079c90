"""The data stage: dataset handles, versions, batches, column statistics and contracts."""
