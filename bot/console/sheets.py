"""Spreadsheet files that Excel opens safely: XLSX through openpyxl, CSV as UTF-8 with BOM.

Text that comes from probed pages may start with ``=``, ``+``, ``-`` or ``@``; a
spreadsheet would run it as a formula. In XLSX such a cell is stored as text with a
quote prefix; in CSV it gets a leading apostrophe. Control characters XLSX cannot hold
are dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | None


class Sheet:
    """One worksheet: an optional title line, a header row, data rows."""

    def __init__(self, workbook: Workbook, name: str, *, first: bool = False) -> None:
        self.sheet = workbook.active if first else workbook.create_sheet()
        self.sheet.title = name
        self.row = 0

    def title(self, text: str, span: int) -> None:
        self.row += 1
        self.put(self.row, 1, text).font = Font(bold=True, size=14)
        if span > 1:
            self.sheet.merge_cells(
                start_row=self.row, end_row=self.row, start_column=1, end_column=span
            )

    def header(self, columns: Sequence[str], widths: Sequence[int]) -> None:
        self.row += 1
        for col, (name, width) in enumerate(zip(columns, widths, strict=True), 1):
            self.put(self.row, col, name).font = Font(bold=True)
            self.sheet.column_dimensions[get_column_letter(col)].width = width
        self.sheet.freeze_panes = self.sheet.cell(self.row + 1, 1)

    def rows(self, rows: Iterable[Sequence[Cell]]) -> None:
        for values in rows:
            self.row += 1
            for col, value in enumerate(values, 1):
                self.put(self.row, col, value).alignment = Alignment(wrap_text=True, vertical="top")

    def line(self, text: str) -> None:
        self.row += 1
        self.put(self.row, 1, text)

    def put(self, row: int, col: int, value: Cell) -> Any:
        """Write one value; text is always text, never a formula."""
        cell = self.sheet.cell(row=row, column=col)
        if isinstance(value, str):
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell.data_type = "s"
            cell.quotePrefix = value.startswith(FORMULA_PREFIXES)
        else:
            cell.value = value
        return cell


def workbook() -> Workbook:
    return Workbook()


def xlsx_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(book: Workbook, filename: str) -> Response:
    return Response(
        xlsx_bytes(book),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": attachment(filename)},
    )


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM (which makes Excel read UTF-8), formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([csv_safe(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def csv_response(columns: Sequence[str], rows: Iterable[Sequence[Cell]], filename: str) -> Response:
    return Response(
        csv_bytes(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(filename)},
    )


def csv_safe(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def attachment(filename: str) -> str:
    """A Content-Disposition naming a Chinese file, with an ASCII fallback."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
