from ninja import Router

forms_router = Router(tags=["forms"])
public_router = Router(tags=["public"], auth=None)
