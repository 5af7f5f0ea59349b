"""Reports API (mounted at /api/v1/reports). Thin: parse, call a service or selector, return."""

import io
from typing import Any

from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import Router, Status

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.reports import export, pdf, selectors, services, subscriptions, vintage
from loandesk.reports import query as q
from loandesk.reports.permissions import VIEW
from loandesk.reports.schemas import (
    AnalysisIn,
    AnalysisLoansIn,
    ChannelCostsIn,
    CustomMetricIn,
    CustomMetricPreviewIn,
    DashboardIn,
    DashboardPdfIn,
    QueryIn,
    RecordsIn,
    SubscriptionIn,
)

reports_router = Router(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _xlsx(out: Any, stem: str) -> FileResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(out, as_attachment=True, filename=f"{stem}-{stamp}.xlsx")
    response["Content-Type"] = XLSX
    response["Cache-Control"] = "private, no-store"
    return response


@reports_router.get("/catalog")
def catalog(request: HttpRequest) -> dict[str, Any]:
    return selectors.catalog(actor=_actor(request))


@reports_router.post("/query")
def run_query(request: HttpRequest, payload: QueryIn) -> dict[str, Any]:
    actor = _actor(request)
    require_perm(actor, VIEW)
    query = q.parse_query(payload.dict(exclude={"title"}))
    return q.run_query(actor=actor, query=query)


@reports_router.post("/records")
def records(request: HttpRequest, payload: RecordsIn) -> dict[str, Any]:
    return selectors.records(
        actor=_actor(request),
        metric_key=payload.metric,
        filters=payload.filters or {},
        period=payload.period,
        page=payload.page,
        page_size=payload.page_size,
    )


@reports_router.post("/export")
def export_chart(request: HttpRequest, payload: QueryIn) -> FileResponse:
    actor = _actor(request)
    require_perm(actor, VIEW)
    out = export.export_chart(
        actor=actor, payload=payload.dict(exclude={"title"}), title=payload.title or ""
    )
    return _xlsx(out, "chart")


@reports_router.post("/records/export")
def export_records(request: HttpRequest, payload: RecordsIn) -> FileResponse:
    out = export.export_records(
        actor=_actor(request),
        metric_key=payload.metric,
        filters=payload.filters or {},
        period=payload.period,
    )
    return _xlsx(out, "records")


@reports_router.get("/dashboards")
def list_dashboards(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.dashboards(actor=_actor(request))


@reports_router.post("/dashboards", response={201: dict[str, Any]})
def create_dashboard(request: HttpRequest, payload: DashboardIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    dashboard = services.create_dashboard(actor=actor, data=payload.dict())
    return Status(201, selectors.dashboard_out(dashboard, actor=actor))


@reports_router.get("/dashboards/{dashboard_id}")
def get_dashboard(request: HttpRequest, dashboard_id: int) -> dict[str, Any]:
    actor = _actor(request)
    dashboard = selectors.dashboard_for(actor=actor, dashboard_id=dashboard_id)
    return selectors.dashboard_out(dashboard, actor=actor)


@reports_router.post("/dashboards/{dashboard_id}/pdf")
def dashboard_pdf(request: HttpRequest, dashboard_id: int, payload: DashboardPdfIn) -> FileResponse:
    actor = _actor(request)
    dashboard = selectors.dashboard_for(actor=actor, dashboard_id=dashboard_id)
    data = pdf.dashboard_pdf(actor=actor, dashboard=dashboard, images=payload.images)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename=f"{dashboard.name}-{stamp}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@reports_router.put("/dashboards/{dashboard_id}")
def update_dashboard(request: HttpRequest, dashboard_id: int, payload: DashboardIn) -> Any:
    actor = _actor(request)
    dashboard = services.update_dashboard(
        actor=actor, dashboard_id=dashboard_id, data=payload.dict()
    )
    return selectors.dashboard_out(dashboard, actor=actor)


@reports_router.delete("/dashboards/{dashboard_id}", response={204: None})
def delete_dashboard(request: HttpRequest, dashboard_id: int) -> Status[None]:
    services.delete_dashboard(actor=_actor(request), dashboard_id=dashboard_id)
    return Status(204, None)


@reports_router.get("/custom-metrics")
def list_custom_metrics(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.custom_metrics(actor=_actor(request))


@reports_router.get("/metric-forms")
def metric_forms(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.metric_forms(actor=_actor(request))


@reports_router.post("/custom-metrics", response={201: dict[str, Any]})
def create_custom_metric(request: HttpRequest, payload: CustomMetricIn) -> Status[dict[str, Any]]:
    row = services.create_custom_metric(actor=_actor(request), data=payload.dict())
    return Status(201, selectors.custom_metric_out(row))


@reports_router.post("/custom-metrics/preview")
def preview_custom_metric(request: HttpRequest, payload: CustomMetricPreviewIn) -> dict[str, Any]:
    return selectors.preview_custom_metric(
        actor=_actor(request), data=payload.dict(exclude={"period"}), period=payload.period
    )


@reports_router.put("/custom-metrics/{metric_id}")
def update_custom_metric(
    request: HttpRequest, metric_id: int, payload: CustomMetricIn
) -> dict[str, Any]:
    row = services.update_custom_metric(
        actor=_actor(request), metric_id=metric_id, data=payload.dict()
    )
    return selectors.custom_metric_out(row)


@reports_router.delete("/custom-metrics/{metric_id}", response={204: None})
def delete_custom_metric(request: HttpRequest, metric_id: int) -> Status[None]:
    services.delete_custom_metric(actor=_actor(request), metric_id=metric_id)
    return Status(204, None)


@reports_router.get("/channel-costs")
def channel_costs(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.channel_costs(actor=_actor(request))


@reports_router.get("/channel-options")
def channel_options(request: HttpRequest) -> list[dict[str, str]]:
    return selectors.channel_options(actor=_actor(request))


@reports_router.delete("/channel-costs/{channel}/{month}", response={204: None})
def delete_channel_cost(request: HttpRequest, channel: str, month: str) -> Status[None]:
    services.delete_channel_cost(actor=_actor(request), channel=channel, month=month)
    return Status(204, None)


@reports_router.put("/channel-costs")
def set_channel_costs(request: HttpRequest, payload: ChannelCostsIn) -> list[dict[str, Any]]:
    actor = _actor(request)
    services.set_channel_costs(actor=actor, costs=[c.dict() for c in payload.costs])
    return selectors.channel_costs(actor=actor)


@reports_router.post("/vintage")
def vintage_analysis(request: HttpRequest, payload: AnalysisIn) -> dict[str, Any]:
    return vintage.vintage(actor=_actor(request), period=payload.period, filters=payload.filters)


@reports_router.post("/roll-rate")
def roll_rate_analysis(request: HttpRequest, payload: AnalysisIn) -> dict[str, Any]:
    return vintage.roll_rate(actor=_actor(request), period=payload.period, filters=payload.filters)


@reports_router.post("/analysis/loans")
def analysis_loans(request: HttpRequest, payload: AnalysisLoansIn) -> dict[str, Any]:
    return selectors.analysis_loans(actor=_actor(request), payload=payload.dict())


@reports_router.get("/dashboards/{dashboard_id}/subscriptions")
def list_subscriptions(request: HttpRequest, dashboard_id: int) -> list[dict[str, Any]]:
    return subscriptions.subscriptions(actor=_actor(request), dashboard_id=dashboard_id)


@reports_router.post("/dashboards/{dashboard_id}/subscriptions", response={201: dict[str, Any]})
def create_subscription(
    request: HttpRequest, dashboard_id: int, payload: SubscriptionIn
) -> Status[dict[str, Any]]:
    sub = subscriptions.create_subscription(
        actor=_actor(request), dashboard_id=dashboard_id, data=payload.dict()
    )
    return Status(201, subscriptions.subscription_out(sub))


@reports_router.delete("/subscriptions/{subscription_id}", response={204: None})
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    subscriptions.delete_subscription(actor=_actor(request), subscription_id=subscription_id)
    return Status(204, None)
