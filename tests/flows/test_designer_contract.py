"""What the designer UI relies on beyond the basic round trip (users named in the definitions,
form field hints, draft_differs, unknown field_permissions keys), the typed OpenAPI document,
and the approval attachments check."""

from typing import Any

from loandesk.flows.models import FlowHistory
from loandesk.forms.models import Upload
from loandesk.forms.services import create_form, upload
from loandesk.forms.services import publish as publish_form
from tests.flows.conftest import Flows

BASE = "flows"


def _nodes(*middle: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "kind": "start", "name": "发起"},
            *middle,
            {"id": "end", "kind": "end", "name": "结束"},
        ]
    }


def test_detail_names_the_users_the_definitions_mention(flows: Flows, client_for: Any) -> None:
    admin = client_for("admin")
    gm, risk, manager = flows.user("gm"), flows.user("risk"), flows.user("manager")
    assert admin.patch(f"{BASE}/definitions/loan_approval", {"is_active": False}).status_code == 200
    created = admin.post(
        f"{BASE}/definitions", {"key": "named", "name": "指定人", "form_code": "loan_application"}
    )
    assert created.status_code == 201, created.content
    assert created.json()["users"] == []
    published = _nodes(
        {
            "id": "a",
            "kind": "approval",
            "name": "a",
            "assignees": [{"kind": "user", "user_ids": [str(gm.pk)]}],
        }
    )
    admin.put(f"{BASE}/definitions/named/draft", {"definition": published})
    assert admin.post(f"{BASE}/definitions/named/publish").status_code == 201
    draft = _nodes(
        {
            "id": "g",
            "kind": "condition_group",
            "name": "g",
            "branches": [
                {
                    "id": "b1",
                    "name": "大额",
                    "condition": {">": [{"var": "amount"}, 100]},
                    "nodes": [
                        {
                            "id": "a",
                            "kind": "approval",
                            "name": "a",
                            "assignees": [{"kind": "role", "role": "risk"}],
                            "on_empty": "to_user",
                            "on_empty_user_id": str(risk.pk),
                        }
                    ],
                },
                {"id": "b2", "name": "其他", "default": True, "nodes": []},
            ],
        },
        {
            "id": "c",
            "kind": "cc",
            "name": "抄送",
            "recipients": [{"kind": "user", "user_ids": [str(manager.pk), "999999", "x"]}],
        },
    )
    admin.put(f"{BASE}/definitions/named/draft", {"definition": draft})
    body = admin.get(f"{BASE}/definitions/named").json()
    assert body["users"] == sorted(
        [
            {"id": gm.pk, "name": gm.full_name},
            {"id": risk.pk, "name": risk.full_name},
            {"id": manager.pk, "name": manager.full_name},
        ],
        key=lambda u: u["id"],
    )


def test_form_fields_carry_english_labels_and_user_hints(flows: Flows, client_for: Any) -> None:
    admin_user = flows.user("admin")
    create_form(
        actor=admin_user,
        code="visit",
        name="走访",
        schema={
            "fields": [
                {"key": "reviewer", "type": "user", "label": "复核人", "label_en": "Reviewer"},
                {"key": "team", "type": "department", "label": "部门"},
                {
                    "key": "kind",
                    "type": "select",
                    "label": "类型",
                    "options": [
                        {"value": "a", "label": "甲", "label_en": "A"},
                        {"value": "b", "label": "乙"},
                    ],
                },
            ]
        },
    )
    publish_form(actor=admin_user, code="visit")
    admin = client_for("admin")
    r = admin.post(f"{BASE}/definitions", {"key": "visit", "name": "走访", "form_code": "visit"})
    assert r.status_code == 201, r.content
    fields = {f["key"]: f for f in r.json()["form_fields"]}
    assert fields["reviewer"] == {
        "key": "reviewer",
        "label": "复核人",
        "label_en": "Reviewer",
        "type": "user",
        "is_user": True,
    }
    assert fields["team"]["is_user"] is False and fields["team"]["label_en"] is None
    assert fields["kind"]["options"] == [
        {"value": "a", "label": "甲", "label_en": "A"},
        {"value": "b", "label": "乙"},
    ]


def test_draft_differs_in_list_and_detail(flows: Flows, client_for: Any) -> None:
    admin = client_for("admin")
    listed = {d["key"]: d for d in admin.get(f"{BASE}/definitions").json()}
    assert listed["loan_approval"]["draft_differs"] is False
    detail = admin.get(f"{BASE}/definitions/loan_approval").json()
    assert detail["draft_differs"] is False
    same = admin.put(f"{BASE}/definitions/loan_approval/draft", {"definition": detail["draft"]})
    assert same.json()["draft_differs"] is False
    changed = {**detail["draft"], "name": "贷款审批(新)"}
    saved = admin.put(f"{BASE}/definitions/loan_approval/draft", {"definition": changed})
    assert saved.json()["draft_differs"] is True  # the designer shows 草稿已保存 from this
    listed = {d["key"]: d for d in admin.get(f"{BASE}/definitions").json()}
    assert listed["loan_approval"]["draft_differs"] is True
    assert listed["loan_approval"]["has_draft"] is True
    assert admin.get(f"{BASE}/definitions/loan_approval").json()["draft_differs"] is True


def test_field_permissions_must_name_fields_of_the_form(flows: Flows, client_for: Any) -> None:
    admin = client_for("admin")
    assert admin.patch(f"{BASE}/definitions/loan_approval", {"is_active": False}).status_code == 200
    admin.post(
        f"{BASE}/definitions", {"key": "perm", "name": "权限", "form_code": "loan_application"}
    )
    definition = _nodes(
        {
            "id": "a",
            "kind": "approval",
            "name": "a",
            "assignees": [{"kind": "role", "role": "risk"}],
            "field_permissions": {"amount": "edit", "no_such": "read"},
        }
    )
    issues = admin.post(
        f"{BASE}/definitions/perm/validate",
        {"definition": definition},
        HTTP_ACCEPT_LANGUAGE="en-US",
    ).json()["issues"]
    assert [(i["node_id"], i["code"], i["params"]) for i in issues] == [
        ("a", "flow.def.unknown_form_field", {"field": "no_such"})
    ]
    assert "no_such" in issues[0]["message"] and "bound form" in issues[0]["message"]
    admin.put(f"{BASE}/definitions/perm/draft", {"definition": definition})
    r = admin.post(f"{BASE}/definitions/perm/publish")
    assert r.status_code == 422 and r.json()["code"] == "flow.definition_invalid"
    assert [i["code"] for i in r.json()["details"]["issues"]] == ["flow.def.unknown_form_field"]
    assert admin.get(f"{BASE}/definitions/perm").json()["versions"] == []


def test_named_users_must_exist_and_be_active(flows: Flows, client_for: Any) -> None:
    admin = client_for("admin")
    assert admin.patch(f"{BASE}/definitions/loan_approval", {"is_active": False}).status_code == 200
    admin.post(
        f"{BASE}/definitions", {"key": "named", "name": "指定人", "form_code": "loan_application"}
    )
    risk = flows.user("risk")
    definition = _nodes(
        {
            "id": "a",
            "kind": "approval",
            "name": "a",
            "assignees": [{"kind": "user", "user_ids": [str(risk.pk), "999999"]}],
        }
    )
    issues = admin.post(f"{BASE}/definitions/named/validate", {"definition": definition}).json()
    assert [(i["node_id"], i["code"], i["params"]) for i in issues["issues"]] == [
        ("a", "flow.def.unknown_user", {"user": "999999"})
    ]
    admin.put(f"{BASE}/definitions/named/draft", {"definition": definition})
    r = admin.post(f"{BASE}/definitions/named/publish")
    assert r.status_code == 422
    assert [i["code"] for i in r.json()["details"]["issues"]] == ["flow.def.unknown_user"]
    # a deactivated user is refused too; the valid definition publishes
    risk.is_active = False
    risk.save(update_fields=["is_active"])
    one = _nodes({"id": "a", "kind": "approval", "name": "a",
                  "assignees": [{"kind": "user", "user_ids": [str(risk.pk)]}]})  # fmt: skip
    admin.put(f"{BASE}/definitions/named/draft", {"definition": one})
    assert admin.post(f"{BASE}/definitions/named/publish").status_code == 422
    risk.is_active = True
    risk.save(update_fields=["is_active"])
    assert admin.post(f"{BASE}/definitions/named/publish").status_code == 201


def test_openapi_describes_the_flow_responses(client_for: Any) -> None:
    doc = client_for("admin").get("openapi.json").json()
    schemas = doc["components"]["schemas"]

    def response_schema(path: str, method: str) -> dict[str, Any]:
        responses = doc["paths"][f"/api/v1/flows{path}"][method]["responses"]
        ok = responses.get("200") or responses["201"]
        ref = ok["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]

    detail = response_schema("/instances/{instance_id}", "get")
    assert {"id", "status", "record", "progress", "history", "my_task"} <= set(detail["properties"])
    todo = response_schema("/inbox/todo", "get")
    assert {"items", "next"} <= set(todo["properties"])
    designer = response_schema("/definitions/{key}", "get")
    assert {"users", "draft_differs", "form_fields"} <= set(designer["properties"])


def test_attachments_must_be_the_approvers_own_uploads(flows: Flows, client_for: Any) -> None:
    inst = flows.submit()
    task = flows.task(inst, "manager")
    manager = client_for("manager")
    mine = upload(actor=flows.user("manager"), content=b"%PDF-1.4 ok", name="意见.pdf")
    theirs = upload(actor=flows.user("officer1"), content=b"%PDF-1.4 no", name="other.pdf")
    url = f"{BASE}/instances/{inst.pk}/act"
    for bad in ([str(theirs.pk)], ["not-an-upload"], [str(mine.pk), str(theirs.pk)]):
        r = manager.post(url, {"task_id": task.pk, "action": "approve", "attachments": bad})
        assert r.status_code == 422, r.content
        assert r.json()["details"]["fields"]["attachments"]
    assert flows.refresh(inst).state_version == 1  # nothing written
    assert Upload.objects.get(pk=mine.pk).record_id is None
    r = manager.post(url, {"task_id": task.pk, "action": "approve", "attachments": [str(mine.pk)]})
    assert r.status_code == 200, r.content
    history = FlowHistory.objects.get(instance=inst, action="approved")
    assert history.attachments == [str(mine.pk)]
    # attached to the application, so who may see the record may open it
    assert Upload.objects.get(pk=mine.pk).record_id == inst.record_id
