"""Roster files as teachers' programs write them, built in the test (no binaries checked in).

- xlsx_file(): a real workbook written by openpyxl (typed cells: integers, dates, text).
- ods_file(): an OpenDocument spreadsheet laid out like LibreOffice Calc writes it (mimetype
  first and stored, repeated empty cells and rows as single elements, typed cells).
- raw_xlsx(): a minimal workbook from hand-written sheet XML, for hostile files (entity bombs).
- messages(), values(): what a parse gave, as the tests compare it.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from accounts.roster.importing import RosterParse

Value = str | int | float | datetime.date | datetime.datetime | None

LEA = datetime.date(2005, 3, 14)
SEAN = datetime.date(2004, 12, 1)

FRENCH_HEADER = ["Numéro étudiant", "Nom", "Prénom", "Date de naissance", "Adresse électronique"]


def xlsx_file(
    rows: Iterable[Sequence[Value]], *, sheet: str = "Feuil1", extra_sheet: bool = False
) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(list(row))
    for cells in worksheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
    if extra_sheet:
        other = workbook.create_sheet("Autre")
        other.append(["pas", "la", "liste"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
)
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.3">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_cell(value: Value) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, datetime.date):
        shown = f"{value:%d/%m/%Y}"
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}" '
            f'calcext:value-type="date"><text:p>{shown}</text:p></table:table-cell>'
        )
    if isinstance(value, (int, float)):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}" '
            f'calcext:value-type="float"><text:p>{value}</text:p></table:table-cell>'
        )
    return (
        '<table:table-cell office:value-type="string" calcext:value-type="string">'
        f"<text:p>{escape(value)}</text:p></table:table-cell>"
    )


def ods_content(rows: Iterable[Sequence[Value]], *, doctype: str = "") -> str:
    body = []
    for row in rows:
        cells = "".join(_ods_cell(value) for value in row)
        # Calc writes the rest of the row as one element "repeated 1,018 times".
        cells += '<table:table-cell table:number-columns-repeated="1018"/>'
        body.append(f"<table:table-row>{cells}</table:table-row>")
    # ... and the rest of the sheet as one row "repeated 1,048,000 times".
    body.append(
        '<table:table-row table:number-rows-repeated="1048000">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}'
        f'<office:document-content {ODS_NS} office:version="1.3"><office:body>'
        '<office:spreadsheet><table:table table:name="Feuille1">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        + "".join(body)
        + '</table:table><table:table table:name="Feuille2"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>autre feuille</text:p>'
        "</table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )


def ods_file(rows: Iterable[Sequence[Value]] = (), *, content: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr(
            "content.xml", content or ods_content(rows), compress_type=zipfile.ZIP_DEFLATED
        )
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'  # noqa: E501
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'  # noqa: E501
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'  # noqa: E501
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'  # noqa: E501
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'  # noqa: E501
        "</Relationships>"
    ),
}


def sheet_xml(
    rows: Iterable[Sequence[str]], *, doctype: str = "", rows_xml: str = "", dimension: str = ""
) -> str:
    """A worksheet of inline-string cells (what some exporters write instead of shared strings)."""
    body = []
    for index, row in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{chr(65 + column)}{index}" t="inlineStr"><is><t>{value}</t></is></c>'
            for column, value in enumerate(row)
        )
        body.append(f'<row r="{index}">{cells}</row>')
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + f"<sheetData>{''.join(body)}{rows_xml}</sheetData></worksheet>"
    )


def raw_xlsx(sheet: str | bytes, *, padding_member_bytes: int = 0) -> bytes:
    """A workbook around `sheet`; padding_member_bytes adds a highly compressible member (a zip
    bomb's payload), streamed so that the test itself stays small in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if padding_member_bytes:
            chunk = b" " * (1024 * 1024)
            with archive.open("xl/media/padding.xml", "w", force_zip64=True) as member:
                for _index in range(padding_member_bytes // len(chunk)):
                    member.write(chunk)
    return out.getvalue()


def csv_text(rows: Iterable[Sequence[str]], *, delimiter: str = ";", newline: str = "\r\n") -> str:
    return "".join(delimiter.join(row) + newline for row in rows)


def messages(result: RosterParse) -> list[str]:
    """The errors of a parse as a teacher reads them."""
    return [str(error) for error in result.errors]


def values(result: RosterParse) -> list[tuple[object, ...]]:
    """The rows of a parse as plain tuples, line first."""
    return [
        (row.line, row.student_number, row.last_name, row.first_name, row.birth_date, row.email)
        for row in result.rows
    ]
