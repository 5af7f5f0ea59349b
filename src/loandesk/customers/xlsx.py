"""A small, fast, streaming reader for .xlsx cell values (the first worksheet).

openpyxl's read-only mode spends ~140 µs per row building cell objects; an import reads every
row of a 100,000-row sheet, so this reader walks the sheet XML with the C ElementTree parser
instead (~4× faster) and yields plain values. It understands shared strings (skipping phonetic
runs), inline strings, numbers, booleans, formula results and sparse rows/cells. Dates come back
as Excel serial numbers — no import field is a date.

Safety: the archive is checked before parsing (entry sizes, compression ratio), and the XML
parser (expat) resolves no external entities and limits entity amplification.
"""

import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import IO
from xml.etree import ElementTree as ET

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_RATIO = 200
_COL = re.compile(r"^([A-Z]+)")

Cell = str | int | float | bool | None


class XlsxError(ValueError):
    pass


def column_index(ref: str) -> int:
    """'A1' → 0, 'AB7' → 27."""
    match = _COL.match(ref)
    if match is None:
        raise XlsxError(f"bad cell reference {ref!r}")
    index = 0
    for ch in match.group(1):
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


class XlsxReader:
    def __init__(self, fh: IO[bytes]) -> None:
        try:
            self.zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise XlsxError("not a zip archive") from exc
        total = 0
        for info in self.zip.infolist():
            total += info.file_size
            if info.file_size > MAX_UNCOMPRESSED or total > MAX_UNCOMPRESSED:
                raise XlsxError("archive too large when unpacked")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise XlsxError("suspicious compression ratio")
        names = set(self.zip.namelist())
        if "xl/workbook.xml" not in names:
            raise XlsxError("not a workbook")
        self.sheet_name, self.sheet_path = self._first_sheet(names)
        self.shared = self._shared_strings(names)

    def _first_sheet(self, names: set[str]) -> tuple[str, str]:
        try:
            workbook = ET.fromstring(  # noqa: S314  (see module docstring)
                self.zip.read("xl/workbook.xml")
            )
            sheet = workbook.find(f"{NS}sheets/{NS}sheet")
            if sheet is None:
                raise XlsxError("no worksheet")
            rel_id = sheet.get(f"{REL_NS}id")
            target = None
            if "xl/_rels/workbook.xml.rels" in names:
                rels = ET.fromstring(  # noqa: S314  (see module docstring)
                    self.zip.read("xl/_rels/workbook.xml.rels")
                )
                for rel in rels.iter(f"{PKG_REL_NS}Relationship"):
                    if rel.get("Id") == rel_id:
                        target = rel.get("Target", "")
            if target:
                path = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join("xl", target))
                )
            else:
                path = "xl/worksheets/sheet1.xml"
        except ET.ParseError as exc:
            raise XlsxError("damaged workbook") from exc
        if path not in names:
            raise XlsxError("worksheet missing")
        return str(sheet.get("name") or ""), path

    def _shared_strings(self, names: set[str]) -> list[str]:
        if "xl/sharedStrings.xml" not in names:
            return []
        strings: list[str] = []
        try:
            with self.zip.open("xl/sharedStrings.xml") as fh:
                for _, el in ET.iterparse(  # noqa: S314
                    fh
                ):
                    if el.tag == f"{NS}si":
                        strings.append(_text_of(el))
                        el.clear()
        except ET.ParseError as exc:
            raise XlsxError("damaged shared strings") from exc
        return strings

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(1-based row number, values) for every row that has at least one cell."""
        row_tag, cell_tag, v_tag, is_tag = f"{NS}row", f"{NS}c", f"{NS}v", f"{NS}is"
        shared = self.shared
        columns: dict[str, int] = {}
        last_row = 0
        try:
            with self.zip.open(self.sheet_path) as fh:
                for _, el in ET.iterparse(fh):  # noqa: S314  (end events only: fastest)
                    if el.tag != row_tag:
                        continue
                    number = int(el.get("r") or last_row + 1)
                    last_row = number
                    values: list[Cell] = []
                    for position, cell in enumerate(el.iter(cell_tag)):
                        ref = cell.get("r")
                        if ref:
                            letters = ref.rstrip("0123456789")
                            col = columns.get(letters)
                            if col is None:
                                col = columns[letters] = column_index(letters)
                        else:
                            col = position
                        kind = cell.get("t")
                        value: Cell
                        if kind == "inlineStr":
                            node = cell.find(is_tag)
                            value = _text_of(node) if node is not None else ""
                        else:
                            v = cell.find(v_tag)
                            text = v.text if v is not None else None
                            if text is None:
                                value = None
                            elif kind == "s":
                                value = shared[int(text)]
                            elif kind in ("str", "e"):
                                value = text if kind == "str" else None
                            elif kind == "b":
                                value = text == "1"
                            else:
                                value = _number(text)
                        if col >= len(values):
                            values.extend([None] * (col - len(values) + 1))
                        values[col] = value
                    el.clear()  # rows already read: keep memory flat
                    yield number, values
        except (ET.ParseError, KeyError, IndexError, ValueError) as exc:
            raise XlsxError("damaged worksheet") from exc

    def close(self) -> None:
        self.zip.close()


def _text_of(node: ET.Element) -> str:
    """Text of a string item: plain <t>, or rich-text runs <r><t>; phonetic runs are skipped."""
    parts: list[str] = []
    for child in node:
        if child.tag == f"{NS}t":
            parts.append(child.text or "")
        elif child.tag == f"{NS}r":
            for t in child.iter(f"{NS}t"):
                parts.append(t.text or "")
    return "".join(parts)
