"""Report engine: metrics, charts, dashboards, exports (issue #7)."""
