"""The 消息 inbox API: the caller's own messages only, cursor pages, read marks, bad input 4xx."""

from typing import Any

from loandesk.accounts.models import User
from loandesk.core import outbox
from loandesk.notify import services
from loandesk.notify.models import Notification
from tests.flows.conftest import Flows


def deliver() -> None:
    while outbox.dispatch_pending():
        pass


def seed(username: str, n: int) -> list[int]:
    user = User.objects.get(username=username)
    for i in range(n):
        services.notify_users(
            user_ids=[user.pk],
            kind="message",
            title_code="notify.message.title",
            body_code="notify.message.body",
            params={"title": f"第{i}条", "text": "正文"},
            link="/approvals/1",
            dedupe_key=f"test:{i}",
        )
    return list(Notification.objects.filter(user=user).order_by("-id").values_list("pk", flat=True))


def test_submit_shows_up_in_the_approvers_inbox(flows: Flows, client_for: Any) -> None:
    inst = flows.submit()
    deliver()
    manager = client_for("manager")
    assert manager.get("notify/unread-count").json() == {"unread": 1}
    page = manager.get("notify/messages").json()
    assert page["next"] is None
    [item] = page["items"]
    assert item["kind"] == "task" and item["unread"] is True and item["read_at"] is None
    assert item["link"] == f"/approvals/{inst.pk}"
    assert set(item) == {"id", "kind", "title", "body", "link", "created_at", "read_at", "unread"}
    # reading it twice is fine; the count drops once
    res = manager.post(f"notify/messages/{item['id']}/read")
    assert res.status_code == 200 and res.json()["unread"] is False
    first_read = res.json()["read_at"]
    assert manager.post(f"notify/messages/{item['id']}/read").json()["read_at"] == first_read
    assert manager.get("notify/unread-count").json() == {"unread": 0}
    assert manager.get("notify/messages", {"unread": "true"}).json()["items"] == []
    assert len(manager.get("notify/messages", {"unread": "false"}).json()["items"]) == 1


def test_cursor_pages_newest_first(demo: Any, client_for: Any) -> None:
    ids = seed("officer1", 45)
    officer = client_for("officer1")
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str] = {"cursor": cursor} if cursor else {}
        page = officer.get("notify/messages", params).json()
        seen += [m["id"] for m in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ids and pages == 3


def test_read_all(demo: Any, client_for: Any) -> None:
    seed("officer1", 3)
    seed("officer2", 2)
    officer = client_for("officer1")
    res = officer.post("notify/messages/read-all")
    assert res.status_code == 200 and res.json() == {"updated": 3, "unread": 0}
    assert officer.post("notify/messages/read-all").json() == {"updated": 0, "unread": 0}
    # the other officer's messages are untouched
    assert client_for("officer2").get("notify/unread-count").json() == {"unread": 2}


def test_a_user_sees_only_their_own_messages(demo: Any, client_for: Any) -> None:
    [theirs, *_] = seed("officer2", 2)
    officer = client_for("officer1")
    assert officer.get("notify/messages").json()["items"] == []
    res = officer.post(f"notify/messages/{theirs}/read")
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    assert res.json()["message"] == "记录不存在或无权访问"
    assert Notification.objects.get(pk=theirs).read_at is None
    en = client_for("officer1")
    en.language = "en-US"
    assert en.post(f"notify/messages/{theirs}/read").json()["message"] == (
        "Not found, or you have no access to it"
    )
    # even an admin reads only their own inbox
    assert client_for("admin").post(f"notify/messages/{theirs}/read").status_code == 404


def test_bad_input_is_a_4xx_in_the_users_language(demo: Any, client_for: Any, anon: Any) -> None:
    officer = client_for("officer1")
    for bad in ("abc", "-1", "0", "9" * 30, "1.5"):
        res = officer.get("notify/messages", {"cursor": bad})
        assert res.status_code == 422, (bad, res.content)
        assert res.json()["details"]["fields"]["cursor"]
    res = officer.get("notify/messages", {"cursor": "abc"})
    assert "游标" in res.json()["details"]["fields"]["cursor"]
    assert officer.get("notify/messages", {"unread": "maybe"}).status_code == 422
    for path in ("x", "-1", "0", str(2**70)):
        res = officer.post(f"notify/messages/{path}/read")
        assert 400 <= res.status_code < 500, (path, res.status_code)
    assert officer.get("notify/messages/1/read").status_code == 405
    assert anon.get("notify/messages").status_code == 401
    assert anon.get("notify/unread-count").status_code == 401
    assert anon.post("notify/messages/read-all").status_code in (401, 403)
