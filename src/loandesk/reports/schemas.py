"""Reports API shapes. Chart results are open dicts (columns depend on the query); inputs are
typed here and their meaning validated by query.parse_query / services."""

from typing import Any

from ninja import Schema
from pydantic import Field


class QueryIn(Schema):
    metrics: list[str] = Field(default_factory=list, max_length=50)
    dimension: str | None = Field(default=None, max_length=40)
    grain: str | None = Field(default=None, max_length=10)
    node: int | None = None
    series: str | None = Field(default=None, max_length=40)
    series_grain: str | None = Field(default=None, max_length=10)
    filters: dict[str, Any] | None = None
    period: dict[str, Any] | str | None = None
    compare: bool = False
    sort: str | None = Field(default=None, max_length=20)
    limit: int | None = None
    title: str | None = Field(default=None, max_length=100)


class RecordsIn(Schema):
    metric: str = Field(max_length=80)
    filters: dict[str, Any] | None = None
    period: dict[str, Any] | str | None = None
    page: int = 1
    page_size: int = 20


class DashboardIn(Schema):
    name: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1000)
    refresh_seconds: int = 0
    sort: int = 100
    shared_with: list[str] = Field(default_factory=list, max_length=100)
    widgets: list[dict[str, Any]] = Field(default_factory=list, max_length=100)


class CustomMetricIn(Schema):
    key: str = Field(default="", max_length=60)
    label: str = Field(max_length=200)
    label_en: str = Field(default="", max_length=200)
    form: str = Field(max_length=60)
    aggregation: str = Field(max_length=10)
    field: str = Field(default="", max_length=64)
    filters: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    unit: str = Field(default="", max_length=10)


class CustomMetricPreviewIn(CustomMetricIn):
    period: dict[str, Any] | str | None = None


class ChannelCostIn(Schema):
    channel: str = Field(max_length=60)
    month: str = Field(max_length=10)
    # A string (or a JSON number without a fraction); services.clean_cost says what is wrong.
    cost: str | int


class ChannelCostsIn(Schema):
    costs: list[ChannelCostIn] = Field(max_length=500)


class AnalysisIn(Schema):
    period: dict[str, Any] | str | None = None
    filters: dict[str, Any] | None = None


class AnalysisLoansIn(Schema):
    kind: str = Field(max_length=20)
    filters: dict[str, Any] | None = None
    cohort: str | None = Field(default=None, max_length=7)
    mob: int | None = None
    level: str | None = Field(default=None, max_length=4)
    month: str | None = Field(default=None, max_length=7)
    period: dict[str, Any] | str | None = None
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    page: int = 1
    page_size: int = 20


class SubscriptionIn(Schema):
    users: list[int] = Field(default_factory=list, max_length=200)
    roles: list[str] = Field(default_factory=list, max_length=200)
    send_at: str = Field(max_length=5)
    weekday: int | None = None
    enabled: bool = True


class DashboardPdfIn(Schema):
    # Chart images by widget id: PNG/JPEG data URLs drawn by the phone (ECharts getDataURL).
    images: dict[str, str] = Field(default_factory=dict, max_length=100)
