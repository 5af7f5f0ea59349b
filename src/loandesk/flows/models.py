"""Flow definitions, versions, instances, tasks, timers and history (the engine's rows)."""
