"""Reading a roster file into a Table: the kind is recognised from its bytes, not its name.

A teacher's "liste.csv" may well be a workbook: a zip goes to accounts.roster.workbooks, an
old .xls or a PDF is refused with a sentence, and anything else is read here as CSV/TSV text
(UTF-8 with or without BOM, UTF-16 with a BOM, Windows-1252, Latin-1; ";", tab or ",").
At most ROSTER_MAX_BYTES are read and at most ROSTER_MAX_ROWS data rows kept.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from django.utils.translation import gettext as _

from accounts.roster.tables import (
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    ROSTER_MAX_BYTES,
    Cell,
    RosterFileError,
    Table,
    limited_rows,
    megabytes,
)
from accounts.roster.workbooks import ZIP_MAGIC, read_workbook

# Share of control characters above which a "text" file is really a binary one.
BINARY_CONTROL_SHARE = 0.01

# The encodings a teacher can force; None = detect (UTF-8, else Windows-1252, else Latin-1).
ENCODINGS: dict[str, str] = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
    "latin-1": "ISO-8859-1 (Latin-1)",
}
DELIMITERS = (";", "\t", ",")

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_table(*, data: bytes, encoding: str | None = None) -> Table:
    """The rows of a roster file, whatever its kind; raises RosterFileError."""
    if len(data) > ROSTER_MAX_BYTES:
        raise RosterFileError(
            _("Fichier trop volumineux : %(max)s Mo au plus.") % {"max": megabytes()}
        )
    if not data.strip():
        raise RosterFileError(_("Le fichier est vide."))
    if data.startswith(ZIP_MAGIC):
        return read_workbook(data)
    if data.startswith(OLE2_MAGIC):
        raise RosterFileError(
            _(
                "Ce classeur est au format Excel 97-2003 (.xls), qui n’est pas pris en charge : "
                "enregistrez-le au format .xlsx (ou CSV) et recommencez."
            )
        )
    return _read_text(data, encoding)


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
    return Table(description=description, rows=limited_rows(rows()))
