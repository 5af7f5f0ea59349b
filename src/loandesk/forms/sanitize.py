"""A small allow-list HTML sanitiser for rich-text fields (standard library only).

Only a handful of formatting tags survive; every attribute is dropped except `href` on links
(http, https, mailto and tel only) and `colspan`/`rowspan` on table cells. Scripts, styles and
their content, comments, event handlers, `style` and unknown tags are removed; text is escaped.
"""

import html
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "b", "strong", "i", "em", "u", "s", "del", "sub", "sup", "span",
        "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "a", "hr",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
VOID_TAGS = frozenset({"br", "hr"})
DROP_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript"})
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")
CELL_ATTRS = frozenset({"colspan", "rowspan"})


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.text: list[str] = []
        self.open: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            if tag not in VOID_TAGS:
                self.skip_depth += 1
            return
        if self.skip_depth or tag not in ALLOWED_TAGS:
            return
        kept = ""
        for name, value in attrs:
            value = (value or "").strip()
            if tag == "a" and name == "href" and value.lower().startswith(SAFE_SCHEMES):
                kept += f' href="{html.escape(value, quote=True)}" rel="noopener noreferrer"'
            elif tag in ("td", "th") and name in CELL_ATTRS and value.isdigit():
                kept += f' {name}="{value}"'
        self.out.append(f"<{tag}{kept}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS and not self.skip_depth:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth or tag not in self.open:
            return
        while self.open:  # close anything left open inside it, keeping the output well formed
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.out.append(html.escape(data, quote=False))
            self.text.append(data)

    def close(self) -> None:
        super().close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")


def sanitize_html(value: str) -> str:
    parser = _Sanitiser()
    parser.feed(value)
    parser.close()
    return "".join(parser.out).strip()


def html_to_text(value: str) -> str:
    """The visible text of (already sanitised) HTML, for list columns and exports."""
    parser = _Sanitiser()
    parser.feed(value.replace("<br>", "\n").replace("</p>", "</p>\n"))
    parser.close()
    return " ".join("".join(parser.text).split())
