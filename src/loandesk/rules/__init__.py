"""Rule engine: triggers, conditions, actions (issue #6)."""
