"""Post-loan API: close of business (mounted at /api/v1/postloan)."""

from ninja import Router

postloan_router = Router(tags=["postloan"])
