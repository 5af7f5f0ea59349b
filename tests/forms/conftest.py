"""Fixtures of the form engine tests: publishing forms and submitting through the API."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from stdnum import luhn
from stdnum.cn import ric, uscc

from loandesk.accounts.models import User
from loandesk.forms import services
from loandesk.forms.models import FormDefinition


def id_number(sequence: int = 1, birth: date = date(1990, 5, 17), region: str = "110105") -> str:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def uscc_number(body: str = "91110000600037341") -> str:
    return body + uscc.calc_check_digit(body)


def bank_card(body: str = "622202020011222333") -> str:
    return body + luhn.calc_check_digit(body)


def admin_user() -> User:
    return User.objects.get(username="admin")


def publish_form(
    code: str,
    fields: list[dict[str, Any]],
    *,
    name: str = "测试表单",
    kind: str = "generic",
    **schema_extra: Any,
) -> FormDefinition:
    """Create and publish a form as the demo admin (through the services, like the designer)."""
    admin = admin_user()
    schema = {"fields": fields, **schema_extra}
    if FormDefinition.objects.filter(code=code).exists():
        services.save_draft(actor=admin, code=code, schema=schema)
    else:
        services.create_form(actor=admin, code=code, name=name, kind=kind, schema=schema)
    services.publish(actor=admin, code=code)
    return FormDefinition.objects.get(code=code)


@pytest.fixture
def make_form(demo: Any) -> Callable[..., FormDefinition]:
    return publish_form


@pytest.fixture
def officer(client_for: Any) -> Any:
    return client_for("officer1")


def loan_data(**overrides: Any) -> dict[str, Any]:
    """A valid submission of the demo 贷款申请 form for a new applicant."""
    data: dict[str, Any] = {
        "applicant_name": "张三",
        "applicant_id_number": id_number(7),
        "applicant_phone": "13800138000",
        "product": "consumer",
        "amount": "100000",
        "term": 12,
        "annual_rate": "6",
        "purpose": "consumption",
        "applicant_income": "20000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
