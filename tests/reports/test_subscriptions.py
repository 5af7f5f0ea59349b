"""Scheduled report e-mails: once per day per recipient, each with their own data scope's
numbers; a catch-up after downtime sends once; weekly ones only on their weekday; bad input 4xx."""

from datetime import UTC, datetime
from html import escape as html_escape
from typing import Any

import pytest

from loandesk.accounts.models import User
from loandesk.notify.models import Delivery
from loandesk.reports.models import Dashboard, Subscription
from loandesk.reports.subscriptions import run_due
from tests.reports import reference as ref

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book")]

URL = "/api/v1/reports/dashboards/{}/subscriptions"
# 2026-11-20 in Shanghai (UTC+8)
BEFORE = datetime(2026, 11, 19, 23, 59, tzinfo=UTC)  # 07:59
AFTER = datetime(2026, 11, 20, 0, 5, tzinfo=UTC)  # 08:05
LATER = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 17:00
NEXT_DAY = datetime(2026, 11, 21, 0, 1, tzinfo=UTC)  # 11-21 08:01


@pytest.fixture
def mailable(book: dict[str, Any]) -> dict[str, Any]:
    for name in ("officer1", "officer2", "manager"):
        User.objects.filter(username=name).update(email=f"{name}@example.com")
    return book


def _subscribe(client_for: Any, users: list[User], **over: Any) -> dict[str, Any]:
    mine = Dashboard.objects.get(code="mine")
    res = client_for("admin").post(
        URL.format(mine.pk), {"users": [u.pk for u in users], "send_at": "08:00", **over}
    )
    assert res.status_code == 201, res.json()
    return res.json()


def _mails(sub_id: int) -> list[Delivery]:
    return list(Delivery.objects.filter(source=f"reports.subscription:{sub_id}").order_by("id"))


def test_daily_mail_once_per_recipient_with_their_own_numbers(
    mailable: dict[str, Any], client_for: Any
) -> None:
    officer1, officer2 = mailable["users"]["officer1"], mailable["users"]["officer2"]
    sub = _subscribe(client_for, [officer1, officer2])
    assert sub["send_at"] == "08:00" and sub["weekday"] is None
    assert run_due(BEFORE) == 0
    assert run_due(AFTER) == 2
    mails = _mails(sub["id"])
    assert [m.user_id for m in mails] == [officer1.pk, officer2.pk]
    assert {m.channel for m in mails} == {"email"}
    assert mails[0].address == "officer1@example.com"
    for mail, user in zip(mails, (officer1, officer2), strict=True):
        own = sum(r["outstanding_principal_fen"] for r in ref.live(ref.loans(ref.Viewer(user))))
        assert f"贷款余额: {ref.money(own)} 元" in mail.body, mail.body
        assert "我的业绩" in mail.subject
    assert mails[0].body != mails[1].body
    # Later the same day: nothing more.
    assert run_due(LATER) == 0
    # A catch-up after a crash between the sends and the bookkeeping: the dedupe key holds.
    Subscription.objects.filter(pk=sub["id"]).update(last_sent_on=None)
    run_due(LATER)
    assert len(_mails(sub["id"])) == 2
    # The next day: once more each.
    assert run_due(NEXT_DAY) == 2
    assert len(_mails(sub["id"])) == 4


def test_roles_weekly_and_recipients_without_mail(
    mailable: dict[str, Any], client_for: Any
) -> None:
    # 2026-11-20 is a Friday (4): a Monday subscription waits; the Friday one goes out.
    monday = _subscribe(client_for, [], roles=["manager"], weekday=0)
    friday = _subscribe(client_for, [], roles=["manager", "officer"], weekday=4)
    run_due(AFTER)
    assert _mails(monday["id"]) == []
    users = {m.user_id for m in _mails(friday["id"])}
    # Only users with an e-mail address get one; officer3 (no address) is skipped.
    assert users == {
        mailable["users"]["manager"].pk,
        mailable["users"]["officer1"].pk,
        mailable["users"]["officer2"].pk,
    }


def test_subscriptions_api_and_bad_input(
    mailable: dict[str, Any], client_for: Any, anon: Any
) -> None:
    mine = Dashboard.objects.get(code="mine")
    officer1 = mailable["users"]["officer1"]
    admin = client_for("admin")
    sub = _subscribe(client_for, [officer1])
    listed = admin.get(URL.format(mine.pk)).json()
    assert [s["id"] for s in listed] == [sub["id"]]
    assert listed[0]["users"] == [{"id": officer1.pk, "name": officer1.full_name}]
    bad = [
        {"users": [officer1.pk], "send_at": "25:00"},
        {"users": [officer1.pk], "send_at": "8:00"},
        {"users": [officer1.pk], "send_at": "08:00", "weekday": 7},
        {"users": [], "roles": [], "send_at": "08:00"},
        {"users": [99_999_999], "send_at": "08:00"},
        {"users": [2**60], "send_at": "08:00"},
        {"roles": ["ghost"], "send_at": "08:00"},
    ]
    for body in bad:
        res = admin.post(URL.format(mine.pk), body)
        assert res.status_code == 422, (body, res.json())
        assert res.json()["message"]
    assert admin.post(URL.format(mine.pk), {"users": "x", "send_at": "08:00"}).status_code == 422
    assert (
        admin.post(URL.format(999_999), {"users": [officer1.pk], "send_at": "08:00"}).status_code
        == 404
    )
    assert Subscription.objects.count() == 1
    # Officers neither design nor own the dashboard.
    officer = client_for("officer1")
    assert officer.get(URL.format(mine.pk)).status_code == 403
    assert (
        officer.post(URL.format(mine.pk), {"users": [officer1.pk], "send_at": "08:00"}).status_code
        == 403
    )
    assert officer.delete(f"/api/v1/reports/subscriptions/{sub['id']}").status_code == 403
    assert anon.get(URL.format(mine.pk)).status_code == 401
    assert admin.delete("/api/v1/reports/subscriptions/999999").status_code == 404
    assert admin.delete(f"/api/v1/reports/subscriptions/{sub['id']}").status_code == 204
    assert Subscription.objects.count() == 0


def test_mail_is_html_with_the_dashboards_data_as_xlsx(
    mailable: dict[str, Any], client_for: Any
) -> None:
    """Through the e-mail channel to a local SMTP server: multipart/alternative (text, then
    HTML with the KPI cards and the chart's table) and an .xlsx that openpyxl opens, holding
    officer1's own numbers."""
    import io
    from decimal import Decimal

    from openpyxl import load_workbook

    from loandesk.notify import deliveries
    from tests.notify.fakes import smtp_server
    from tests.notify.test_channels_delivery import XLSX, _smtp_channel

    officer1 = mailable["users"]["officer1"]
    sub = _subscribe(client_for, [officer1])
    own = sum(r["outstanding_principal_fen"] for r in ref.live(ref.loans(ref.Viewer(officer1))))
    mine = Dashboard.objects.get(code="mine")
    chart = next(w for w in mine.widgets if w["id"] == "c1")  # 我的放款, by month
    expected = client_for("officer1").post("/api/v1/reports/query", chart["query"]).json()
    with smtp_server() as (inbox, port):
        _smtp_channel(port)
        assert run_due(AFTER) == 1
        [row] = _mails(sub["id"])
        assert deliveries.deliver(row.pk, now=AFTER) == "sent"
        [mail] = inbox.messages
    assert inbox.envelopes[0].rcpt_tos == ["officer1@example.com"]
    assert "我的业绩" in str(mail["Subject"])
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attached = mail.get_payload()  # type: ignore[misc]
    plain, rich = alternative.get_payload()
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    text, html = plain.get_content(), rich.get_content()
    assert f"贷款余额: {ref.money(own)} 元" in text
    # HTML: Chinese first, inline styles only, the KPI value formatted, the chart as a table.
    assert html.index("我的业绩") < html.index("Scope of")
    assert "<style" not in html and "<script" not in html and 'style="' in html
    assert f"¥{Decimal(ref.money(own)):,.2f}" in html
    assert "我的放款" in html and "<table" in html and "合计" in html
    # The attachment: a real workbook with the same numbers.
    assert attached.get_content_type() == XLSX
    assert attached.get_filename() == "我的业绩-2026-11-20.xlsx"
    book = load_workbook(io.BytesIO(attached.get_content()))
    summary = [list(r) for r in book["概览"].iter_rows(values_only=True)]
    assert summary[0][0] == "我的业绩"
    [balance] = [r for r in summary if r[1] == "贷款余额"]
    assert balance[2] == pytest.approx(Decimal(ref.money(own)))
    sheet = [list(r) for r in book["我的放款"].iter_rows(values_only=True)]
    assert sheet[0][0] == "我的放款"
    header = sheet[2]
    assert header[0] == expected["dimension"]["label"]
    rows = sheet[3:-1]
    assert [r[0] for r in rows] == [r["label"] for r in expected["rows"]]
    key = expected["metrics"][0]["key"]
    assert [Decimal(str(r[1])) for r in rows] == [
        Decimal(r["values"][key]) for r in expected["rows"]
    ]
    assert sheet[-1][0] == "合计"
    assert Decimal(str(sheet[-1][1])) == Decimal(expected["totals"][key])


def test_mail_text_cells_are_neutralised_in_the_attachment(mailable: dict[str, Any]) -> None:
    import io

    from openpyxl import load_workbook

    from loandesk.reports.subscriptions import render_mail

    mine = Dashboard.objects.get(code="mine")
    evil = '=HYPERLINK("http://x","点我")'
    mine.widgets = [{**w, "title": evil} if w["id"] == "c1" else w for w in mine.widgets]
    mine.save()
    mail = render_mail(mine, mailable["users"]["officer1"], AFTER.date())
    book = load_workbook(io.BytesIO(mail.attachment.content), read_only=True)
    cells = [c for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r]
    assert "'" + evil in cells
    assert not any(isinstance(c, str) and c.startswith(("=", "+", "-", "@")) for c in cells)
    # In the HTML the title is text, escaped.
    assert html_escape(evil) in mail.html and evil not in mail.html
