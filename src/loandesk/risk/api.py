"""Risk API: scorecards (mounted at /api/v1/risk)."""

from ninja import Router

risk_router = Router(tags=["risk"])
