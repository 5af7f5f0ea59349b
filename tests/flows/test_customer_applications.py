"""The customer 360 申请 tab (GET /flows/customers/{id}/applications): the customer's
applications newest first, in the caller's scope exactly as the approval detail is, a page at a
time, with each application's state in Chinese; bad input is a 4xx in Chinese."""

from typing import Any

from loandesk.accounts.models import Department, Role
from loandesk.flows import services
from loandesk.flows.models import FlowInstance
from loandesk.lending.models import Loan
from tests.factories import PASSWORD, ApiClient, make_user
from tests.flows.conftest import Flows
from tests.flows.test_services import _luhn

ROLES = ["admin", "gm", "manager", "risk", "finance", "officer1", "officer2", "collector"]


def _url(customer_id: int) -> str:
    return f"flows/customers/{customer_id}/applications"


def _all_ids(client: ApiClient, customer_id: int) -> list[int] | None:
    """Every application id the tab lists, page by page (None when the customer is a 404)."""
    ids: list[int] = []
    page = 1
    while True:
        response = client.get(_url(customer_id), {"page": page, "page_size": 2})
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["instance_id"] for row in body["items"]]
        if page * body["page_size"] >= body["count"]:
            assert len(ids) == body["count"]
            return ids
        page += 1


def _disbursed(flows: Flows) -> FlowInstance:
    inst = flows.submit(amount="150000")
    inst = flows.act(inst, "manager")
    inst = flows.act(inst, "risk")
    payee = {
        "disbursement_account_name": "张三",
        "disbursement_account_no": _luhn("622202020011223344"),
    }
    return flows.act(inst, "finance", data=payee)


def test_the_tab_lists_the_customers_applications_newest_first_with_their_state(
    flows: Flows, client_for: Any
) -> None:
    customer = flows.customer("officer1")
    disbursed = _disbursed(flows)
    rejected = flows.act(flows.submit(amount="50000", product="short_bridge"), "manager", "reject")
    returned = flows.act(flows.submit(amount="60000"), "manager", "return", target="initiator")
    withdrawn = flows.submit(amount="30000")
    services.withdraw(actor=flows.user("officer1"), instance_id=withdrawn.pk, comment="暂不需要")
    at_risk = flows.act(flows.submit(amount="120000"), "manager")
    waiting = flows.submit(amount="80000")
    other_customer = flows.submit(amount="70000", customer_n=1)

    response = client_for("officer1").get(_url(customer.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 6 and body["page"] == 1 and body["page_size"] == 20
    rows = {row["instance_id"]: row for row in body["items"]}
    newest_first = [waiting, at_risk, withdrawn, returned, rejected, disbursed]
    assert [row["instance_id"] for row in body["items"]] == [i.pk for i in newest_first]
    assert other_customer.pk not in rows

    stages = {pk: (row["stage"], row["stage_label"]) for pk, row in rows.items()}
    assert stages == {
        waiting.pk: ("running", "审批中 · 业务经理初审"),
        at_risk.pk: ("running", "审批中 · 风控审核"),
        withdrawn.pk: ("withdrawn", "已撤回"),
        returned.pk: ("returned", "已退回"),
        rejected.pk: ("rejected", "已拒绝"),
        disbursed.pk: ("disbursed", "已放款"),
    }
    loan = Loan.objects.get(customer=customer)
    row = rows[disbursed.pk]
    assert row["status"] == "approved" and row["status_label"] == "已通过"
    assert row["loan"] == {"id": loan.pk, "contract_no": loan.contract_no}
    assert row["amount"] == "150000.00" and row["product"] == "个人消费贷"
    assert row["serial_no"] == disbursed.record.serial_no and row["serial_no"].startswith("SQ")
    assert row["title"] == disbursed.title and row["flow_name"] == "贷款审批"
    assert row["initiator"] == {"id": flows.user("officer1").pk, "name": "王小明"}
    assert row["finished_at"] is not None and row["current_node"] is None
    assert rows[rejected.pk]["product"] == "短期周转贷" and rows[rejected.pk]["loan"] is None
    assert rows[waiting.pk]["current_node"] == {"id": "manager_review", "name": "业务经理初审"}
    assert rows[waiting.pk]["finished_at"] is None
    # The tab lists what the 360 header counts.
    counts = client_for("officer1").get(f"customers/{customer.pk}").json()["counts"]
    assert counts["applications"] == 6


def test_english_state_labels(flows: Flows, client_for: Any) -> None:
    customer = flows.customer("officer1")
    flows.submit()
    client = client_for("officer1")
    client.language = "en-US"
    row = client.get(_url(customer.pk)).json()["items"][0]
    assert row["stage_label"] == "In progress · 业务经理初审"
    assert row["status_label"] == "In progress"


def test_scope_is_the_approval_details_scope(flows: Flows, client_for: Any) -> None:
    """For every demo role and a same-department officer: the tab lists exactly the customer's
    applications whose detail the caller may open, and a customer out of scope is a 404."""
    mine = flows.customer("officer1")
    flows.act(flows.submit(amount="90000"), "manager")
    flows.submit(amount="40000")
    theirs = flows.customer("officer2")
    flows.submit(owner="officer2", amount="45000")
    make_user(
        "officer3",
        department=Department.objects.get(name="北京一组"),
        roles=[Role.objects.get(code="officer")],
    )
    clients = {name: client_for(name) for name in ROLES}
    clients["officer3"] = ApiClient()
    clients["officer3"].login_as("officer3", PASSWORD)

    seen: dict[str, dict[int, list[int] | None]] = {}
    for name, client in clients.items():
        seen[name] = {}
        for customer in (mine, theirs):
            listed = _all_ids(client, customer.pk)
            seen[name][customer.pk] = listed
            if listed is None:
                assert client.get(f"customers/{customer.pk}").status_code == 404, name
                continue
            openable = [
                i.pk
                for i in FlowInstance.objects.filter(customer=customer).order_by(
                    "-started_at", "-id"
                )
                if client.get(f"flows/instances/{i.pk}").status_code == 200
            ]
            assert listed == openable, (name, customer.name)

    both = FlowInstance.objects.filter(customer=mine).count()
    assert both == 2
    # The officer sees their own customer's applications, the other officer's customer is a 404.
    assert len(seen["officer1"][mine.pk] or []) == 2 and seen["officer1"][theirs.pk] is None
    assert seen["officer2"][mine.pk] is None and len(seen["officer2"][theirs.pk] or []) == 1
    # The Beijing manager sees the department's customer, not Shanghai's.
    assert len(seen["manager"][mine.pk] or []) == 2 and seen["manager"][theirs.pk] is None
    # Another officer of 北京一组 (self scope) sees neither customer.
    assert seen["officer3"] == {mine.pk: None, theirs.pk: None}
    assert len(seen["admin"][theirs.pk] or []) == 1


def test_pages(flows: Flows, client_for: Any) -> None:
    customer = flows.customer("officer1")
    made = [flows.submit(amount=str(10000 * (n + 1))).pk for n in range(5)]
    client = client_for("officer1")
    pages = [
        client.get(_url(customer.pk), {"page": n, "page_size": 2}).json() for n in (1, 2, 3, 4)
    ]
    assert [p["count"] for p in pages] == [5, 5, 5, 5]
    assert [[r["instance_id"] for r in p["items"]] for p in pages] == [
        made[4:2:-1],
        made[2:0:-1],
        made[0:1],
        [],
    ]


def test_bad_input_is_a_4xx_in_chinese(flows: Flows, client_for: Any) -> None:
    customer = flows.customer("officer1")
    client = client_for("officer1")
    for params, field, text in (
        ({"page": 0}, "page", "不能小于 1"),
        ({"page_size": 101}, "page_size", "不能大于 100"),
        ({"page": "first"}, "page", None),
    ):
        response = client.get(_url(customer.pk), params)
        assert response.status_code == 422, (params, response.content)
        body = response.json()
        assert body["code"] == "validation_error"
        assert field in body["details"]["fields"]
        if text is not None:
            assert body["details"]["fields"][field] == text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    missing = client.get(_url(10**9))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in missing.json()["message"])
    assert client.get("flows/customers/abc/applications").status_code == 404
    # Without customers.view: 403 whatever the id.
    nobody = make_user(roles=[Role.objects.create(code="nothing", name="无权限", permissions=[])])
    anon_like = ApiClient()
    anon_like.login_as(nobody.username, PASSWORD)
    assert anon_like.get(_url(customer.pk)).status_code == 403
    assert ApiClient().get(_url(customer.pk)).status_code == 401
