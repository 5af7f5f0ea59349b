"""Contract templates (issue #5): the template language, the PDF, generating and storing the
contract of an application, and the flow's automated `generate_contract` step.

No PDF reader is a dependency, so `pdf_text` decodes what ReportLab writes: ASCII85 + Flate
content streams whose text operands are UTF-16BE strings in the STSong-Light CID font.
"""

import base64
import hashlib
import re
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from loandesk.core.errors import Conflict, PermissionDenied, ValidationFailed
from loandesk.core.models import AuditEntry
from loandesk.core.money import to_chinese_capital
from loandesk.core.services import get_business_date
from loandesk.customers.models import Document, TimelineEvent
from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed, get_action
from loandesk.forms import services as forms
from loandesk.forms.models import Record
from loandesk.lending import contracts
from loandesk.lending.models import ContractCounter, ContractTemplate, GeneratedContract
from loandesk.lending.products import Terms, price
from tests.lending.conftest import make_product

# --- reading the PDF -------------------------------------------------------------------------

_STREAM = re.compile(
    rb"/Filter \[ /ASCII85Decode /FlateDecode \][^>]*>>\s*stream\r?\n(.*?)endstream", re.S
)
_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _streams(pdf: bytes) -> list[bytes]:
    out = []
    for match in _STREAM.finditer(pdf):
        raw = re.sub(rb"\s", b"", match.group(1))
        out.append(zlib.decompress(base64.a85decode(raw.removesuffix(b"~>"))))
    return out


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(literal):
        ch = literal[i : i + 1]
        if ch != b"\\":
            out += ch
            i += 1
            continue
        nxt = literal[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(0), 8))
            i += 1 + len(octal.group(0))
        else:
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """Every shown string of every page, in drawing order, joined without separators."""
    parts = []
    for stream in _streams(pdf):
        for match in _STRING.finditer(stream):
            parts.append(_unescape(match.group(1)).decode("utf-16-be"))
    return "".join(parts)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


# --- fixtures --------------------------------------------------------------------------------


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


def application(lending: dict[str, Any], **overrides: Any) -> Record:
    """A 贷款申请 of officer1 for their demo customer c1."""
    data: dict[str, Any] = {
        "customer": lending["c1"].pk,
        "product": "consumer",
        "amount": "100000",
        "term": 12,
        "annual_rate": "12",
        "purpose": "consumption",
        "applicant_income": "20000",
    }
    data.update(overrides)
    officer = lending["users"]["officer1"]
    record = forms.create_record(actor=officer, form_code="loan_application", data=data)
    assert record.customer_id == lending["c1"].pk
    return record


def context(record: Record, actor_id: int, **overrides: Any) -> AutomatedContext:
    values: dict[str, Any] = {
        "instance_id": 4242,
        "step_id": "contract:1",
        "node_id": "contract",
        "action": "generate_contract",
        "params": {"template": "loan_contract"},
        "data": dict(record.data),
        "record_id": record.pk,
        "form_code": "loan_application",
        "customer_id": record.customer_id,
        "initiator_id": record.owner_id,
        "actor_id": actor_id,
        "now": datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return AutomatedContext(**values)


# --- the template language -------------------------------------------------------------------


def test_every_known_placeholder_parses_and_blocks_stand_alone() -> None:
    body = "\n\n".join(
        "{{" + p.name + "}}" if p.block else f"值:{{{{{p.name}}}}}" for p in contracts.PLACEHOLDERS
    )
    blocks = contracts.parse_template("# 标题 {{contract_no}}\n\n" + body + "\n\n{{form.purpose}}")
    assert blocks[0].kind == "heading"
    assert [b.name for b in blocks if b.kind == "block"] == ["schedule_table", "signatures"]
    assert contracts.placeholders_used("{{ amount }} 元\n\n{{signatures}}") == [
        "amount",
        "signatures",
    ]


@pytest.mark.parametrize(
    ("body", "code", "name", "line"),
    [
        ("第一段\n\n借款 {{amount}} 利率 {{rate}}", "contracts.unknown_placeholder", "rate", 3),
        ("{{customer.phone}}", "contracts.unknown_placeholder", "customer.phone", 1),
        ("{{form.}}", "contracts.unknown_placeholder", "form.", 1),
        ("{{__import__('os')}}", "contracts.unknown_placeholder", "__import__('os')", 1),
        ("a\nb\n借款 {{amount", "contracts.placeholder_unclosed", "", 3),
        ("借款 amount}} 元", "contracts.placeholder_unclosed", "", 1),
        (
            "还款计划如下:{{schedule_table}}",
            "contracts.block_placeholder_alone",
            "schedule_table",
            1,
        ),
        ("# {{signatures}}", "contracts.block_in_heading", "signatures", 1),
    ],
)
def test_bad_placeholders_are_refused_with_their_line(
    db: None, body: str, code: str, name: str, line: int
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        contracts.parse_template(body)
    error = caught.value
    assert error.code == code
    assert error.details["placeholder"]["line"] == line
    assert error.details["placeholder"]["name"] == name
    offset = error.details["placeholder"]["offset"]
    assert body[offset : offset + 2] in ("{{", "}}")
    assert f"第 {line} 行" in error.details["fields"]["body"]
    if name:
        assert "{{" + name + "}}" in error.details["fields"]["body"]


def test_empty_and_oversized_bodies_are_refused(db: None) -> None:
    for body, code in (("  \n\n ", "请填写合同正文"), ("字" * 50_001, "最多 50000 个字符")):
        with pytest.raises(ValidationFailed) as caught:
            contracts.parse_template(body)
        assert code in caught.value.details["fields"]["body"]


# --- rendering -------------------------------------------------------------------------------


def test_demo_template_is_seeded_once(lending: dict[str, Any]) -> None:
    template = ContractTemplate.objects.get(code="loan_contract")
    assert (template.name, template.version, template.is_active) == ("个人借款合同", 1, True)
    used = contracts.placeholders_used(template.body)
    for name in ("amount", "amount_capital", "apr", "schedule_table", "signatures", "term"):
        assert name in used
    assert contracts.seed_demo_templates({"users": lending["users"]}) == 0
    assert ContractTemplate.objects.count() == 1


def test_preview_is_an_a4_pdf_in_chinese_with_page_numbers(lending: dict[str, Any]) -> None:
    admin = lending["users"]["admin"]
    pdf = contracts.preview_contract(actor=admin, template_code="loan_contract")
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4
    pages = page_count(pdf)
    assert pages == 2
    # The CID font is named, not embedded: no font file, nothing fetched.
    assert b"/BaseFont /STSong-Light" in pdf and b"/Encoding /UniGB-UCS2-H" in pdf
    assert b"/FontFile" not in pdf
    assert set(re.findall(rb"/BaseFont /([\w-]+)", pdf)) == {b"STSong-Light"}  # the only font
    text = pdf_text(pdf)
    assert text.startswith("个人借款合同")
    for phrase in (
        "壹拾万元整",
        "￥100,000.00",
        "个人消费贷",
        "张三",
        "日常消费",
        "第八条 争议解决",
        "信贷通示范小额贷款有限公司",
        "甲方(贷款人)",
        "乙方(借款人)",
    ):
        assert phrase in text, phrase
    for n in range(1, pages + 1):
        assert f"第 {n} 页 共 {pages} 页" in text
    consumer = lending["products"]["consumer"]
    terms = Terms(Decimal(100000), 12, Decimal(12), get_business_date())
    priced = price(consumer, terms)
    assert "年化利率(APR" in text
    assert f"{priced.apr.quantize(Decimal('0.01'))}%" in text
    assert f"{priced.result.installment:,.2f}" in text


def test_schedule_table_sums_exactly_to_the_principal(lending: dict[str, Any]) -> None:
    # An awkward amount with a per-period fee, so rounding and the fee column are exercised.
    product = make_product(method="equal_principal", period_fee_fen=1_234)
    priced = price(product, Terms(Decimal("99999.99"), 7, Decimal("13.3"), get_business_date()))
    table = contracts.schedule_table(priced, contracts._styles())
    cells = table._cellvalues
    assert cells[0] == ["期次", "还款日", "应还本金", "应还利息", "费用", "应还合计", "剩余本金"]
    body, total = cells[1:-1], cells[-1]
    assert len(body) == 7 and total[0] == "合计"

    def money(text: str) -> Decimal:
        return Decimal(text.replace(",", ""))

    principal = sum((money(r[2]) for r in body), Decimal(0))
    assert principal == Decimal("99999.99") == money(total[2])
    for col in (3, 4, 5):
        assert sum((money(r[col]) for r in body), Decimal(0)) == money(total[col])
    assert money(body[-1][6]) == 0
    for r in body:
        assert money(r[2]) + money(r[3]) + money(r[4]) == money(r[5])


def test_the_pdf_is_deterministic_and_dated_by_the_business_date(lending: dict[str, Any]) -> None:
    admin = lending["users"]["admin"]
    first = contracts.preview_contract(actor=admin, template_code="loan_contract")
    again = contracts.preview_contract(actor=admin, template_code="loan_contract")
    assert first == again
    other = contracts.preview_contract(
        actor=admin, template_code="loan_contract", values={"amount": "100001"}
    )
    assert other != first
    ids = [re.search(rb"/ID\s*\[(<[0-9a-f]+>)", pdf) for pdf in (first, other)]
    assert ids[0] and ids[1] and ids[0].group(1) != ids[1].group(1)
    day = get_business_date()
    assert f"/CreationDate (D:{day:%Y%m%d}000000+08'00')".encode() in first


def test_admin_text_and_values_are_escaped_never_markup(lending: dict[str, Any]) -> None:
    admin = lending["users"]["admin"]
    body = "# 条款 <b>粗体</b> & 号\n\n借款人:{{customer.name}}\n换行后 {{form.note}}"
    pdf = contracts.preview_contract(
        actor=admin,
        template_code="loan_contract",
        body=body,
        values={"customer_name": "A&B <font size=40>X</font>", "form": {"note": "<br/>"}},
    )
    text = pdf_text(pdf)
    assert "条款 <b>粗体</b> & 号" in text
    assert "A&B <font size=40>X</font>" in text
    assert "<br/>" in text


def test_preview_refuses_bad_values_with_field_messages(lending: dict[str, Any]) -> None:
    admin = lending["users"]["admin"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": "abc"}, "amount"),
        ({"amount": 1000.5}, "amount"),
        ({"amount": "1"}, "amount"),  # below the product's minimum
        ({"term": "x"}, "term"),
        ({"term": 99}, "term"),
        ({"annual_rate": "40"}, "annual_rate"),
        ({"product": "nope"}, "product"),
        ({"customer_name": "名" * 201}, "customer_name"),
        ({"form": ["x"]}, "form"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationFailed) as caught:
            contracts.preview_contract(actor=admin, template_code="loan_contract", values=values)
        assert field in caught.value.details["fields"], (values, caught.value.details)


# --- template writes -------------------------------------------------------------------------


def test_update_bumps_the_version_audits_and_refuses_stale_saves(lending: dict[str, Any]) -> None:
    admin = lending["users"]["admin"]
    template = contracts.update_template(
        actor=admin, code="loan_contract", data={"name": "借款合同(2026版)"}, expected_version=1
    )
    assert (template.version, template.name, template.updated_by) == (2, "借款合同(2026版)", admin)
    entry = AuditEntry.objects.filter(action="record.update", target_id=str(template.pk)).get()
    assert entry.changes["name"] == ["个人借款合同", "借款合同(2026版)"]
    assert entry.changes["version"] == [1, 2]
    same = contracts.update_template(
        actor=admin, code="loan_contract", data={"name": "借款合同(2026版)"}
    )
    assert same.version == 2  # nothing changed, no new version
    with pytest.raises(Conflict):
        contracts.update_template(
            actor=admin, code="loan_contract", data={"name": "旧版本"}, expected_version=1
        )
    with pytest.raises(ValidationFailed):
        contracts.update_template(actor=admin, code="loan_contract", data={"body": "{{oops}}"})
    assert ContractTemplate.objects.get(code="loan_contract").version == 2
    with pytest.raises(PermissionDenied):
        contracts.update_template(
            actor=lending["users"]["officer1"], code="loan_contract", data={"name": "x"}
        )


# --- generating and storing ------------------------------------------------------------------


def test_generate_stores_one_customer_document_and_a_timeline_event(
    lending: dict[str, Any],
) -> None:
    officer = lending["users"]["officer1"]
    customer = lending["c1"]
    record = application(lending)
    day = get_business_date()
    contract, created = contracts.generate_contract(actor=officer, record=record)
    assert created
    assert re.fullmatch(rf"HT{day:%Y%m%d}\d{{4}}", contract.contract_no)
    document = Document.objects.get(customer=customer, kind="contract")
    assert contract.document == document
    assert document.original_name == f"{contract.contract_no}-个人借款合同.pdf"
    assert document.content_type == "application/pdf"
    with default_storage.open(document.file.name, "rb") as fh:
        pdf = fh.read()
    assert hashlib.sha256(pdf).hexdigest() == contract.sha256 == document.sha256
    assert (contract.template_version, contract.amount_fen, contract.record) == (
        1,
        10_000_000,
        record,
    )
    text = pdf_text(pdf)
    assert contract.contract_no in text and customer.name in text
    if customer.id_number:
        assert customer.id_number in text  # the full number, decrypted
    assert "日常消费" in text  # {{form.purpose}}: the option's label
    events = TimelineEvent.objects.filter(customer=customer, kind="contract_generated")
    assert events.count() == 1
    assert events.get().params["contract_no"] == contract.contract_no
    entry = AuditEntry.objects.get(action="contract.generate")
    assert entry.extra["unmasked"] == ["customer.id_number"]
    # Without a flow step each call is a new contract (a new number).
    second, created = contracts.generate_contract(actor=officer, record=record)
    assert created and second.contract_no != contract.contract_no


def test_generate_needs_update_rights_on_the_customer(lending: dict[str, Any]) -> None:
    record = application(lending)
    for name in ("officer2", "collector"):
        with pytest.raises(PermissionDenied):
            contracts.generate_contract(actor=lending["users"][name], record=record)
    assert not GeneratedContract.objects.exists()
    assert not Document.objects.filter(kind="contract").exists()


def test_the_automated_step_is_registered_and_idempotent(lending: dict[str, Any]) -> None:
    risk = lending["users"]["risk"]
    record = application(lending)
    action = get_action("generate_contract")
    assert action is contracts.run_generate_contract
    # The approved terms in the instance data win over the application's.
    ctx = context(
        record,
        risk.pk,
        data={**record.data, "amount": "50000", "term": "6", "annual_rate": "9.6"},
    )
    result = action(ctx)
    contract = GeneratedContract.objects.get()
    assert result == {
        "document_id": contract.document_id,
        "contract_no": contract.contract_no,
        "file_name": f"{contract.contract_no}-个人借款合同.pdf",
        "template": "loan_contract",
        "sha256": contract.sha256,
    }
    assert (contract.instance_id, contract.step_id, contract.created_by) == (
        4242,
        "contract:1",
        risk,
    )
    with default_storage.open(contract.document.file.name, "rb") as fh:
        text = pdf_text(fh.read())
    assert to_chinese_capital(50000) in text and "9.60%" in text
    counter = ContractCounter.objects.get().last
    # A re-run of the same step returns the first result and stores nothing.
    assert action(ctx) == result
    assert GeneratedContract.objects.count() == 1
    assert Document.objects.filter(kind="contract").count() == 1
    assert TimelineEvent.objects.filter(kind="contract_generated").count() == 1
    assert ContractCounter.objects.get().last == counter
    # Another step of the same instance is another contract.
    action(context(record, risk.pk, step_id="contract:2"))
    assert GeneratedContract.objects.count() == 2


def _fails(ctx: AutomatedContext) -> AutomatedStepFailed:
    with pytest.raises(AutomatedStepFailed) as caught:
        contracts.run_generate_contract(ctx)
    return caught.value


def test_the_automated_step_fails_with_clear_codes_and_writes_nothing(
    lending: dict[str, Any],
) -> None:
    risk = lending["users"]["risk"].pk
    record = application(lending)
    assert _fails(context(record, risk, data={"product": "business"})).code == (
        "contracts.no_product"
    )
    failed = _fails(context(record, risk, data={"amount": "5000000"}))
    assert failed.code == "contracts.bad_terms" and "amount" in failed.params["errors"]
    assert _fails(context(record, risk, data={"term": "abc"})).code == "contracts.bad_terms"
    assert _fails(context(record, risk, params={"template": "none"})).code == (
        "contracts.template_not_found"
    )
    assert _fails(context(record, risk, params={"template": 7})).code == "contracts.bad_params"
    assert _fails(context(record, risk, record_id=None)).code == "contracts.no_record"
    assert _fails(context(record, risk, record_id=10**9)).code == "contracts.no_record"
    assert _fails(context(record, 10**9)).code == "contracts.no_actor"
    ContractTemplate.objects.filter(code="loan_contract").update(is_active=False)
    assert _fails(context(record, risk)).code == "contracts.template_inactive"
    ContractTemplate.objects.filter(code="loan_contract").update(is_active=True)
    Record.objects.filter(pk=record.pk).update(customer=None)
    record.refresh_from_db()
    assert _fails(context(record, risk)).code == "contracts.no_customer"
    assert not GeneratedContract.objects.exists()
    assert not Document.objects.filter(kind="contract").exists()
    assert not ContractCounter.objects.exists()
