"""Dashboard → PDF: an A4 file in Chinese (the built-in CID font only), with the title, period,
generation time and viewer, the KPI numbers of the viewer's own data scope, the charts as the
images the phone sent and table widgets as tables, several pages; bad images are 422s."""

import base64
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image, ImageDraw

from loandesk.reports.models import Dashboard
from tests.lending.test_contracts import _STRING, _streams, _unescape, page_count
from tests.reports import reference as ref

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book")]

URL = "/api/v1/reports/dashboards/{}/pdf"


def text_of(pdf: bytes) -> str:
    """The shown strings of the page content streams (image streams are skipped)."""
    parts = []
    for stream in _streams(pdf):
        if b" Tf" not in stream:
            continue
        for match in _STRING.finditer(stream):
            parts.append(_unescape(match.group(1)).decode("utf-16-be"))
    return "".join(parts)


def png_url(width: int = 600, height: int = 300, fmt: str = "PNG") -> str:
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    box = (width // 10, height // 10, width * 9 // 10, height * 9 // 10)
    ImageDraw.Draw(img).rectangle(box, fill=(25, 137, 250, 255))
    buf = io.BytesIO()
    (img if fmt == "PNG" else img.convert("RGB")).save(buf, format=fmt)
    kind = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif"}[fmt]
    return f"data:image/{kind};base64,{base64.b64encode(buf.getvalue()).decode()}"


def body_of(res: Any) -> bytes:
    return b"".join(res.streaming_content)


def yuan(fen: int) -> str:
    return f"¥{Decimal(ref.money(fen)):,.2f}"


def test_management_dashboard_pdf(book: dict[str, Any], client_for: Any) -> None:
    board = Dashboard.objects.get(code="management")
    manager = book["users"]["manager"]
    images = {"c1": png_url(), "c2": png_url(700, 350, "JPEG"), "ghost": png_url()}
    res = client_for("manager").post(URL.format(board.pk), {"images": images})
    assert res.status_code == 200
    assert res["Content-Type"] == "application/pdf"
    assert "attachment" in res["Content-Disposition"] and ".pdf" in res["Content-Disposition"]
    assert res["Cache-Control"] == "private, no-store"
    pdf = body_of(res)
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4
    assert set(re.findall(rb"/BaseFont /([\w-]+)", pdf)) == {b"STSong-Light"}
    assert b"/FontFile" not in pdf  # nothing embedded, nothing fetched
    # The two images sent for widgets of the dashboard are drawn; the unknown id is ignored.
    assert len(re.findall(rb"/Subtype /Image", pdf)) == 2
    assert page_count(pdf) >= 2
    text = text_of(pdf)
    assert text.startswith("经营驾驶舱")
    assert "生成时间" in text and "数据期间" in text
    assert (manager.full_name or manager.username) in text
    assert re.search(r"第 1 页 共 (\d+) 页", text) and "第 2 页" in text
    # KPI numbers of the manager's data scope.
    own = sum(r["outstanding_principal_fen"] for r in ref.live(ref.loans(ref.Viewer(manager))))
    assert f"贷款余额{yuan(own)}" in text
    # Charts: titles of every widget; the ranking is a table with its officers.
    assert "\u00b7" not in text  # printed as U+30FB, which the CID font has
    for title in ("贷款余额 \u30fb 按组织", "放款趋势", "转化漏斗", "产品结构", "客户经理排行"):
        assert title in text
    officers = [u.full_name for u in book["users"].values() if u.username.startswith("officer")]
    assert any(name and name in text for name in officers)


def test_pdf_follows_the_viewers_scope_and_language(book: dict[str, Any], client_for: Any) -> None:
    mine = Dashboard.objects.get(code="mine")
    officer1, officer2 = book["users"]["officer1"], book["users"]["officer2"]
    pdf = body_of(client_for("officer1").post(URL.format(mine.pk), {"images": {}}))
    text = text_of(pdf)
    own = sum(r["outstanding_principal_fen"] for r in ref.live(ref.loans(ref.Viewer(officer1))))
    other = sum(r["outstanding_principal_fen"] for r in ref.live(ref.loans(ref.Viewer(officer2))))
    assert own != other
    assert f"贷款余额{yuan(own)}" in text
    assert yuan(other) not in text
    # No chart image sent: the chart's data is printed as a table instead.
    assert b"/Subtype /Image" not in pdf and "我的放款" in text and "合计" in text
    en = client_for("officer1")
    en.language = "en-US"
    english = text_of(body_of(en.post(URL.format(mine.pk), {"images": {}})))
    assert english.startswith("My performance") and "Generated" in english
    assert "Page 1 of" in english


def test_bad_images_and_hidden_dashboards(book: dict[str, Any], client_for: Any) -> None:
    board = Dashboard.objects.get(code="management")
    manager = client_for("manager")
    tiny_gif = png_url(10, 10, "GIF")
    bad = [
        "data:text/html;base64,PGgxPmhpPC9oMT4=",
        "data:image/png;base64,not base64!",
        "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n broken").decode(),
        tiny_gif.replace("image/gif", "image/png"),  # a GIF called a PNG
        "https://example.com/chart.png",
    ]
    for url in bad:
        res = manager.post(URL.format(board.pk), {"images": {"c1": url}})
        assert res.status_code == 422, url
        assert "c1" in res.json()["details"]["fields"]["images"]
        assert "PNG" in res.json()["details"]["fields"]["images"]
    big = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"0" * 1_500_000).decode()
    assert manager.post(URL.format(board.pk), {"images": {"c1": big}}).status_code == 422
    # A body over the request limit is refused before it is read.
    huge = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"0" * 3_000_000).decode()
    assert manager.post(URL.format(board.pk), {"images": {"c1": huge}}).status_code == 413
    assert manager.post(URL.format(board.pk), {"images": "x"}).status_code == 422
    assert manager.post(URL.format(999_999), {"images": {}}).status_code == 404
    # The risk dashboard is not shared with officers: not found, not a PDF.
    risk = Dashboard.objects.get(code="risk")
    assert client_for("officer1").post(URL.format(risk.pk), {"images": {}}).status_code == 404
