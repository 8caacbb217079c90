"""Sensors: what starts runs without a person.

- ``rounds``: round_open_sensor (a round's run, retries of unconfirmed slots, MISSED rounds)
- ``scores``: live_scores_sensor (the rounds whose scores changed)
- ``data``: data_refresh_sensor (data_job when a dataset file changed on the server)
- ``retrain``: retrain_sensor (stale models retrained and evaluated outside the round window),
  reading its facts through ``retrain_inputs``
- ``alerts``: run-failure and run-status sensors sending alerts through Apprise
"""
