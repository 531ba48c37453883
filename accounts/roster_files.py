"""Reading a roster file into rows of cells: CSV/TSV text, Excel .xlsx, LibreOffice .ods.

The kind of file is recognised from its bytes, not its name (a teacher's "liste.csv" may well
be a workbook). Every reader is bounded: at most ROSTER_MAX_BYTES read, at most
ROSTER_MAX_ROWS data rows kept, a workbook's members checked against their declared sizes
before anything is decompressed (a zip bomb is refused at once; Python's zipfile never
inflates a member past its declared size), XML parsed by defusedxml (no DTD entities, so no
"billion laughs"), .xlsx sheets streamed by openpyxl's read-only mode and .ods content
streamed element by element. Whatever goes wrong, the caller gets a RosterFileError with a
sentence a teacher can act on, never a traceback.

Cells keep the type the spreadsheet gave them (int, float, date, datetime, str, bool);
accounts.roster turns them into the roster's values.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import logging
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

ROSTER_MAX_BYTES = 5 * 1024 * 1024
# A year group of a large university; the confirm step carries the rows (signed, compressed).
ROSTER_MAX_ROWS = 20_000
# How many opening rows may come before the header (a title, a date, a blank line).
HEADER_SEARCH_ROWS = 10
# Columns beyond this are never read (a row with a cell in column XFD must not make 16,384).
MAX_COLUMNS = 100
# A workbook's parts, as declared in the zip directory (zipfile enforces the declared sizes).
ZIP_MAX_MEMBERS = 500
ZIP_MAX_MEMBER_BYTES = 32 * 1024 * 1024
ZIP_MAX_TOTAL_BYTES = 64 * 1024 * 1024
# This many empty rows in a row end the data: spreadsheets often carry formatted empty rows
# down to row 1,048,576, and reading them all would be work for nothing.
EMPTY_ROWS_END = 1000
# Share of control characters above which a "text" file is really a binary one.
BINARY_CONTROL_SHARE = 0.01

Cell = str | int | float | bool | datetime.date | datetime.datetime | datetime.time | None

# The encodings a teacher can force; None = detect (UTF-8, else Windows-1252, else Latin-1).
ENCODINGS: dict[str, str] = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
    "latin-1": "ISO-8859-1 (Latin-1)",
}
DELIMITERS = (";", "\t", ",")

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


class RosterFileError(Exception):
    """The file as a whole cannot be read; the message is for the teacher."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Table:
    """The first sheet (or the text file) as rows of cells, each with its spreadsheet line."""

    description: str
    rows: list[tuple[int, list[Cell]]]


def read_table(*, data: bytes, encoding: str | None = None) -> Table:
    """The rows of a roster file, whatever its kind; raises RosterFileError."""
    if len(data) > ROSTER_MAX_BYTES:
        raise RosterFileError(
            _("Fichier trop volumineux : %(max)s Mo au plus.") % {"max": _megabytes()}
        )
    if not data.strip():
        raise RosterFileError(_("Le fichier est vide."))
    if data.startswith(ZIP_MAGIC):
        return _read_workbook(data)
    if data.startswith(OLE2_MAGIC):
        raise RosterFileError(
            _(
                "Ce classeur est au format Excel 97-2003 (.xls), qui n’est pas pris en charge : "
                "enregistrez-le au format .xlsx (ou CSV) et recommencez."
            )
        )
    return _read_text(data, encoding)


def _megabytes() -> str:
    return f"{ROSTER_MAX_BYTES // (1024 * 1024)}"


def _limited(rows: Iterator[tuple[int, list[Cell]]]) -> list[tuple[int, list[Cell]]]:
    """Non-empty rows up to the header plus ROSTER_MAX_ROWS; a long run of empty ones ends."""
    kept: list[tuple[int, list[Cell]]] = []
    empty_run = 0
    for line, cells in rows:
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            empty_run += 1
            if empty_run >= EMPTY_ROWS_END:
                break
            continue
        empty_run = 0
        # Workbook rows come padded to MAX_COLUMNS: drop the empty tail once, here.
        while cells and (cells[-1] is None or cells[-1] == ""):
            cells.pop()
        kept.append((line, cells))
        if len(kept) > ROSTER_MAX_ROWS + HEADER_SEARCH_ROWS:
            raise too_many_rows()
    return kept


def too_many_rows() -> RosterFileError:
    return RosterFileError(
        _("Le fichier a plus de %(max)s lignes d’étudiants : découpez-le en plusieurs fichiers.")
        % {"max": f"{ROSTER_MAX_ROWS:,}".replace(",", "\u202f")}
    )


# --- text files -------------------------------------------------------------------------


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        try:
            return data.decode(codec), ENCODINGS.get(encoding, encoding)
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise RosterFileError(
                _(
                    "ce fichier n’est pas encodé en %(encoding)s. Choisissez "
                    "« Détection automatique » ou un autre encodage."
                )
                % {"encoding": ENCODINGS.get(encoding, encoding)},
                line,
            ) from error
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Texte Unicode" export: UTF-16 with a BOM, tab separated.
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        # What French Excel writes for "CSV (séparateur : point-virgule)".
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "ISO-8859-1 (Latin-1)"


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if "\x00" in sample:
        return True
    controls = sum(
        1
        for char in sample
        if (ord(char) < 32 and char not in "\t\r\n") or 0x7F <= ord(char) <= 0x9F
    )
    return controls > BINARY_CONTROL_SHARE * len(sample)


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits one of the opening lines (the header, below a possible title)
    into the most fields; ties: ";" then tab then ","."""
    best, best_count = ",", 1
    for delimiter in DELIMITERS:
        count = max((len(fields) for fields in csv.reader(lines, delimiter=delimiter)), default=1)
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _read_text(data: bytes, encoding: str | None) -> Table:
    if data.startswith(b"%PDF"):
        raise RosterFileError(_("Ce fichier est un PDF, pas un tableau (CSV, .xlsx ou .ods)."))
    text, encoding_name = _decode(data, encoding)
    if _looks_binary(text):
        raise RosterFileError(
            _(
                "Ce fichier n’est ni un texte CSV ni un classeur .xlsx ou .ods (contenu binaire) : "
                "exportez la liste depuis votre tableur et recommencez."
            )
        )
    opening = [line for line in text[:65536].splitlines() if line.strip()][:HEADER_SEARCH_ROWS]
    delimiter = _sniff_delimiter(opening)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        line = 1
        try:
            for fields in reader:
                yield line, list(fields[:MAX_COLUMNS])
                # A quoted field may span lines: the next record starts after this one.
                line = reader.line_num + 1
        except csv.Error as error:
            raise RosterFileError(_("ligne illisible (guillemets mal fermés ?)."), line) from error

    kind = _("TSV") if delimiter == "\t" else _("CSV")
    description = _("%(kind)s, encodage %(encoding)s, séparateur %(delimiter)s") % {
        "kind": kind,
        "encoding": encoding_name,
        "delimiter": _("tabulation")
        if delimiter == "\t"
        else _("« %(char)s »") % {"char": delimiter},
    }
    return Table(description=description, rows=_limited(rows()))


# --- workbooks --------------------------------------------------------------------------


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


def _read_workbook(data: bytes) -> Table:
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
            kept = _limited(rows)
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
    kept = _limited(_ods_rows(archive))
    return Table(description=_("Classeur OpenDocument (.ods), première feuille"), rows=kept)
