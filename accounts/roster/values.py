"""A roster cell into the value the spreadsheet meant: text as a teacher sees it, a date.

An integer cell 21900401 is the text "21900401" (never "21900401.0"); a date cell is a date,
and a text date is read in any of the ACCEPTED_DATE_FORMATS.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roster.tables import Cell

ACCEPTED_DATE_FORMATS = gettext_lazy("JJ/MM/AAAA, J/M/AAAA, JJ.MM.AAAA, JJ-MM-AAAA, AAAA-MM-JJ")

DAY_FIRST = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})")
YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
TWO_DIGIT_YEAR = re.compile(r"\d{1,2}([/.\-])\d{1,2}\1\d{2}")
# Some exports add a midnight time to a date: "14/03/2005 00:00:00".
MIDNIGHT = re.compile(r"[ T]00:00(:00)?$")


def cell_text(cell: Cell) -> str:
    """A cell as the text a teacher sees: 21900401 (never 21900401.0), dates as JJ/MM/AAAA."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return _("VRAI") if cell else _("FAUX")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime.datetime):
        return f"{cell:%d/%m/%Y}" if cell.time() == datetime.time() else f"{cell:%d/%m/%Y %H:%M}"
    if isinstance(cell, datetime.date):
        return f"{cell:%d/%m/%Y}"
    return unicodedata.normalize("NFC", str(cell)).strip()


def _date_error(value: str) -> str:
    if TWO_DIGIT_YEAR.fullmatch(value):
        return _(
            "« %(value)s » : l’année doit avoir quatre chiffres. Formats acceptés : %(formats)s."
        ) % {"value": value, "formats": ACCEPTED_DATE_FORMATS}
    if DAY_FIRST.fullmatch(value) or YEAR_FIRST.fullmatch(value):
        return _("date impossible « %(value)s ». Formats acceptés : %(formats)s.") % {
            "value": value,
            "formats": ACCEPTED_DATE_FORMATS,
        }
    return _("« %(value)s » n’est pas une date. Formats acceptés : %(formats)s.") % {
        "value": value,
        "formats": ACCEPTED_DATE_FORMATS,
    }


def parse_date(cell: Cell) -> tuple[datetime.date | None, str]:
    """(the date, "") or (None, the message): a date cell, or text in an accepted format."""
    if isinstance(cell, datetime.datetime):
        return cell.date(), ""
    if isinstance(cell, datetime.date):
        return cell, ""
    value = cell_text(cell)
    text = MIDNIGHT.sub("", value)
    day_first = DAY_FIRST.fullmatch(text)
    year_first = YEAR_FIRST.fullmatch(text)
    try:
        if day_first:
            day, _separator, month, year = day_first.groups()
            return datetime.date(int(year), int(month), int(day)), ""
        if year_first:
            year, month, day = year_first.groups()
            return datetime.date(int(year), int(month), int(day)), ""
    except ValueError:
        pass
    return None, _date_error(value)
