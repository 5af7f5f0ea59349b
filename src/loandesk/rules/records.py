"""The record types a rule can watch: their fields, loaders, date queries and scoped lookups.

Each record type gives the designer its fields (key, zh/en label, type, options — the shape the
form designer's ConditionBuilder takes), and the engine a loader that returns the values a
condition sees, carrying `id` and, where they apply, `customer_id`, `owner_id`, `department_id`
and `loan_id` (the ActionContext convention). Money is yuan (Decimal), dates are dates.

Date-relative triggers need "records whose date field falls in [lo, hi]" as one indexed range
scan: only date fields that lead an index (or follow a status column in one, queried with every
status) are offered (`date_fields`). Repayments and collection cases are models being built in
other apps; they are described by introspection and appear once their model exists.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q, QuerySet

from loandesk.accounts.models import DataScope, User
from loandesk.accounts.scoping import ScopeSpec, effective_scope, scoped
from loandesk.core.money import fen_to_yuan

Option = tuple[str, str, str]  # value, label zh, label en


@dataclass(frozen=True)
class FieldInfo:
    key: str
    label_zh: str
    label_en: str
    type: str = "text"  # the form engine's type names: text number money date datetime select …
    options: tuple[Option, ...] = ()
    settable: bool = False
    date_trigger: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label_zh,
            "label_en": self.label_en,
            "type": self.type,
            "options": [{"value": v, "label": zh, "label_en": en} for v, zh, en in self.options],
            "settable": self.settable,
            "date_trigger": self.date_trigger,
        }


def _choices(model: type[models.Model], name: str, en: Mapping[str, str]) -> tuple[Option, ...]:
    f = model._meta.get_field(name)
    choices = getattr(f, "choices", None) or []
    return tuple((str(v), str(zh), en.get(str(v), str(v))) for v, zh in choices if v != "")


def _money(fen: int | None) -> Decimal | None:
    return None if fen is None else fen_to_yuan(fen)


def _date_query(model: type[models.Model], field_name: str) -> Q | None:
    """How to range-scan `field_name` through an index, or None when no index leads with it.
    (status, date) indexes are used with every status value, which the planner turns into a
    few index range scans."""
    f = model._meta.get_field(field_name)
    if getattr(f, "db_index", False) or getattr(f, "unique", False):
        return Q()
    for index in model._meta.indexes:
        names = [n.lstrip("-") for n in index.fields]
        if names and names[0] == field_name:
            return Q()
        if len(names) >= 2 and names[1] == field_name:
            lead = getattr(model._meta.get_field(names[0]), "choices", None)
            if lead:
                return Q(**{f"{names[0]}__in": [v for v, _ in lead]})
    return None


# ---- the record types ------------------------------------------------------------------------


class RecordType(ABC):
    key = ""
    label_zh = ""
    label_en = ""
    model_label = ""  # "app_label.Model"
    needs_form = False
    # Event kinds (created/updated/field changed) fed by these topics, and named domain events.
    topics: Mapping[str, tuple[str, str]] = {}
    scope = ScopeSpec()

    def model(self) -> type[models.Model] | None:
        try:
            return apps.get_model(self.model_label)
        except (LookupError, ValueError):
            return None

    def available(self) -> bool:
        return self.model() is not None

    @abstractmethod
    def fields(self, form_code: str = "") -> list[FieldInfo]:
        """The fields the condition builder and actions may use."""

    def field_map(self, form_code: str = "") -> dict[str, FieldInfo]:
        return {f.key: f for f in self.fields(form_code)}

    def base_queryset(self, form_code: str = "") -> QuerySet[Any]:
        model = self.model()
        assert model is not None
        return model._default_manager.all()

    @abstractmethod
    def load(self, ids: Sequence[int], form_code: str = "") -> dict[int, dict[str, Any]]:
        """Field values of these records (ids not found are left out)."""

    def load_one(self, record_id: int, form_code: str = "") -> dict[str, Any] | None:
        return self.load([record_id], form_code).get(record_id)

    def label(self, values: Mapping[str, Any]) -> str:
        return f"#{values.get('id')}"

    def date_fields(self, form_code: str = "") -> list[str]:
        return [f.key for f in self.fields(form_code) if f.date_trigger]

    def date_query(self, field_name: str, form_code: str = "") -> Q | None:
        model = self.model()
        return None if model is None else _date_query(model, field_name)

    def ids_with_date(
        self, field_name: str, lo: date, hi: date, form_code: str = ""
    ) -> list[tuple[int, date]]:
        """(id, date) of records whose date field is in [lo, hi] — one indexed range scan."""
        extra = self.date_query(field_name, form_code)
        if extra is None:
            return []
        column = self.date_column(field_name, form_code)
        qs = self.base_queryset(form_code).filter(
            extra, **{f"{column}__gte": lo, f"{column}__lte": hi}
        )
        return [(pk, d) for pk, d in qs.order_by(column, "pk").values_list("pk", column)]

    def date_column(self, field_name: str, form_code: str = "") -> str:
        return field_name

    def all_ids(self, form_code: str = "", batch: int = 2000) -> Iterator[int]:
        qs = self.base_queryset(form_code).order_by("pk").values_list("pk", flat=True)
        last = 0
        while True:
            chunk = list(qs.filter(pk__gt=last)[:batch])
            if not chunk:
                return
            yield from chunk
            last = chunk[-1]

    def visible(self, actor: User, form_code: str = "") -> QuerySet[Any]:
        return scoped(self.base_queryset(form_code), actor, self.scope)

    def search(self, actor: User, q: str, form_code: str = "", limit: int = 20) -> list[dict]:
        qs = self.visible(actor, form_code).order_by("-pk")
        if q.strip().isdigit():
            qs = qs.filter(pk=int(q.strip()))
        elif q.strip():
            qs = self.text_filter(qs, q.strip())
        ids = list(qs.values_list("pk", flat=True)[:limit])
        loaded = self.load(ids, form_code)
        return [{"id": i, "label": self.label(loaded[i])} for i in ids if i in loaded]

    def text_filter(self, qs: QuerySet[Any], q: str) -> QuerySet[Any]:
        return qs.none()


class CustomerType(RecordType):
    key = "customer"
    label_zh, label_en = "客户", "Customers"
    model_label = "customers.Customer"
    scope = ScopeSpec(owner="owner", department="department")
    topics = {
        "customer.created": ("客户创建", "Customer created"),
        "customer.updated": ("客户修改", "Customer updated"),
    }
    SETTABLE = (
        "credit_level",
        "remark",
        "industry",
        "employer",
        "address",
        "marital_status",
        "education",
        "source_channel",
        "monthly_income",
    )

    def fields(self, form_code: str = "") -> list[FieldInfo]:
        from loandesk.customers.messages import CHOICES

        def opts(group: str) -> tuple[Option, ...]:
            return tuple((v, zh, en) for v, (zh, en) in CHOICES.get(group, {}).items())

        return [
            FieldInfo("name", "姓名/名称", "Name"),
            FieldInfo("kind", "客户类型", "Kind", "select", opts("kind")),
            FieldInfo("status", "状态", "Status", "select", opts("status")),
            FieldInfo(
                "credit_level", "信用等级", "Credit level", "select", opts("credit_level"),
                settable=True,
            ),
            FieldInfo("gender", "性别", "Gender", "select", opts("gender")),
            FieldInfo("birth_date", "出生日期", "Birth date", "date"),
            FieldInfo(
                "marital_status", "婚姻状况", "Marital status", "select",
                opts("marital_status"), settable=True,
            ),
            FieldInfo(
                "education", "学历", "Education", "select", opts("education"), settable=True
            ),
            FieldInfo("industry", "行业", "Industry", settable=True),
            FieldInfo("employer", "工作单位", "Employer", settable=True),
            FieldInfo("address", "地址", "Address", settable=True),
            FieldInfo("monthly_income", "月收入(元)", "Monthly income (yuan)", "money",
                      settable=True),
            FieldInfo(
                "source_channel", "来源渠道", "Source channel", "select",
                opts("source_channel"), settable=True,
            ),
            FieldInfo("province_name", "省份", "Province"),
            FieldInfo("city_name", "城市", "City"),
            FieldInfo("remark", "备注", "Remark", "textarea", settable=True),
            FieldInfo("owner_id", "客户经理", "Owner", "user"),
            FieldInfo("department_id", "部门", "Department", "department"),
            FieldInfo("created_at", "创建时间", "Created at", "datetime"),
        ]  # fmt: skip

    def load(self, ids: Sequence[int], form_code: str = "") -> dict[int, dict[str, Any]]:
        from loandesk.customers.models import Customer

        cols = (
            "id", "name", "kind", "status", "credit_level", "gender", "birth_date",
            "marital_status", "education", "industry", "employer", "address", "monthly_income",
            "source_channel", "province_name", "city_name", "remark", "owner_id",
            "department_id", "created_at",
        )  # fmt: skip
        out: dict[int, dict[str, Any]] = {}
        for row in Customer.objects.filter(pk__in=list(ids)).values(*cols):
            row["monthly_income"] = _money(row["monthly_income"])
            row["customer_id"] = row["id"]
            out[row["id"]] = row
        return out

    def label(self, values: Mapping[str, Any]) -> str:
        return str(values.get("name") or f"#{values.get('id')}")

    def text_filter(self, qs: QuerySet[Any], q: str) -> QuerySet[Any]:
        return qs.filter(Q(name__contains=q) | Q(name_pinyin__startswith=q.lower()))


_LOAN_STATUS_EN = {
    "active": "Repaying",
    "overdue": "Overdue",
    "closed": "Closed",
    "written_off": "Written off",
}
_CLASS_EN = {
    "normal": "Normal",
    "special_mention": "Special mention",
    "substandard": "Substandard",
    "doubtful": "Doubtful",
    "loss": "Loss",
}
_INST_STATUS_EN = {"pending": "Not due", "due": "Due", "overdue": "Overdue", "paid": "Paid"}


def _bucket_options() -> tuple[Option, ...]:
    codes: list[str] = []
    try:
        from loandesk.postloan.models import DelinquencyBucket

        codes = list(DelinquencyBucket.objects.values_list("code", flat=True))
    except LookupError:  # pragma: no cover - postloan is always installed
        pass
    return tuple((c, c, c) for c in (codes or ["M0", "M1", "M2", "M3", "M3+"]))


class LoanType(RecordType):
    key = "loan"
    label_zh, label_en = "贷款", "Loans"
    model_label = "lending.Loan"
    scope = ScopeSpec(owner="owner", department="department")
    topics = {
        "loan.disbursed": ("放款", "Loan disbursed"),
        "loan.became_overdue": ("贷款转逾期", "Loan became overdue"),
        "loan.bucket_changed": ("逾期分档变化", "Delinquency bucket changed"),
        "loan.closed": ("贷款结清", "Loan closed"),
        "loan.repayment_posted": ("收到还款", "Repayment posted"),
        "loan.repayment_reversed": ("还款红冲", "Repayment reversed"),
    }

    def fields(self, form_code: str = "") -> list[FieldInfo]:
        from loandesk.lending.models import Loan

        model = self.model()
        status = _choices(Loan, "status", _LOAN_STATUS_EN)
        klass = _choices(Loan, "classification", _CLASS_EN)
        dt = {
            n
            for n in ("overdue_since", "maturity_date")
            if model is not None and _date_query(model, n) is not None
        }
        return [
            FieldInfo("contract_no", "合同编号", "Contract no."),
            FieldInfo("product", "产品代码", "Product code"),
            FieldInfo("status", "状态", "Status", "select", status),
            FieldInfo("principal", "本金(元)", "Principal (yuan)", "money"),
            FieldInfo("outstanding_principal", "剩余本金(元)", "Outstanding principal", "money"),
            FieldInfo("annual_rate", "年利率(%)", "Annual rate (%)", "number"),
            FieldInfo("periods", "期数", "Periods", "number"),
            FieldInfo("start_date", "起息日", "Start date", "date"),
            FieldInfo("maturity_date", "到期日", "Maturity date", "date",
                      date_trigger="maturity_date" in dt),
            FieldInfo("overdue_since", "逾期起始日", "Overdue since", "date",
                      date_trigger="overdue_since" in dt),
            FieldInfo("days_past_due", "逾期天数", "Days past due", "number"),
            FieldInfo("bucket", "逾期分档", "Bucket", "select", _bucket_options()),
            FieldInfo("classification", "五级分类", "Classification", "select", klass),
            FieldInfo("customer_name", "客户姓名", "Customer name"),
            FieldInfo("customer_id", "客户", "Customer", "number"),
            FieldInfo("owner_id", "客户经理", "Owner", "user"),
            FieldInfo("department_id", "部门", "Department", "department"),
        ]  # fmt: skip

    def load(self, ids: Sequence[int], form_code: str = "") -> dict[int, dict[str, Any]]:
        from loandesk.lending.models import Loan

        out: dict[int, dict[str, Any]] = {}
        rows = Loan.objects.filter(pk__in=list(ids)).values(
            "id", "contract_no", "product__code", "status", "principal_fen",
            "outstanding_principal_fen", "annual_rate", "periods", "start_date", "maturity_date",
            "overdue_since", "days_past_due", "bucket", "classification", "customer_id",
            "customer__name", "owner_id", "department_id",
        )  # fmt: skip
        for r in rows:
            out[r["id"]] = {
                "id": r["id"],
                "loan_id": r["id"],
                "contract_no": r["contract_no"],
                "product": r["product__code"],
                "status": r["status"],
                "principal": _money(r["principal_fen"]),
                "outstanding_principal": _money(r["outstanding_principal_fen"]),
                "annual_rate": r["annual_rate"],
                "periods": r["periods"],
                "start_date": r["start_date"],
                "maturity_date": r["maturity_date"],
                "overdue_since": r["overdue_since"],
                "days_past_due": r["days_past_due"],
                "bucket": r["bucket"],
                "classification": r["classification"],
                "customer_name": r["customer__name"],
                "customer_id": r["customer_id"],
                "owner_id": r["owner_id"],
                "department_id": r["department_id"],
                # names the default message templates use
                "name": r["customer__name"],
                "days": r["days_past_due"],
            }
        return out

    def label(self, values: Mapping[str, Any]) -> str:
        return f"{values.get('contract_no')} {values.get('customer_name') or ''}".strip()

    def text_filter(self, qs: QuerySet[Any], q: str) -> QuerySet[Any]:
        return qs.filter(Q(contract_no__contains=q.upper()) | Q(customer__name__contains=q))


class InstallmentType(RecordType):
    key = "installment"
    label_zh, label_en = "还款计划", "Installments"
    model_label = "lending.Installment"
    scope = ScopeSpec(owner="loan__owner", department="loan__department")
    topics = {"loan.installment_due_soon": ("即将到期提醒", "Installment due soon")}

    def fields(self, form_code: str = "") -> list[FieldInfo]:
        from loandesk.lending.models import Installment

        model = self.model()
        status = _choices(Installment, "status", _INST_STATUS_EN)
        return [
            FieldInfo("contract_no", "合同编号", "Contract no."),
            FieldInfo("seq", "期次", "Period", "number"),
            FieldInfo("due_date", "到期日", "Due date", "date",
                      date_trigger=bool(model and _date_query(model, "due_date") is not None)),
            FieldInfo("status", "状态", "Status", "select", status),
            FieldInfo("amount_due", "应还金额(元)", "Amount due (yuan)", "money"),
            FieldInfo("amount_paid", "已还金额(元)", "Amount paid (yuan)", "money"),
            FieldInfo("amount_owed", "未还金额(元)", "Amount owed (yuan)", "money"),
            FieldInfo("principal", "本金(元)", "Principal (yuan)", "money"),
            FieldInfo("interest", "利息(元)", "Interest (yuan)", "money"),
            FieldInfo("paid_off_on", "结清日", "Paid off on", "date"),
            FieldInfo("loan_status", "贷款状态", "Loan status", "select",
                      _choices(apps.get_model("lending.Loan"), "status", _LOAN_STATUS_EN)),
            FieldInfo("days_past_due", "贷款逾期天数", "Loan days past due", "number"),
            FieldInfo("customer_name", "客户姓名", "Customer name"),
            FieldInfo("loan_id", "贷款", "Loan", "number"),
            FieldInfo("customer_id", "客户", "Customer", "number"),
            FieldInfo("owner_id", "客户经理", "Owner", "user"),
            FieldInfo("department_id", "部门", "Department", "department"),
        ]  # fmt: skip

    def load(self, ids: Sequence[int], form_code: str = "") -> dict[int, dict[str, Any]]:
        from loandesk.lending.models import Installment

        out: dict[int, dict[str, Any]] = {}
        rows = Installment.objects.filter(pk__in=list(ids)).values(
            "id", "loan_id", "seq", "due_date", "status", "principal_fen", "interest_fen",
            "fee_fen", "penalty_fen", "paid_principal_fen", "paid_interest_fen", "paid_fee_fen",
            "paid_penalty_fen", "paid_off_on", "loan__contract_no", "loan__status",
            "loan__days_past_due", "loan__customer_id", "loan__customer__name",
            "loan__owner_id", "loan__department_id",
        )  # fmt: skip
        for r in rows:
            due = r["principal_fen"] + r["interest_fen"] + r["fee_fen"] + r["penalty_fen"]
            paid = (
                r["paid_principal_fen"]
                + r["paid_interest_fen"]
                + r["paid_fee_fen"]
                + r["paid_penalty_fen"]
            )
            out[r["id"]] = {
                "id": r["id"],
                "loan_id": r["loan_id"],
                "contract_no": r["loan__contract_no"],
                "seq": r["seq"],
                "due_date": r["due_date"],
                "status": r["status"],
                "amount_due": _money(due),
                "amount_paid": _money(paid),
                "amount_owed": _money(due - paid),
                "principal": _money(r["principal_fen"]),
                "interest": _money(r["interest_fen"]),
                "paid_off_on": r["paid_off_on"],
                "loan_status": r["loan__status"],
                "days_past_due": r["loan__days_past_due"],
                "customer_name": r["loan__customer__name"],
                "name": r["loan__customer__name"],
                "amount": _money(due - paid),
                "customer_id": r["loan__customer_id"],
                "owner_id": r["loan__owner_id"],
                "department_id": r["loan__department_id"],
            }
        return out

    def label(self, values: Mapping[str, Any]) -> str:
        return f"{values.get('contract_no')} #{values.get('seq')} {values.get('due_date')}"

    def text_filter(self, qs: QuerySet[Any], q: str) -> QuerySet[Any]:
        return qs.filter(
            Q(loan__contract_no__contains=q.upper()) | Q(loan__customer__name__contains=q)
        )


class ApplicationType(RecordType):
    """Form records (申请): the fields are the chosen form's published fields."""

    key = "application"
    label_zh, label_en = "申请(表单记录)", "Applications (form records)"
    model_label = "forms.Record"
    needs_form = True
    scope = ScopeSpec(owner="owner", department="department")
    topics = {
        "record.created": ("提交记录", "Record submitted"),
        "record.updated": ("修改记录", "Record updated"),
    }

    def _compiled(self, form_code: str) -> Any:
        from loandesk.forms.models import FormDefinition
        from loandesk.forms.services import compiled_version

        form = (
            FormDefinition.objects.select_related("current_version").filter(code=form_code).first()
        )
        if form is None or form.current_version is None:
            return None, None
        version = form.current_version
        version.form = form
        return form, compiled_version(version)

    def fields(self, form_code: str = "") -> list[FieldInfo]:
        form, compiled = self._compiled(form_code)
        if compiled is None:
            return []
        slots = form.index_slots or {}
        out = [FieldInfo("serial_no", "编号", "Serial no.")]
        for f in compiled.value_fields():
            if f.type.pii or f.type.has_children:
                continue
            options = tuple(
                (str(o.get("value")), str(o.get("label", "")), str(o.get("label_en") or ""))
                for o in f.options
            )
            out.append(
                FieldInfo(
                    f.key,
                    f.label,
                    f.label_en or f.label,
                    f.type.name,
                    options,
                    settable=f.type.input and not f.type.derived,
                    date_trigger=f.type.index_kind == "date" and f.key in slots,
                )
            )
        out += [
            FieldInfo("customer_id", "客户", "Customer", "number"),
            FieldInfo("owner_id", "提交人", "Owner", "user"),
            FieldInfo("department_id", "部门", "Department", "department"),
        ]
        return out

    def base_queryset(self, form_code: str = "") -> QuerySet[Any]:
        from loandesk.forms.models import Record

        return Record.objects.filter(form__code=form_code)

    def date_query(self, field_name: str, form_code: str = "") -> Q | None:
        return Q() if field_name in self.date_fields(form_code) else None

    def date_column(self, field_name: str, form_code: str = "") -> str:
        form, _ = self._compiled(form_code)
        return str((form.index_slots or {})[field_name])

    def load(self, ids: Sequence[int], form_code: str = "") -> dict[int, dict[str, Any]]:
        from loandesk.flows.records import condition_view
        from loandesk.forms import storage
        from loandesk.forms.models import Record
        from loandesk.forms.services import compiled_version

        out: dict[int, dict[str, Any]] = {}
        records = Record.objects.filter(pk__in=list(ids)).select_related("version__form")
        if form_code:
            records = records.filter(form__code=form_code)
        for rec in records:
            compiled = compiled_version(rec.version)
            data = storage.unseal(compiled, rec.data)
            view = condition_view(compiled, data)
            for f in compiled.value_fields():
                if f.type.pii or f.type.has_children:
                    view.pop(f.key, None)  # PII never reaches conditions or the firing log
            view.update(
                {
                    "id": rec.pk,
                    "serial_no": rec.serial_no,
                    "form": rec.version.form.code,
                    "customer_id": rec.customer_id,
                    "owner_id": rec.owner_id,
                    "department_id": rec.department_id,
                }
            )
            out[rec.pk] = view
        return out

    def label(self, values: Mapping[str, Any]) -> str:
        return f"{values.get('serial_no') or '#' + str(values.get('id'))}"

    def text_filter(self, qs: QuerySet[Any], q: str) -> QuerySet[Any]:
        return qs.filter(serial_no__contains=q)


# Common column names of models described by introspection, zh/en.
_NAMES = {
    "amount_fen": ("金额(元)", "Amount (yuan)"),
    "status": ("状态", "Status"),
    "channel": ("渠道", "Channel"),
    "reference": ("流水号", "Reference"),
    "value_date": ("还款日期", "Value date"),
    "posted_at": ("入账时间", "Posted at"),
    "created_at": ("创建时间", "Created at"),
    "updated_at": ("更新时间", "Updated at"),
    "bucket": ("逾期分档", "Bucket"),
    "priority": ("优先级", "Priority"),
    "days_past_due": ("逾期天数", "Days past due"),
    "opened_on": ("立案日期", "Opened on"),
    "closed_on": ("结案日期", "Closed on"),
    "promise_date": ("承诺还款日", "Promise date"),
    "next_action_on": ("下次跟进日", "Next action on"),
    "level": ("级别", "Level"),
    "result": ("结果", "Result"),
    "reason": ("原因", "Reason"),
    "team": ("团队", "Team"),
    "loan_id": ("贷款", "Loan"),
    "customer_id": ("客户", "Customer"),
    "owner_id": ("负责人", "Owner"),
    "assignee_id": ("负责人", "Assignee"),
    "collector_id": ("催收员", "Collector"),
    "department_id": ("部门", "Department"),
}
_SKIP = {"id", "request_hash", "idempotency_key", "allocations", "payload", "data"}


class IntrospectedType(RecordType):
    """A model from another app, described by its columns (repayments, collection cases)."""

    def _columns(self) -> list[models.Field[Any, Any]]:
        model = self.model()
        if model is None:
            return []
        out = []
        for f in model._meta.concrete_fields:
            name = f.attname
            if name in _SKIP or isinstance(f, models.JSONField | models.BinaryField):
                continue
            out.append(f)
        return out

    def _type(self, f: models.Field[Any, Any]) -> str:
        if f.choices:
            return "select"
        if f.attname.endswith("_fen"):
            return "money"
        if isinstance(f, models.BooleanField):
            return "switch"
        if isinstance(f, models.DateTimeField):
            return "datetime"
        if isinstance(f, models.DateField):
            return "date"
        if isinstance(f, models.IntegerField | models.DecimalField | models.FloatField):
            return "number"
        if isinstance(f, models.ForeignKey):
            related = f.related_model
            target = related._meta.label if related and not isinstance(related, str) else ""
            return "user" if target == "accounts.User" else "number"
        return "text"

    def _key(self, f: models.Field[Any, Any]) -> str:
        return f.attname[:-4] if f.attname.endswith("_fen") else f.attname

    def fields(self, form_code: str = "") -> list[FieldInfo]:
        model = self.model()
        out = []
        for f in self._columns():
            kind = self._type(f)
            zh, en = _NAMES.get(f.attname) or (
                str(f.verbose_name),
                str(f.verbose_name).capitalize(),
            )
            options = tuple((str(v), str(lbl), str(v)) for v, lbl in (f.choices or []))
            date_ok = (
                kind == "date" and model is not None and _date_query(model, f.name) is not None
            )
            out.append(FieldInfo(self._key(f), zh, en, kind, options, date_trigger=date_ok))
        return out

    def date_query(self, field_name: str, form_code: str = "") -> Q | None:
        model = self.model()
        if model is None or field_name not in self.date_fields(form_code):
            return None
        return _date_query(model, field_name)

    def base_queryset(self, form_code: str = "") -> QuerySet[Any]:
        model = self.model()
        assert model is not None
        return model._default_manager.all()

    def load(self, ids: Sequence[int], form_code: str = "") -> dict[int, dict[str, Any]]:
        model = self.model()
        if model is None:
            return {}
        cols = self._columns()
        names = [f.attname for f in cols]
        has_loan = "loan_id" in names
        extra = []
        if has_loan:
            extra = ["loan__customer_id", "loan__owner_id", "loan__department_id"]
        out: dict[int, dict[str, Any]] = {}
        for row in model._default_manager.filter(pk__in=list(ids)).values("pk", *names, *extra):
            values: dict[str, Any] = {"id": row["pk"]}
            for f in cols:
                v = row[f.attname]
                values[self._key(f)] = _money(v) if f.attname.endswith("_fen") else v
            if has_loan:
                values.setdefault("customer_id", row["loan__customer_id"])
                values.setdefault("owner_id", row["loan__owner_id"])
                values.setdefault("department_id", row["loan__department_id"])
            if "owner_id" not in values:
                for alt in ("assignee_id", "collector_id"):
                    if values.get(alt) is not None:
                        values["owner_id"] = values[alt]
                        break
            out[row["pk"]] = values
        return out

    def visible(self, actor: User, form_code: str = "") -> QuerySet[Any]:
        model = self.model()
        assert model is not None
        names = {f.name for f in model._meta.concrete_fields}
        qs = self.base_queryset(form_code)
        if "owner" in names:
            dept = "department" if "department" in names else None
            return scoped(qs, actor, ScopeSpec(owner="owner", department=dept))
        if "loan" in names:
            return scoped(qs, actor, ScopeSpec(owner="loan__owner", department="loan__department"))
        if effective_scope(actor) == DataScope.ALL:
            return qs
        return qs.none()

    def label(self, values: Mapping[str, Any]) -> str:
        for key in ("case_no", "reference", "contract_no"):
            if values.get(key):
                return f"#{values['id']} {values[key]}"
        return f"#{values.get('id')}"


class RepaymentType(IntrospectedType):
    key = "repayment"
    label_zh, label_en = "还款记录", "Repayments"
    model_label = "lending.Repayment"
    topics = {
        "loan.repayment_posted": ("收到还款", "Repayment posted"),
        "loan.repayment_reversed": ("还款红冲", "Repayment reversed"),
    }


class CollectionCaseType(IntrospectedType):
    key = "collection_case"
    scope = ScopeSpec(owner="collector", department="department")

    def visible(self, actor: User, form_code: str = "") -> QuerySet[Any]:
        return scoped(self.base_queryset(form_code), actor, self.scope)

    label_zh, label_en = "催收案件", "Collection cases"
    model_label = "postloan.CollectionCase"
    topics = {
        "collections.case_opened": ("催收案件立案", "Collection case opened"),
        "collections.case_updated": ("催收案件更新", "Collection case updated"),
    }


_TYPES: dict[str, RecordType] = {
    t.key: t
    for t in (
        CustomerType(),
        ApplicationType(),
        LoanType(),
        InstallmentType(),
        RepaymentType(),
        CollectionCaseType(),
    )
}


def record_type(key: str) -> RecordType | None:
    t = _TYPES.get(key)
    return t if t is not None and t.available() else None


def record_types() -> list[RecordType]:
    return [t for t in _TYPES.values() if t.available()]


# ---- outbox events → record events -----------------------------------------------------------


@dataclass(frozen=True)
class Mapped:
    record_type: str
    record_id: int
    kind: str  # created | updated | "" (a named event only)
    changed: frozenset[str] = frozenset()
    new_values: Mapping[str, Any] | None = None
    form_code: str = ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _changed_list(payload: Mapping[str, Any], *names: str) -> frozenset[str]:
    for name in names:
        value = payload.get(name)
        if isinstance(value, list):
            return frozenset(str(v) for v in value)
        if isinstance(value, dict):
            return frozenset(str(k) for k in value)
    return frozenset()


def map_event(
    topic: str, payload: Mapping[str, Any], aggregate_type: str, aggregate_id: str
) -> list[Mapped]:
    """The record events an outbox event stands for (an event may touch several records)."""
    agg = _int(aggregate_id)
    if topic == "customer.created":
        cid = _int(payload.get("customer_id")) or agg
        return [Mapped("customer", cid, "created")] if cid else []
    if topic == "customer.updated":
        cid = _int(payload.get("customer_id")) or agg
        changed = _changed_list(payload, "fields")
        if "owner" in changed:
            changed |= {"owner_id", "department_id"}
        return [Mapped("customer", cid, "updated", changed)] if cid else []
    if topic in ("record.created", "record.updated"):
        rid = _int(payload.get("record_id")) or agg
        form = str(payload.get("form") or "")
        kind = "created" if topic == "record.created" else "updated"
        changed = _changed_list(payload, "changed")
        return [Mapped("application", rid, kind, changed, form_code=form)] if rid else []
    loan_id = _int(payload.get("loan_id"))
    if topic == "loan.disbursed" and loan_id:
        return [Mapped("loan", loan_id, "created")]
    if topic == "loan.became_overdue" and loan_id:
        return [Mapped("loan", loan_id, "updated", frozenset({"status"}), {"status": "overdue"})]
    if topic == "loan.bucket_changed" and loan_id:
        new: dict[str, Any] = {"bucket": payload.get("to")}
        changed = frozenset({"bucket"})
        cls = payload.get("classification")
        if isinstance(cls, list) and len(cls) == 2 and cls[0] != cls[1]:
            new["classification"] = cls[1]
            changed |= {"classification"}
        return [Mapped("loan", loan_id, "updated", changed, new)]
    if topic == "loan.closed" and loan_id:
        return [Mapped("loan", loan_id, "updated", frozenset({"status"}), {"status": "closed"})]
    if topic == "loan.installment_due_soon" and loan_id:
        return _installments_of(loan_id, payload.get("seqs"))
    if topic in ("loan.repayment_posted", "loan.repayment_reversed"):
        out: list[Mapped] = []
        rep = _int(payload.get("repayment_id"))
        if rep is None and aggregate_type.endswith("repayment"):
            rep = agg
        if rep:
            if topic == "loan.repayment_posted":
                out.append(Mapped("repayment", rep, "created"))
            else:
                out.append(Mapped("repayment", rep, "updated", frozenset({"status"})))
        if loan_id:
            out.append(Mapped("loan", loan_id, ""))
        return out
    if topic in ("collections.case_opened", "collections.case_updated"):
        case = _int(payload.get("case_id"))
        if case is None and "case" in aggregate_type:
            case = agg
        if not case:
            return []
        if topic == "collections.case_opened":
            return [Mapped("collection_case", case, "created")]
        changed = _changed_list(payload, "fields", "changed")
        changed |= _CASE_CHANGES.get(str(payload.get("change") or ""), frozenset())
        return [Mapped("collection_case", case, "updated", changed)]
    return []


_CASE_CHANGES = {
    "reassigned": frozenset({"collector_id", "team_id", "owner_id"}),
    "escalated": frozenset({"team_id", "collector_id", "owner_id", "bucket"}),
    "closed": frozenset({"status", "close_reason"}),
    "action": frozenset({"last_result", "last_action_at"}),
    "promise": frozenset({"status", "promise_date"}),
    "repayment": frozenset({"overdue", "status"}),
}


def _installments_of(loan_id: int, seqs: Any) -> list[Mapped]:
    from loandesk.lending.models import Installment

    if not isinstance(seqs, list):
        return []
    wanted = [s for s in seqs if isinstance(s, int) and not isinstance(s, bool)]
    ids = Installment.objects.filter(loan_id=loan_id, seq__in=wanted).values_list("pk", flat=True)
    return [Mapped("installment", pk, "") for pk in ids]


def topics() -> list[str]:
    """Every topic the rule engine listens to."""
    out: list[str] = []
    for t in _TYPES.values():
        out.extend(t.topics)
    return sorted(set(out))


def values_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Record values as JSON for the API and the firing log (Decimal → text, dates → ISO)."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, Decimal):
            out[k] = str(v)
        elif isinstance(v, datetime | date):
            out[k] = v.isoformat()
        elif isinstance(v, dict | list | str | int | float | bool) or v is None:
            out[k] = v
        else:
            out[k] = str(v)
    return out


def iter_chunks(items: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
