"""`emergent sweep`: one experiment trained many times as Ray Tune trials, then aggregated
across seeds (`config` builds the trials, `run` runs them, `report` aggregates)."""
