from ninja import Router

customers_router = Router(tags=["customers"])
