"""Response schemas of the flows API (docs/api-flows.md), so /api/v1/openapi.json describes
them. The selectors build plain dicts; these classes only type them — the JSON is unchanged.
Free-form parts (definition JSON, engine progress items and event details, automated results)
stay objects."""

from datetime import datetime
from typing import Any

from ninja import Schema

JsonObject = dict[str, Any]


class UserRef(Schema):
    id: int
    name: str


class NodeRef(Schema):
    id: str
    name: str


# --- designer ----------------------------------------------------------------------------------


class IssueOut(Schema):
    node_id: str | None
    code: str
    field: str | None
    params: JsonObject
    message: str


class FlowSummaryOut(Schema):
    key: str
    name: str
    description: str
    form_code: str
    form_name: str
    is_active: bool
    published_version: int | None
    has_draft: bool
    draft_differs: bool
    running_count: int
    updated_at: datetime


class VersionOut(Schema):
    version: int
    definition: JsonObject
    published_at: datetime
    published_by: UserRef | None


class VersionRowOut(Schema):
    version: int
    published_at: datetime
    published_by: UserRef | None
    instance_count: int


class OptionOut(Schema):
    value: Any
    label: Any
    label_en: str | None = None


class FormFieldOut(Schema):
    key: str
    label: str
    label_en: str | None
    type: str
    is_user: bool
    options: list[OptionOut] | None = None


class RoleOut(Schema):
    code: str
    name: str


class DefinitionDetailOut(Schema):
    key: str
    name: str
    description: str
    form_code: str
    form_name: str
    is_active: bool
    draft: JsonObject
    draft_differs: bool
    draft_issues: list[IssueOut]
    published: VersionOut | None
    versions: list[VersionRowOut]
    form_fields: list[FormFieldOut]
    automated_actions: list[str]
    roles: list[RoleOut]
    users: list[UserRef]


class DraftOut(Schema):
    draft: JsonObject
    issues: list[IssueOut]
    draft_differs: bool


class IssuesOut(Schema):
    issues: list[IssueOut]


class PublishedOut(Schema):
    version: int


class ChoiceNodeOut(Schema):
    node_id: str
    name: str
    multiple: bool


class StartInfoOut(Schema):
    flow_key: str
    name: str
    version: int
    choice_nodes: list[ChoiceNodeOut]


# --- instance detail ---------------------------------------------------------------------------


class FlowRef(Schema):
    key: str
    name: str
    version: int


class InitiatorOut(Schema):
    id: int
    name: str
    department: str | None


class RecordFieldOut(Schema):
    key: str
    label: str
    type: str
    value: Any
    display: Any
    permission: str


class RecordOut(Schema):
    form_code: str
    id: int
    serial_no: str | None
    fields: list[RecordFieldOut]


class CustomerOut(Schema):
    id: int
    name: str
    id_number_masked: str
    phone_masked: str
    credit_level: Any
    owner: str
    tags: list[str]
    loan_count: int
    outstanding: str


class LoanRef(Schema):
    id: Any
    contract_no: Any


class HistoryOut(Schema):
    seq: int
    at: datetime
    actor: UserRef | None
    action: str
    action_label: str
    node_id: str | None
    node_name: str | None
    comment: str | None
    attachments: list[Any]
    signature: str | None
    target: Any
    duration_seconds: int | None
    details: JsonObject


class ReturnOptionOut(Schema):
    id: str
    name: str


class MyTaskOut(Schema):
    id: int
    engine_task_id: str
    node_id: str
    node_name: str
    actions: list[str]
    return_options: list[ReturnOptionOut]
    editable_fields: list[str]
    due_at: datetime | None


class InstanceDetailOut(Schema):
    id: int
    title: str
    status: str
    status_label: str
    version: int
    flow: FlowRef
    initiator: InitiatorOut
    started_at: datetime
    finished_at: datetime | None
    current_node: NodeRef | None
    error: JsonObject | None
    record: RecordOut
    customer: CustomerOut | None
    risk: JsonObject | None
    contract: JsonObject | None
    loan: LoanRef | None
    progress: list[JsonObject]
    history: list[HistoryOut]
    my_task: MyTaskOut | None
    can_withdraw: bool
    can_urge: bool
    can_resubmit: bool
    can_retry: bool
    can_cancel: bool
    status_url: str | None


class BatchResultOut(Schema):
    task_id: int
    ok: bool
    code: str | None
    message: str | None


class BatchOut(Schema):
    results: list[BatchResultOut]


# --- inbox -------------------------------------------------------------------------------------


class CountsOut(Schema):
    todo: int
    done: int
    cc_unread: int
    mine_running: int


class TodoItemOut(Schema):
    task_id: int
    instance_id: int
    title: str
    flow_name: str
    node_name: str
    initiator: UserRef | None
    amount: str | None
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    urged_at: datetime | None
    can_batch: bool


class TodoPageOut(Schema):
    items: list[TodoItemOut]
    next: str | None


class DoneItemOut(Schema):
    task_id: int
    instance_id: int
    title: str
    flow_name: str
    node_name: str
    initiator: UserRef | None
    amount: str | None
    action: str
    action_label: str
    closed_at: datetime | None
    status: str
    status_label: str


class DonePageOut(Schema):
    items: list[DoneItemOut]
    next: str | None


class CcItemOut(Schema):
    id: int
    instance_id: int
    title: str
    flow_name: str
    initiator: UserRef | None
    amount: str | None
    status: str
    status_label: str
    node_name: str
    created_at: datetime
    read: bool


class InstanceRefOut(Schema):
    id: int
    status: str
    status_label: str


class CcPageOut(Schema):
    items: list[CcItemOut]
    next: str | None


class MineItemOut(Schema):
    instance_id: int
    title: str
    flow_name: str
    amount: str | None
    status: str
    status_label: str
    current_node: NodeRef | None
    waiting_for: list[UserRef]
    started_at: datetime
    finished_at: datetime | None


class MinePageOut(Schema):
    items: list[MineItemOut]
    next: str | None


# --- customer 360 ------------------------------------------------------------------------------


class BookedLoanOut(Schema):
    id: int
    contract_no: str


class CustomerApplicationOut(Schema):
    instance_id: int
    serial_no: str
    title: str
    flow_name: str
    amount: str | None
    product: str | None
    status: str
    status_label: str
    # status, or "disbursed" once the loan is booked; the label names the waiting node.
    stage: str
    stage_label: str
    current_node: NodeRef | None
    loan: BookedLoanOut | None
    initiator: UserRef
    started_at: datetime
    finished_at: datetime | None


class CustomerApplicationPageOut(Schema):
    items: list[CustomerApplicationOut]
    count: int
    page: int
    page_size: int


# --- analytics ---------------------------------------------------------------------------------


class InstanceCountsOut(Schema):
    total: int
    running: int
    approved: int
    rejected: int
    withdrawn: int
    cancelled: int
    error: int


class TurnaroundOut(Schema):
    median: float | None
    p90: float | None


class NodeStatsOut(Schema):
    node_id: str
    name: str
    tasks: int
    median_hours: float | None
    p90_hours: float | None
    overdue: int
    rejected: int
    returned: int


class ApproverStatsOut(Schema):
    user: UserRef
    tasks: int
    median_hours: float | None


class AnalyticsOut(Schema):
    instances: InstanceCountsOut
    approval_rate: float | None
    turnaround_hours: TurnaroundOut
    nodes: list[NodeStatsOut]
    approvers: list[ApproverStatsOut]
