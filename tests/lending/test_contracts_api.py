"""The contracts API (/api/v1/contracts): template CRUD and preview for admins only, the
placeholder list for the editor, and generated contracts listed within the data scope."""

from pathlib import Path
from typing import Any

import pytest

from loandesk.lending import contracts
from loandesk.lending.models import ContractTemplate
from tests.lending.test_contracts import application, page_count, pdf_text

NEW = {
    "code": "sme_contract",
    "name": "经营借款合同",
    "body": "# 第一条 借款金额\n\n借款 {{amount}}({{amount_capital}})。\n\n{{schedule_table}}",
}


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def test_templates_are_for_admins_only(lending: dict[str, Any], client_for: Any, anon: Any) -> None:
    calls = [
        ("get", "contracts/templates", None),
        ("get", "contracts/templates/placeholders", None),
        ("get", "contracts/templates/loan_contract", None),
        ("post", "contracts/templates", NEW),
        ("patch", "contracts/templates/loan_contract", {"name": "x"}),
        ("post", "contracts/templates/loan_contract/preview", {}),
    ]
    for username in ("officer1", "manager", "risk", "finance"):
        client = client_for(username)
        for method, path, body in calls:
            response = client.request(method, path, body)
            assert response.status_code == 403, (username, method, path)
            assert response.json()["code"] == "permission_denied"
    for method, path, body in calls:
        assert anon.request(method, path, body).status_code == 401, (method, path)
    assert ContractTemplate.objects.get().name == "个人借款合同"


def test_admin_creates_lists_and_edits_a_template(lending: dict[str, Any], client_for: Any) -> None:
    admin = client_for("admin")
    response = admin.post("contracts/templates", NEW)
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["code"], created["version"], created["is_active"]) == ("sme_contract", 1, True)
    assert created["updated_by"]["name"] == "系统管理员"
    listed = admin.get("contracts/templates").json()
    assert [t["code"] for t in listed] == ["loan_contract", "sme_contract"]
    assert "body" not in listed[0]
    assert admin.post("contracts/templates", NEW).json()["details"]["fields"] == {
        "code": "模板编码已存在"
    }
    patched = admin.patch(
        "contracts/templates/sme_contract",
        {"body": NEW["body"] + "\n\n{{signatures}}", "is_active": False, "version": 1},
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["version"], patched.json()["is_active"]) == (2, False)
    stale = admin.patch("contracts/templates/sme_contract", {"name": "y", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "contracts.version_conflict"
    assert admin.get("contracts/templates/nope").status_code == 404
    assert admin.patch("contracts/templates/nope", {"name": "y"}).status_code == 404


def test_an_unknown_placeholder_is_a_422_pointing_at_it(
    lending: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    body = "借款金额 {{amount}}\n\n利率 {{ interest_rate }}"
    response = admin.patch("contracts/templates/loan_contract", {"body": body})
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "contracts.unknown_placeholder"
    assert error["message"] == "第 3 行:未知的占位符 {{interest_rate}}"
    assert error["details"]["fields"]["body"] == error["message"]
    assert error["details"]["placeholder"] == {
        "name": "interest_rate",
        "line": 3,
        "offset": body.index("{{ interest"),
        "length": len("{{ interest_rate }}"),
    }
    admin.language = "en-US"
    english = admin.post("contracts/templates", {**NEW, "body": "{{foo}}", "name": ""}).json()
    assert english["details"]["fields"] == {
        "name": "Enter a template name (at most 100 characters)",
        "body": "Line 1: unknown placeholder {{foo}}",
    }
    assert english["details"]["placeholder"]["name"] == "foo"
    template = ContractTemplate.objects.get(code="loan_contract")
    assert template.version == 1 and "interest_rate" not in template.body


@pytest.mark.parametrize(
    "body",
    [
        {"code": "bad code!", "name": "n", "body": "x"},
        {"code": "ok", "name": "n" * 101, "body": "x"},
        {"code": "ok", "name": "n", "body": ""},
        {"code": "ok", "name": "n", "body": 5},
        {"code": "ok", "name": "n", "body": "x", "is_active": "yes"},
        {"code": ["x"], "name": "n", "body": "x"},
    ],
)
def test_bad_template_input_is_a_422(
    lending: dict[str, Any], client_for: Any, body: dict[str, Any]
) -> None:
    response = client_for("admin").post("contracts/templates", body)
    assert response.status_code == 422, response.content
    assert response.json()["details"]["fields"]
    assert not ContractTemplate.objects.filter(code="ok").exists()


def test_placeholders_list_the_contract_values_and_the_form_fields(
    lending: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    items = admin.get("contracts/templates/placeholders").json()
    by_name = {i["name"]: i for i in items}
    assert by_name["amount_capital"]["label"] == "借款金额(大写)"
    assert by_name["schedule_table"]["block"] is True
    assert by_name["schedule_table"]["token"] == "{{schedule_table}}"
    assert by_name["form.purpose"]["group"] == "form"
    assert by_name["form.purpose"]["label"] == "用途"
    for item in items:
        contracts.parse_template(item["token"])  # every listed token is accepted
    admin.language = "en-US"
    english = {i["name"]: i for i in admin.get("contracts/templates/placeholders").json()}
    assert english["apr"]["label"] == "APR (IRR method)"


def test_preview_returns_a_pdf_of_the_unsaved_text(
    lending: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    response = admin.post(
        "contracts/templates/loan_contract/preview",
        {
            "body": "# 试用条款\n\n借款人 {{customer.name}},金额 {{amount_capital}}",
            "values": {
                "customer_name": "李四",
                "amount": "20000",
                "term": 6,
                "product": "consumer",
            },
        },
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Cache-Control"] == "no-store"
    pdf = response.content
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    assert "试用条款" in text and "李四" in text and "贰万元整" in text
    # The stored template did not change.
    assert ContractTemplate.objects.get(code="loan_contract").version == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"values": {"amount": "abc"}}, "amount"),
        ({"values": {"amount": 12.5}}, "amount"),
        ({"values": {"term": 0}}, "term"),
        ({"values": {"product": "nope"}}, "product"),
        ({"body": "{{nope}}"}, "body"),
    ],
)
def test_bad_preview_input_is_a_422(
    lending: dict[str, Any], client_for: Any, payload: dict[str, Any], field: str
) -> None:
    response = client_for("admin").post("contracts/templates/loan_contract/preview", payload)
    assert response.status_code == 422, response.content
    assert field in response.json()["details"]["fields"]


def test_preview_of_a_missing_template_or_a_malformed_body(
    lending: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    assert admin.post("contracts/templates/nope/preview", {}).status_code == 404
    assert admin.post("contracts/templates/loan_contract/preview", "{bad").status_code in (
        400,
        422,
    )
    assert admin.post("contracts/templates/loan_contract/preview", {"values": []}).status_code == (
        422
    )


def test_generated_contracts_are_listed_within_scope_and_downloaded_through_documents(
    lending: dict[str, Any], client_for: Any
) -> None:
    record = application(lending)
    contract, _ = contracts.generate_contract(actor=lending["users"]["officer1"], record=record)
    officer1 = client_for("officer1")
    rows = officer1.get("contracts/generated", {"record_id": record.pk}).json()
    assert [r["contract_no"] for r in rows] == [contract.contract_no]
    row = rows[0]
    assert row["download_url"] == (
        f"/api/v1/customers/{lending['c1'].pk}/documents/{contract.document_id}/file"
    )
    assert (row["template"], row["amount"], row["record_id"]) == (
        "loan_contract",
        "100000.00",
        record.pk,
    )
    download = officer1.get(row["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-1.")
    # Another branch's officer sees nothing and cannot download it.
    officer2 = client_for("officer2")
    assert officer2.get("contracts/generated", {"record_id": record.pk}).json() == []
    assert officer2.get(row["download_url"]).status_code == 404
    assert (
        len(client_for("manager").get("contracts/generated", {"record_id": record.pk}).json()) == 1
    )
    assert officer1.get("contracts/generated").status_code == 422
    assert officer1.get("contracts/generated", {"record_id": "x"}).status_code == 422
