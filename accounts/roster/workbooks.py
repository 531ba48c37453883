"""Reading a workbook (Excel .xlsx, LibreOffice .ods) into a Table, bounded against hostile files.

A workbook's members are checked against their declared sizes before anything is
decompressed (a zip bomb is refused at once; Python's zipfile never inflates a member past its
declared size), XML is parsed by defusedxml (no DTD entities, so no "billion laughs"), .xlsx
sheets are streamed by openpyxl's read-only mode and .ods content element by element.
"""

from __future__ import annotations

import datetime
import io
import logging
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext as _

from accounts.roster.tables import (
    EMPTY_ROWS_END,
    MAX_COLUMNS,
    ROSTER_MAX_ROWS,
    Cell,
    RosterFileError,
    Table,
    limited_rows,
)

logger = logging.getLogger(__name__)

# A workbook's parts, as declared in the zip directory (zipfile enforces the declared sizes).
ZIP_MAX_MEMBERS = 500
ZIP_MAX_MEMBER_BYTES = 32 * 1024 * 1024
ZIP_MAX_TOTAL_BYTES = 64 * 1024 * 1024

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ZIP_MAGIC = b"PK\x03\x04"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise RosterFileError(_("Ce classeur est abîmé (archive illisible).")) from error
    members = archive.infolist()
    total = sum(member.file_size for member in members)
    if (
        len(members) > ZIP_MAX_MEMBERS
        or total > ZIP_MAX_TOTAL_BYTES
        or any(member.file_size > ZIP_MAX_MEMBER_BYTES for member in members)
    ):
        logger.warning(
            "roster workbook refused members=%s uncompressed_bytes=%s", len(members), total
        )
        raise RosterFileError(
            _(
                "Ce classeur se décompresse en plus de %(max)s Mo : il est refusé. Exportez "
                "seulement la liste des étudiants (CSV, .xlsx ou .ods)."
            )
            % {"max": ZIP_MAX_TOTAL_BYTES // (1024 * 1024)}
        )
    return archive


def read_workbook(data: bytes) -> Table:
    archive = _open_zip(data)
    names = set(archive.namelist())
    try:
        if "xl/workbook.xml" in names:
            return _read_xlsx(data)
        if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
            return _read_ods(archive)
    except RosterFileError:
        raise
    except Exception as error:
        # Any failure of a parser on a hostile or broken file (entity bomb, bad CRC, truncated
        # XML, unexpected structure) is the same thing for the teacher: the file is unreadable.
        logger.warning("roster workbook unreadable: %s: %s", type(error).__name__, error)
        raise RosterFileError(
            _(
                "Ce classeur est illisible ou abîmé. Ouvrez-le dans votre tableur, "
                "enregistrez-le à nouveau et recommencez."
            )
        ) from error
    raise RosterFileError(
        _("Ce fichier compressé n’est pas un classeur .xlsx ou .ods (ni un CSV).")
    )


def _unsized_sheets() -> None:
    """Make openpyxl's read-only sheets skip their sizing pass.

    On opening, each read-only sheet looks for its <dimension> element, and a sheet without
    one (openpyxl's own write-only files, some exporters) is parsed in full just for that,
    every sheet of the workbook, before a row is read. We never use the size (the declared
    one may be wrong: reset_dimensions() below), so the pass is skipped: the first sheet is
    parsed once, the others not at all.
    """
    from openpyxl.reader import excel
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class UnsizedReadOnlyWorksheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            return None

    if excel.ReadOnlyWorksheet is ReadOnlyWorksheet:
        excel.ReadOnlyWorksheet = UnsizedReadOnlyWorksheet


def _read_xlsx(data: bytes) -> Table:
    import openpyxl  # Imported here: only .xlsx imports pay for it.

    _unsized_sheets()
    with warnings.catch_warnings():
        # "Workbook contains no default style": harmless, and about the file, not us.
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
        try:
            if not workbook.worksheets:
                raise RosterFileError(_("Ce classeur n’a aucune feuille."))
            sheet: Any = workbook.worksheets[0]
            # The declared dimensions may be wrong (some exporters write "A1"); read the cells.
            sheet.reset_dimensions()
            rows = (
                (line, list(values))
                for line, values in enumerate(
                    sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
                )
            )
            kept = limited_rows(rows)
            title = str(sheet.title)
        finally:
            workbook.close()
    return Table(
        description=_("Classeur Excel (.xlsx), première feuille « %(sheet)s »") % {"sheet": title},
        rows=kept,
    )


def _ods_cell(element: Any) -> Cell:
    value_type = element.get(f"{{{OFFICE_NS}}}value-type")
    if value_type in ("float", "percentage", "currency"):
        number = float(element.get(f"{{{OFFICE_NS}}}value", "nan"))
        return int(number) if number.is_integer() else number
    if value_type == "date":
        value = element.get(f"{{{OFFICE_NS}}}date-value", "")
        moment = datetime.datetime.fromisoformat(value)
        return moment.date() if len(value) <= 10 else moment
    if value_type == "boolean":
        return element.get(f"{{{OFFICE_NS}}}boolean-value") == "true"
    paragraphs = ["".join(p.itertext()) for p in element.iter(f"{{{TEXT_NS}}}p")]
    text = "\n".join(paragraphs)
    return text or None


def _ods_rows(archive: zipfile.ZipFile) -> Iterator[tuple[int, list[Cell]]]:
    """The first table's rows, streamed; repeated rows and cells expanded only when they hold
    something (LibreOffice writes "1,024 empty cells" as one element, which must stay one)."""
    table_tag = f"{{{TABLE_NS}}}table"
    row_tag = f"{{{TABLE_NS}}}table-row"
    cell_tags = (f"{{{TABLE_NS}}}table-cell", f"{{{TABLE_NS}}}covered-table-cell")
    rows_repeated = f"{{{TABLE_NS}}}number-rows-repeated"
    columns_repeated = f"{{{TABLE_NS}}}number-columns-repeated"
    line = 0
    depth = 0
    cells: list[Cell] = []
    pending_empty = 0
    with archive.open("content.xml") as content:
        for event, element in iterparse(content, events=("start", "end")):
            if element.tag == table_tag:
                if event == "start":
                    depth += 1
                    continue
                return  # The end of the first table: the other sheets are not read.
            if depth == 0 or event == "start":
                continue
            if element.tag in cell_tags:
                repeat = int(element.get(columns_repeated, "1"))
                value = _ods_cell(element)
                if value is None or (isinstance(value, str) and not value.strip()):
                    pending_empty += repeat
                else:
                    room = MAX_COLUMNS - len(cells)
                    cells.extend([None] * min(pending_empty, max(room, 0)))
                    pending_empty = 0
                    room = MAX_COLUMNS - len(cells)
                    cells.extend([value] * min(repeat, max(room, 0)))
                element.clear()
            elif element.tag == row_tag:
                repeat = int(element.get(rows_repeated, "1"))
                if cells:
                    for _index in range(min(repeat, ROSTER_MAX_ROWS + 2)):
                        line += 1
                        yield line, list(cells)
                    line += max(repeat - ROSTER_MAX_ROWS - 2, 0)
                else:
                    # One element for a run of empty rows: report it as at most the run that
                    # ends the data, without building each one.
                    for _index in range(min(repeat, EMPTY_ROWS_END)):
                        line += 1
                        yield line, []
                    line += max(repeat - EMPTY_ROWS_END, 0)
                cells = []
                pending_empty = 0
                element.clear()


def _read_ods(archive: zipfile.ZipFile) -> Table:
    if "content.xml" not in archive.namelist():
        raise RosterFileError(_("Ce classeur .ods est abîmé (contenu absent)."))
    kept = limited_rows(_ods_rows(archive))
    return Table(description=_("Classeur OpenDocument (.ods), première feuille"), rows=kept)
