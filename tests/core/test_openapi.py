"""The OpenAPI document: one component per schema class, the error shape on every operation."""

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def doc(db: None) -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _ok_schema(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    ok = doc["paths"][f"/api/v1{path}"][method]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"]
    return doc["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


def test_same_named_classes_of_two_apps_keep_their_own_components(doc: dict[str, Any]) -> None:
    # postloan.schemas.SettingsOut and notify.schemas.SettingsOut used to share one component,
    # so GET /postloan/settings was documented with the notification settings' fields.
    postloan = _ok_schema(doc, "/postloan/settings")
    notify = _ok_schema(doc, "/notify/settings")
    assert {"buckets", "thresholds"} <= set(postloan["properties"])
    assert "quiet_enabled" not in postloan["properties"]
    assert "quiet_enabled" in notify["properties"]
    assert "buckets" not in notify["properties"]


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    names = {f"#/components/schemas/{name}" for name in doc["components"]["schemas"]}
    assert refs and refs <= names, sorted(refs - names)


def test_every_operation_documents_the_error_shape(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "details"}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            refusal = operation["responses"].get("4XX")
            assert refusal, (method, path)
            schema = refusal["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)


def test_an_error_answer_matches_the_documented_shape(doc: dict[str, Any]) -> None:
    body = Client().get("/api/v1/customers").json()  # not signed in
    error = doc["components"]["schemas"]["Error"]
    assert set(body) == set(error["properties"])
    assert body["code"] == "auth.not_authenticated"
