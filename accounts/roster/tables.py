"""What every roster reader gives back and the bounds every reader keeps.

A reader (accounts.roster.files for text, accounts.roster.workbooks for .xlsx and .ods) turns
the file into a Table: rows of cells, each cell with the type the spreadsheet gave it (int,
float, date, datetime, str, bool). Whatever goes wrong, the caller gets a RosterFileError with
a sentence a teacher can act on, never a traceback.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

ROSTER_MAX_BYTES = 5 * 1024 * 1024
# A year group of a large university; the confirm step carries the rows (signed, compressed).
ROSTER_MAX_ROWS = 20_000
# How many opening rows may come before the header (a title, a date, a blank line).
HEADER_SEARCH_ROWS = 10
# Columns beyond this are never read (a row with a cell in column XFD must not make 16,384).
MAX_COLUMNS = 100
# This many empty rows in a row end the data: spreadsheets often carry formatted empty rows
# down to row 1,048,576, and reading them all would be work for nothing.
EMPTY_ROWS_END = 1000

Cell = str | int | float | bool | datetime.date | datetime.datetime | datetime.time | None


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


def megabytes() -> str:
    return f"{ROSTER_MAX_BYTES // (1024 * 1024)}"


def limited_rows(rows: Iterator[tuple[int, list[Cell]]]) -> list[tuple[int, list[Cell]]]:
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
