"""Flows API: designer, instances, approval inbox (mounted at /api/v1/flows)."""

from ninja import Router

flows_router = Router(tags=["flows"])
