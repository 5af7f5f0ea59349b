"""The flows API as the phone uses it: detail, inbox lists and counts per user, visibility,
the authorization matrix, bad input, designer, public status and analytics."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from loandesk.flows import services
from loandesk.flows.models import FlowInstance, FlowTask
from loandesk.forms.selectors import public_status
from tests.flows.conftest import Flows

BASE = "flows"


def test_instance_detail_for_the_approver(flows: Flows, client_for: Any) -> None:
    inst = flows.submit(amount="150000")
    inst = flows.act(inst, "manager", comment="同意")
    risk = client_for("risk")
    body = risk.get(f"{BASE}/instances/{inst.pk}").json()
    assert body["status"] == "running" and body["status_label"] == "审批中"
    assert body["current_node"] == {"id": "risk_review", "name": "风控审核"}
    assert body["flow"]["key"] == "loan_approval"
    assert body["initiator"]["department"] == "北京一组"
    task = body["my_task"]
    assert task["node_id"] == "risk_review"
    assert "approve" in task["actions"] and "add_signer_before" in task["actions"]
    assert {o["id"] for o in task["return_options"]} == {"initiator", "manager_review"}
    assert set(task["editable_fields"]) >= {"amount", "term", "annual_rate"}
    fields = {f["key"]: f for f in body["record"]["fields"]}
    assert fields["amount"]["permission"] == "edit" and fields["purpose"]["permission"] == "read"
    assert body["customer"]["id_number_masked"].count("*") >= 8
    assert isinstance(body["risk"], dict)
    assert next(h["action"] for h in body["history"]) == "submitted"
    approved = next(h for h in body["history"] if h["action"] == "approved")
    assert approved["actor"]["name"] == "李经理" and approved["action_label"] == "同意"
    assert approved["comment"] == "同意"
    progress = {p["node_id"]: p for p in body["progress"]}
    assert progress["risk_review"]["status"] == "current"
    assert progress["risk_review"]["waiting_for"][0]["name"] == "孙风控"
    assert progress["gm_review"]["status"] == "skipped"  # predicted from the amount
    assert body["can_retry"] is False and body["can_cancel"] is False


def test_act_through_the_api(flows: Flows, client_for: Any) -> None:
    inst = flows.submit()
    task = flows.task(inst, "manager")
    manager = client_for("manager")
    r = manager.post(
        f"{BASE}/instances/{inst.pk}/act",
        {"task_id": task.pk, "action": "approve", "comment": "同意", "expected_version": 1},
    )
    assert r.status_code == 200, r.content
    assert r.json()["version"] == 2 and r.json()["my_task"] is None
    again = manager.post(
        f"{BASE}/instances/{inst.pk}/act", {"task_id": task.pk, "action": "approve"}
    )
    assert again.status_code == 409 and again.json()["code"] == "flow.task_closed"
    assert again.json()["message"] == "该待办已处理"


def test_bad_input_is_a_4xx_and_writes_nothing(flows: Flows, client_for: Any) -> None:
    inst = flows.submit()
    task = flows.task(inst, "manager")
    manager = client_for("manager")
    url = f"{BASE}/instances/{inst.pk}/act"
    for body, status in [
        ({"task_id": "x", "action": "approve"}, 422),
        ({"action": "approve"}, 422),
        ({"task_id": task.pk}, 422),
        ({"task_id": task.pk, "action": "approve", "comment": "x" * 5000}, 422),
        ({"task_id": task.pk, "action": "approve", "expected_version": 10**30}, 422),
        ({"task_id": 10**30, "action": "approve"}, 422),
        ({"task_id": task.pk, "action": "approve", "data": [1, 2]}, 422),
        ({"task_id": task.pk, "action": "approve", "data": {"amount": "1e400"}}, 422),
        ({"task_id": task.pk, "action": "approve", "attachments": "nope"}, 422),
        ({"task_id": task.pk, "action": "approve", "signature": "javascript:1"}, 422),
        ({"task_id": task.pk, "action": "transfer", "target": None}, 422),
        ({"task_id": task.pk, "action": "nope"}, 422),
    ]:
        r = manager.post(url, body)
        assert r.status_code == status, (body, r.content)
        assert r.json()["message"]
    assert manager.post(url, "{not json").status_code == 400
    assert flows.refresh(inst).state_version == 1
    assert FlowTask.objects.get(pk=task.pk).status == "open"
    assert manager.get(f"{BASE}/inbox/todo", {"cursor": "!!!"}).status_code == 422
    assert manager.get(f"{BASE}/inbox/mine", {"status": "weird"}).status_code == 422


def test_inbox_lists_and_counts_per_user(flows: Flows, client_for: Any) -> None:
    a = flows.submit(customer_n=0)
    b = flows.submit(customer_n=1, amount="50000")
    flows.submit(owner="officer2")
    flows.act(b, "manager", "reject")
    manager = client_for("manager")
    counts = manager.get(f"{BASE}/inbox/counts").json()
    assert counts == {"todo": 1, "done": 1, "cc_unread": 0, "mine_running": 0}
    todo = manager.get(f"{BASE}/inbox/todo").json()
    assert [i["instance_id"] for i in todo["items"]] == [a.pk]
    item = todo["items"][0]
    assert item["node_name"] == "业务经理初审" and item["amount"] == "120000.00"
    assert item["can_batch"] is True and item["overdue"] is False and todo["next"] is None
    done = manager.get(f"{BASE}/inbox/done").json()["items"]
    assert done[0]["instance_id"] == b.pk and done[0]["status"] == "rejected"
    officer = client_for("officer1")
    assert officer.get(f"{BASE}/inbox/counts").json()["mine_running"] == 1
    mine = officer.get(f"{BASE}/inbox/mine").json()["items"]
    assert {m["instance_id"] for m in mine} == {a.pk, b.pk}
    waiting = next(m for m in mine if m["instance_id"] == a.pk)["waiting_for"]
    assert waiting[0]["name"] == "李经理"
    assert (
        officer.get(f"{BASE}/inbox/mine", {"status": "rejected"}).json()["items"][0]["instance_id"]
        == b.pk
    )
    assert client_for("gm").get(f"{BASE}/inbox/counts").json()["todo"] == 1
    # search by title
    assert manager.get(f"{BASE}/inbox/todo", {"q": "不存在的"}).json()["items"] == []


def test_cursor_pagination(flows: Flows, client_for: Any) -> None:
    from loandesk.flows import selectors

    for n in range(3):
        flows.submit(customer_n=n)
    manager = flows.user("manager")
    first = selectors.todo(actor=manager, cursor=None)
    assert len(first["items"]) == 3 and first["next"] is None
    selectors_page = selectors.PAGE
    selectors.PAGE = 2
    try:
        page1 = selectors.todo(actor=manager)
        page2 = selectors.todo(actor=manager, cursor=page1["next"])
    finally:
        selectors.PAGE = selectors_page
    assert len(page1["items"]) == 2 and len(page2["items"]) == 1
    ids = [i["task_id"] for i in page1["items"] + page2["items"]]
    assert len(set(ids)) == 3


def test_cc_inbox(flows: Flows, client_for: Any) -> None:
    from tests.flows.test_services import _luhn

    inst = flows.submit(amount="150000")
    flows.act(inst, "manager")
    flows.act(inst, "risk")
    flows.act(
        inst,
        "finance",
        data={
            "disbursement_account_name": "张三",
            "disbursement_account_no": _luhn("622202020011223344"),
        },
    )
    manager = client_for("manager")
    cc = manager.get(f"{BASE}/inbox/cc").json()["items"]
    assert len(cc) == 1 and cc[0]["read"] is False and cc[0]["node_name"] == "抄送支行负责人"
    assert cc[0]["flow_name"] == "贷款审批" and cc[0]["amount"] == "150000.00"
    assert cc[0]["initiator"]["name"] == flows.user("officer1").full_name
    assert cc[0]["status"] == "approved" and cc[0]["status_label"]
    assert manager.get(f"{BASE}/inbox/counts").json()["cc_unread"] == 1
    assert manager.post(f"{BASE}/inbox/cc/{cc[0]['id']}/read").status_code == 204
    assert manager.get(f"{BASE}/inbox/counts").json()["cc_unread"] == 0
    assert client_for("officer2").post(f"{BASE}/inbox/cc/{cc[0]['id']}/read").status_code == 404


def test_visibility(flows: Flows, client_for: Any) -> None:
    inst = flows.submit()
    url = f"{BASE}/instances/{inst.pk}"
    assert client_for("officer1").get(url).status_code == 200  # initiator
    assert client_for("manager").get(url).status_code == 200  # task holder
    assert client_for("risk").get(url).status_code == 200  # record scope: all
    assert client_for("admin").get(url).status_code == 200  # flows.admin
    assert client_for("officer2").get(url).status_code == 404
    assert client_for("collector").get(url).status_code == 404
    assert client_for("officer2").post(f"{url}/withdraw", {}).status_code == 404
    assert client_for("officer1").get(f"{BASE}/instances/999999").status_code == 404


ENDPOINTS: list[tuple[str, str, Any]] = [
    ("get", "definitions", None),
    ("post", "definitions", {"key": "x1", "name": "x", "form_code": "loan_application"}),
    ("get", "definitions/loan_approval", None),
    ("patch", "definitions/loan_approval", {"name": "新名称"}),
    ("put", "definitions/loan_approval/draft", {"definition": {}}),
    ("post", "definitions/loan_approval/validate", {"definition": {}}),
    ("post", "definitions/loan_approval/publish", None),
    ("get", "definitions/loan_approval/versions/1", None),
    ("get", "analytics", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_designer_and_analytics_need_their_permissions(
    flows: Flows, client_for: Any, anon: Any, method: str, path: str, body: Any
) -> None:
    call = lambda c: getattr(c, method)(f"{BASE}/{path}", body)  # noqa: E731
    assert call(anon).status_code == 401
    assert call(client_for("officer1")).status_code == 403
    expected_ok = (
        201
        if (method, path)
        in {("post", "definitions"), ("post", "definitions/loan_approval/publish")}
        else 200
    )
    if path == "definitions" and method == "post":
        expected_ok = 422  # the form is bound to the active demo flow already
    assert call(client_for("admin")).status_code == expected_ok


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "inbox/counts"),
        ("get", "inbox/todo"),
        ("get", "inbox/done"),
        ("get", "inbox/cc"),
        ("get", "inbox/mine"),
        ("get", "start-info?form_code=loan_application"),
        ("post", "instances"),
        ("post", "tasks/batch"),
        ("get", "instances/1"),
        ("post", "instances/1/act"),
        ("post", "instances/1/withdraw"),
        ("post", "instances/1/urge"),
        ("post", "instances/1/resubmit"),
        ("post", "instances/1/retry"),
        ("post", "instances/1/cancel"),
        ("post", "inbox/cc/1/read"),
    ],
)
def test_anonymous_gets_401_everywhere(anon: Any, db: None, method: str, path: str) -> None:
    assert getattr(anon, method)(f"{BASE}/{path}").status_code == 401


def test_admin_endpoints_and_start(flows: Flows, client_for: Any) -> None:
    inst = flows.submit()
    officer = client_for("officer1")
    assert officer.post(f"{BASE}/instances/{inst.pk}/cancel", {}).status_code == 403
    assert officer.post(f"{BASE}/instances/{inst.pk}/retry").status_code == 403
    body = client_for("admin").post(f"{BASE}/instances/{inst.pk}/cancel", {"comment": "x"}).json()
    assert body["status"] == "cancelled"
    r = officer.post(f"{BASE}/instances", {"record_id": inst.record_id})
    assert r.status_code == 201 and r.json()["status"] == "running"
    assert officer.post(f"{BASE}/instances", {"record_id": inst.record_id}).status_code == 409
    assert officer.post(f"{BASE}/instances", {"record_id": "abc"}).status_code == 422
    info = officer.get(f"{BASE}/start-info", {"form_code": "loan_application"}).json()
    assert info["flow_key"] == "loan_approval" and info["choice_nodes"] == []
    assert officer.get(f"{BASE}/start-info", {"form_code": "customer_profile"}).status_code == 404


def test_designer_round_trip(flows: Flows, client_for: Any) -> None:
    admin = client_for("admin")
    assert admin.patch(f"{BASE}/definitions/loan_approval", {"is_active": False}).status_code == 200
    r = admin.post(
        f"{BASE}/definitions",
        {"key": "simple", "name": "简单审批", "form_code": "loan_application"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["published"] is None and r.json()["draft_issues"] == []
    bad = {
        "nodes": [
            {"id": "start", "kind": "start", "name": "s"},
            {"id": "a", "kind": "approval", "name": "a"},
        ]
    }
    saved = admin.put(f"{BASE}/definitions/simple/draft", {"definition": bad}).json()
    assert saved["draft"]["nodes"][1]["id"] == "a"  # kept although invalid
    codes = {i["code"] for i in saved["issues"]}
    assert "flow.def.missing_end" in codes and all(i["message"] for i in saved["issues"])
    r = admin.post(f"{BASE}/definitions/simple/publish")
    assert r.status_code == 422 and r.json()["details"]["issues"]
    cond = {
        "nodes": [
            {"id": "start", "kind": "start", "name": "s"},
            {
                "id": "g",
                "kind": "condition_group",
                "name": "g",
                "branches": [
                    {
                        "id": "b1",
                        "name": "b1",
                        "condition": {">": [{"var": "no_such_field"}, 1]},
                        "nodes": [],
                    },
                    {"id": "b2", "name": "b2", "default": True, "nodes": []},
                ],
            },
            {"id": "end", "kind": "end", "name": "e"},
        ]
    }
    issues = admin.post(f"{BASE}/definitions/simple/validate", {"definition": cond}).json()[
        "issues"
    ]
    assert [i["code"] for i in issues] == ["flow.def.bad_condition"]
    draft = admin.get(f"{BASE}/definitions/simple").json()
    good = services.minimal_draft("simple", "简单审批")
    assert (
        admin.put(f"{BASE}/definitions/simple/draft", {"definition": good}).json()["issues"] == []
    )
    assert admin.post(f"{BASE}/definitions/simple/publish").json() == {"version": 1}
    detail = admin.get(f"{BASE}/definitions/simple").json()
    assert detail["published"]["version"] == 1 and detail["versions"][0]["instance_count"] == 0
    assert {"amount", "product"} <= {f["key"] for f in draft["form_fields"]}
    assert "disburse" in draft["automated_actions"]
    listed = {d["key"]: d for d in admin.get(f"{BASE}/definitions").json()}
    assert listed["simple"]["published_version"] == 1 and listed["simple"]["has_draft"] is False
    # records now start the new flow; running instances of the old one keep their version
    inst = flows.submit()
    assert inst.version.definition.key == "simple"


def test_public_status_shows_plain_progress(flows: Flows, anon: Any) -> None:
    inst = flows.submit()
    record = inst.record
    record.status_token = "tok-" + "x" * 30
    record.save(update_fields=["status_token"])
    assert public_status(record.status_token)["flow"]["status"] == "running"
    # through the public endpoint: nothing until the borrower proves the phone on the record
    page = anon.get(f"/api/v1/public/status/{record.status_token}").json()
    assert page["verified"] is False and "flow" not in page
    from loandesk.forms import services as form_services

    anon.client.cookies[form_services.STATUS_GRANT_COOKIE] = form_services.status_grant(record)
    page = anon.get(f"/api/v1/public/status/{record.status_token}").json()
    assert page["flow"]["status"] == "running"
    assert page["flow"]["summary"]
    labels = [s["label"] for s in page["flow"]["steps"]]
    assert labels[:2] == ["提交申请", "初审"]
    assert "李经理" not in str(page["flow"])


def test_analytics_numbers(flows: Flows, client_for: Any) -> None:
    a = flows.submit(customer_n=0)
    b = flows.submit(customer_n=1)
    c = flows.submit(customer_n=2)
    flows.act(a, "manager", "reject")
    services.withdraw(actor=flows.user("officer1"), instance_id=b.pk)
    # hand-set timings: a's task took 2 h; a finished 3 h after it started
    start = timezone.now() - timedelta(hours=10)
    FlowInstance.objects.filter(pk=a.pk).update(
        started_at=start, finished_at=start + timedelta(hours=3)
    )
    FlowInstance.objects.filter(pk=b.pk).update(
        started_at=start, finished_at=start + timedelta(hours=1)
    )
    FlowTask.objects.filter(instance=a).update(
        created_at=start, closed_at=start + timedelta(hours=2)
    )
    body = client_for("gm").get(f"{BASE}/analytics", {"flow_key": "loan_approval"}).json()
    assert body["instances"]["total"] == 3
    assert body["instances"]["rejected"] == 1 and body["instances"]["withdrawn"] == 1
    assert body["instances"]["running"] == 1
    assert body["approval_rate"] == 0.0
    # turnaround over finished instances: 3 h and 1 h → median 2, p90 = 1 + 0.9 × 2 = 2.8
    assert body["turnaround_hours"] == {"median": 2.0, "p90": 2.8}
    node = next(n for n in body["nodes"] if n["node_id"] == "manager_review")
    assert node["tasks"] == 2 and node["rejected"] == 1 and node["median_hours"] == 2.0
    manager = next(x for x in body["approvers"] if x["user"]["name"] == "李经理")
    assert manager["tasks"] == 2
    assert c.pk  # the running one is counted but has no turnaround


def test_record_leads_to_its_approval(flows: Flows, client_for: Any) -> None:
    inst = flows.submit()
    found = client_for("officer1").get(f"{BASE}/records/{inst.record_id}/instance")
    assert found.status_code == 200
    assert found.json()["id"] == inst.pk and found.json()["status"] == "running"
    # another officer may not learn that the record has an approval
    hidden = client_for("officer2").get(f"{BASE}/records/{inst.record_id}/instance")
    assert hidden.status_code == 404
    assert client_for("officer1").get(f"{BASE}/records/999999/instance").status_code == 404


def test_progress_names_branches_and_targets(flows: Flows, client_for: Any) -> None:
    inst = flows.submit(amount="120000")
    gm = flows.user("gm")
    flows.act(inst, "manager", "transfer", target=str(gm.pk), comment="请赵总看")
    body = client_for("officer1").get(f"{BASE}/instances/{inst.pk}").json()
    review = next(i for i in body["progress"] if i["node_id"] == "manager_review")
    transferred = [a for a in review["acts"] if a["action"] == "transferred"]
    assert transferred and transferred[0]["target_name"] == gm.full_name
    # walk on past the condition group: the chosen branch is named
    flows.act(inst, "gm")
    flows.act(inst, "risk")
    body = client_for("officer1").get(f"{BASE}/instances/{inst.pk}").json()
    group = next(i for i in body["progress"] if i["node_id"] == "amount_check")
    assert group["chosen_branch"] == "normal_amount"
    assert group["chosen_branch_name"] == "其他情况"


def test_analysts_may_list_flows_without_designing(flows: Flows, client_for: Any) -> None:
    listed = client_for("gm").get(f"{BASE}/definitions")
    assert listed.status_code == 200
    assert "loan_approval" in {d["key"] for d in listed.json()}
    assert client_for("officer1").get(f"{BASE}/definitions").status_code == 403
