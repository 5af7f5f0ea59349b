"""Contract templates and generated contracts API (mounted at /api/v1/contracts)."""

from ninja import Router

contracts_router = Router(tags=["contracts"])
